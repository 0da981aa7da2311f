"""倒计时看板: every open incident with each window's due time and remaining or overdue time, to the
second, refreshed every 10 seconds; `?screen=1` is the wall display (large type, pages turn by themselves)."""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

from timeline.model import WINDOW_NAMES
from yuqing.board import TONE_NAMES
from yuqing.pages import auth, common, countdown

REFRESH = timedelta(seconds=10)
SCREEN_ROWS = 8
SCREEN_SECONDS = 20
# The wall sizes its type by the screen's height and keeps every row to two lines (long titles are cut
# with an ellipsis), so that SCREEN_ROWS rows plus the header fit inside any landscape screen
# (checked in a browser at 1920×1080 and 1366×768): a row that wrapped used to push rows 6–8 off.
WALL_FIT = """<style>
.yq-screen{font-size:2.3vh!important}
.yq-screen h1{font-size:4vh!important;margin:0 0 .2em 0!important;padding:0!important}
.yq-screen .yq-sum{font-size:2.6vh!important;margin-bottom:.3em!important}
.yq-screen table{table-layout:fixed}
.yq-screen th,.yq-screen td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;padding:.25em .4em!important}
.yq-screen td>*{overflow:hidden;text-overflow:ellipsis}
.yq-screen td .yq-due{font-size:.75em}
</style>"""

wall = auth.SCREEN_KEY in st.session_state  # opened by a wall display's URL: read-only, screen mode only
screen = wall or st.query_params.get("screen") == "1"

if common.guard():
    unit_names = {u.code: u.name for u in common.units()}
    if wall:
        grant = auth.screen_grant(st.session_state[auth.SCREEN_KEY])
        unit_code = getattr(grant, "unit_code", None)
        levels: list[str] = []
        tones: list[str] = []
    elif screen:
        unit_code = st.query_params.get("unit") if st.query_params.get("unit") in unit_names else None
        levels = []
        tones = []
    else:
        st.title(common.text("DASH_BOARD_TITLE"))
        left, mid, right, last = st.columns([3, 3, 3, 1.4], vertical_alignment="bottom")
        unit_code = left.selectbox(
            "单位", options=list(unit_names), index=None, key="board_unit", format_func=lambda value: str(unit_names.get(value, value)),
            placeholder="全部单位",
        )
        levels = mid.multiselect("级别", options=list(countdown.LEVEL_CHOICES), key="board_levels", placeholder="全部级别")
        tones = right.multiselect(
            "状态", options=list(TONE_NAMES), format_func=lambda value: str(TONE_NAMES.get(value, value)), key="board_tones", placeholder="全部状态"
        )
        screen_params = {"screen": "1", **({"unit": unit_code} if unit_code else {})}
        last.page_link(common.PAGE_BOARD, label="大屏模式", icon=":material/tv:", query_params=screen_params)

    @st.fragment(run_every=REFRESH)
    def board() -> None:
        if not auth.still_logged_in():
            st.rerun(scope="app")
        now = common.now()
        rows = countdown.board_rows(common.open_incidents(unit_code), now, tones=tones, levels=levels)
        counts = countdown.tone_counts(rows)
        st.html(countdown.STYLE)
        if screen:
            shown, page, pages = countdown.screen_page(rows, now, per_page=SCREEN_ROWS, seconds_per_page=SCREEN_SECONDS)
            st.markdown(
                countdown.screen_html(shown, now=now, page=page, pages=pages, total=len(rows), counts=counts)
                + WALL_FIT,
                unsafe_allow_html=True,
            )
            return
        cols = st.columns(4)
        cols[0].metric("处置中舆情", len(rows))
        cols[1].metric("已超时", counts["overdue"])
        cols[2].metric("临近时限", counts["at_risk"])
        cols[3].metric("更新时间", countdown.clock(now))
        if not rows:
            st.info(common.text("DASH_BOARD_EMPTY"))
            return
        st.markdown(countdown.legend_html(), unsafe_allow_html=True)
        widths = [4, 3, 3, 3]
        head = st.columns(widths)
        for column, name in zip(head, ("舆情", *WINDOW_NAMES.values())):
            column.markdown(f"**{name}**")
        for row in rows:
            view = row.view
            with st.container(border=True, key=f"board_row_{view.id}"):
                cols = st.columns(widths)  # type: ignore[assignment]  # st.columns gives a list here, a tuple above
                flag = ":red-badge[重点] " if row.verdict.flagged else ""
                cols[0].page_link(common.PAGE_INCIDENT, label=f"#{view.id} {common.plain(view.title)}", query_params={"id": str(view.id)})
                cols[0].caption(
                    f"{flag}{common.plain(view.unit.name)} · {countdown.level_label(view)} · 开始 {countdown.clock_start(view)}"
                )
                for column, c in zip(cols[1:], row.cells):
                    column.markdown(countdown.cell_html(c), unsafe_allow_html=True)
        st.caption(common.text("DASH_BOARD_FOOT", seconds=int(REFRESH.total_seconds())))

    board()
    if screen and not wall:
        st.page_link(common.PAGE_BOARD, label="退出大屏", icon=":material/close_fullscreen:")
