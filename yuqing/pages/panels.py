"""Pieces several pages show: the classifier's suggestion with its reasons, a row of window cells."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from timeline.engine import Verdict
from timeline.model import WINDOW_KEYS
from yuqing.db.classifying import keyword_text, topic_names
from yuqing.messages import plain
from yuqing.pages import countdown

FIGURE_NAMES = {
    "deaths": "死亡（人）",
    "injured": "受伤（人）",
    "seriously_injured": "重伤（人）",
    "missing": "失踪（人）",
    "trapped": "被困（人）",
    "affected": "受影响（人）",
    "evacuated": "转移（人）",
    "loss_yuan": "直接经济损失（元）",
}


def yes_no(value: bool | None, yes: str = "是", no: str = "否") -> str:
    return "未知" if value is None else (yes if value else no)


def suggestion_panel(data: dict[str, Any], *, offer_unit: Callable[[str], None] | None = None, known_units: set[str] | None = None,
                     key: str = "suggest") -> None:
    """What the classifier proposes and why: keywords and figures it read, and its rules version."""
    with st.container(border=True):
        st.markdown("**分类建议**")
        st.markdown(
            f"- 重点舆情（适用 5 小时发布、24 小时发布会时限）：**{yes_no(data.get('flagged'))}**\n"
            f"- 事件级别：**{data.get('level') or '未能判断'}**\n"
            f"- 突发事件：**{yes_no(data.get('sudden'))}**\n"
            f"- 事件类别：**{data.get('category') or '未能判断'}**"
            + (f"\n- 主题：{'、'.join(topic_names().get(t, t) for t in data['topics'])}" if data.get("topics") else "")
        )
        unit = data.get("unit")
        if unit:
            line = st.columns([3, 1], vertical_alignment="center")
            line[0].markdown(f"建议责任单位：**{plain(unit['name'])}**")
            if offer_unit is not None and (known_units is None or unit["code"] in known_units):
                line[1].button("采用", key=f"{key}_use_unit", on_click=offer_unit, args=(unit["code"],))
        st.markdown("**依据**")
        keywords = data.get("keywords") or []
        st.markdown("关键词：" + keyword_text(keywords))
        figures = {k: v for k, v in (data.get("figures") or {}).items() if v is not None}
        if figures:
            st.markdown("读出的数字：" + "；".join(f"{FIGURE_NAMES.get(k, k)} {v:,}" for k, v in figures.items()))
        else:
            st.markdown("读出的数字：无")
        st.caption(f"分类规则版本 {data.get('rules_version') or '—'}。建议只填补未手工填写的项目，登记后可调整。")


def window_cells(verdict: Verdict) -> None:
    """The three windows side by side, coloured by state, to the second."""
    st.html(countdown.STYLE)
    cols = st.columns(len(WINDOW_KEYS))
    for column, key in zip(cols, WINDOW_KEYS):
        c = countdown.cell(verdict.window(key))
        column.markdown(f"**{c.name}**")
        column.markdown(countdown.cell_html(c), unsafe_allow_html=True)
