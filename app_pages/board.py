"""倒计时看板: every open incident with each window's due time and remaining or overdue time."""
from __future__ import annotations

import html
from datetime import timedelta

import streamlit as st

from app_pages import auth, common
from timeline.board import TONE_NAMES, TONES, as_of, board_tones, urgency, window_cell
from timeline.model import WINDOW_KEYS

st.title("倒计时看板")

if common.guard():
    unit_options = {u.code: u.name for u in common.units()}
    unit_code = st.selectbox(
        "单位", options=[None, *unit_options], format_func=lambda c: "全部单位" if c is None else unit_options[c],
        key="board_unit",
    )
    tone_filter = st.multiselect(
        "状态", options=list(TONE_NAMES), format_func=TONE_NAMES.get, key="board_tones",
        placeholder="全部状态",
    )

    @st.fragment(run_every=timedelta(seconds=10))
    def board() -> None:
        if not auth.still_logged_in():
            st.rerun(scope="app")
        now = common.now()
        incidents = common.open_incidents(unit_code)
        rows = [(view, view.verdict(now)) for view in incidents]
        if tone_filter:
            rows = [(v, d) for v, d in rows if board_tones(d) & set(tone_filter)]
        rows.sort(key=lambda pair: urgency(pair[1]))
        counts = {k: sum(1 for _, d in rows if k in board_tones(d)) for k in ("overdue", "at_risk", "on_track")}
        cols = st.columns(4)
        cols[0].metric("处置中舆情", len(rows))
        cols[1].metric("已超时", counts["overdue"])
        cols[2].metric("临近时限", counts["at_risk"])
        cols[3].metric("更新时间", as_of(now)[11:])
        if not rows:
            st.info("当前没有处置中的舆情")
            return
        head = "".join(f"<th>{name}</th>" for name in ("编号", "舆情", "牵头单位", "级别", "开始时间", "回应（24小时）", "发布权威信息（5小时）", "新闻发布会（24小时）"))
        body = []
        for view, verdict in rows:
            cells = []
            for key in WINDOW_KEYS:
                cell = window_cell(verdict.window(key))
                colour = TONES[cell.tone]
                cells.append(
                    f'<td class="w {cell.tone}" style="color:{colour};border-left:4px solid {colour}">'
                    f"<b>{html.escape(cell.text)}</b><br><small>时限 {cell.due}</small></td>"
                )
            level = (view.level or "未定级") + ("·突发" if view.sudden else "")
            flag = '<span style="background:#c62828;color:#fff;border-radius:3px;padding:0 4px;font-size:0.8em">重点</span> ' if verdict.flagged else ""
            body.append(
                f"<tr><td>{view.id}</td><td>{flag}{html.escape(view.title)}</td><td>{html.escape(view.unit.name)}</td>"
                f"<td>{level}</td><td>{as_of(view.started_at)}</td>{''.join(cells)}</tr>"
            )
        st.markdown(
            "<style>.yq-board{width:100%;border-collapse:collapse;font-size:0.95rem}"
            ".yq-board th,.yq-board td{padding:6px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}</style>"
            f'<table class="yq-board"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>',
            unsafe_allow_html=True,
        )
        st.caption(f"时间均为北京时间；每 10 秒自动刷新。颜色：" + "，".join(f"{TONE_NAMES[k]}" for k in TONES))

    board()
