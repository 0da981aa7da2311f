"""倒计时看板: open incidents, most urgent first, a page of PAGE_ROWS at a time, with each window's due time and remaining or overdue time, to the
second, refreshed every 10 seconds; `?screen=1` is the wall display (large type, pages turn by themselves)."""
from __future__ import annotations

from datetime import timedelta
from html import escape
from urllib.parse import urlencode

import streamlit as st

from yuqing.board import TONE_NAMES
from yuqing.pages import auth, common, countdown

REFRESH = timedelta(seconds=10)
SCREEN_ROWS = 8
PAGE_ROWS = 20  # the board renders one page: its cost follows this, not the open count
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

WALL_LINK_STYLE = (
    "<style>.yq-wall-link{display:inline-block;padding:.4rem .8rem;border:1px solid rgba(49,51,63,.3);"
    "border-radius:.5rem;text-decoration:none;color:inherit!important}</style>"
)

wall = auth.SCREEN_KEY in st.session_state  # opened by a wall display's URL: read-only, screen mode only
screen = wall or st.query_params.get("screen") == "1"


def _first_page() -> None:
    st.session_state["board_page"] = 1


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
            placeholder="全部单位", on_change=_first_page,
        )
        levels = mid.multiselect(
            "级别", options=list(countdown.LEVEL_CHOICES), key="board_levels", placeholder="全部级别", on_change=_first_page
        )
        tones = right.multiselect(
            "状态", options=list(TONE_NAMES), format_func=lambda value: str(TONE_NAMES.get(value, value)), key="board_tones", placeholder="全部状态",
            on_change=_first_page,
        )
        # A plain link, not st.page_link: a page link to the page already shown kept the address at `/`,
        # so a reload of the wall lost screen=1. This one loads `/?screen=1` itself.
        screen_params = {"screen": "1", **({"unit": unit_code} if unit_code else {})}
        last.html(f'<a class="yq-wall-link" href="/?{escape(urlencode(screen_params))}" target="_self">'
                  "大屏模式</a>" + WALL_LINK_STYLE)

    @st.fragment(run_every=REFRESH)
    def board() -> None:
        if not auth.still_logged_in():
            st.rerun(scope="app")
        now = common.now()
        st.html(countdown.STYLE)
        if screen:
            data = common.open_incidents(
                unit_code, limit=SCREEN_ROWS, page=countdown.wall_page(now, seconds_per_page=SCREEN_SECONDS) + 1,
                wrap=True,
            )
            st.markdown(
                countdown.screen_html(
                    countdown.board_rows(data, now), now=now, page=data.offset // SCREEN_ROWS + 1, pages=data.pages,
                    total=data.total, counts=data.counts,
                )
                + WALL_FIT,
                unsafe_allow_html=True,
            )
            return
        wanted = int(st.session_state.get("board_page") or 1)
        data = common.open_incidents(unit_code, tuple(levels), tuple(tones), limit=PAGE_ROWS, page=wanted)
        page = data.offset // PAGE_ROWS + 1
        if page != wanted:
            st.session_state["board_page"] = page
        rows = countdown.board_rows(data, now)
        cols = st.columns(4)
        cols[0].metric("处置中舆情", data.total)
        cols[1].metric("已超时", data.counts["overdue"])
        cols[2].metric("临近时限", data.counts["at_risk"])
        cols[3].metric("更新时间", countdown.clock(now))
        if not rows:
            st.info(common.text("DASH_BOARD_EMPTY"))
            return
        st.markdown(countdown.legend_html() + countdown.head_html(), unsafe_allow_html=True)
        for row in rows:
            view = row.view
            with st.container(border=True, key=f"board_row_{view.id}"):
                st.page_link(common.PAGE_INCIDENT, label=f"#{view.id} {common.plain(view.title)}", query_params={"id": str(view.id)})
                st.markdown(countdown.row_html(row), unsafe_allow_html=True)
        if data.pages > 1:
            pager, note = st.columns([1, 4], vertical_alignment="bottom")
            pager.number_input("页码", min_value=1, max_value=data.pages, step=1, key="board_page")
            note.caption(common.text("DASH_BOARD_PAGES", page=page, pages=data.pages, shown=len(rows), total=data.total))
        st.caption(common.text("DASH_BOARD_FOOT", seconds=int(REFRESH.total_seconds())))

    board()
    if screen and not wall:
        st.page_link(common.PAGE_BOARD, label="退出大屏", icon=":material/close_fullscreen:")
