"""登记舆情: the incident form. The classifier's suggestion (and why) is shown while typing, before saving;
saving goes through the write service exactly as `yuqing incident add` does."""
from __future__ import annotations

from typing import Any

import streamlit as st

from timeline.model import CATEGORIES, LEVELS
from yuqing.db.service import NewIncident
from yuqing.pages import common
from yuqing.pages.panels import suggestion_panel

AUTO = None
FIELDS: dict[str, Any] = {
    "new_title": "", "new_summary": "", "new_unit": None, "new_co_units": [], "new_parent": None,
    "new_first_post": None, "new_detected": None, "new_level": AUTO, "new_sudden": AUTO, "new_category": AUTO,
    "new_source": "", "new_classify": True,
}
OUTCOME = "new_outcome"


def save() -> None:
    state = st.session_state
    if not state.get("new_unit"):
        state[OUTCOME] = ("error", common.text("E_DASH_UNIT_REQUIRED"))
        return
    new = NewIncident(
        title=state["new_title"],
        unit=state["new_unit"],
        co_units=tuple(state["new_co_units"]),
        parent_id=state["new_parent"],
        summary=state["new_summary"],
        first_post_at=common.from_wall(state["new_first_post"]),
        detected_at=common.from_wall(state["new_detected"]),
        level=state["new_level"],
        sudden=state["new_sudden"],
        category=state["new_category"],
        source_url=state["new_source"],
        classify=bool(state["new_classify"]),
    )
    outcome = common.write(lambda w: w.add_incident(new).id, classify=new.classify)
    if not outcome.ok:
        state[OUTCOME] = ("error", outcome.error)
        return
    state[OUTCOME] = ("ok", common.text("DASH_INCIDENT_SAVED", id=outcome.value))
    state["new_created"] = outcome.value
    for key, value in FIELDS.items():
        if key != "new_unit" or common.actor().role != "staff":
            state[key] = list(value) if isinstance(value, list) else value


def use_unit(code: str) -> None:
    st.session_state["new_unit"] = code


st.title("登记舆情")

if common.guard():
    who = common.actor()
    if not common.may_write(who):
        st.info(common.text("DASH_READ_ONLY"))
    else:
        units = {u.code: u for u in common.units()}
        own_only = who.role == "staff"
        unit_options = [who.unit_code] if own_only and who.unit_code in units else ([] if own_only else list(units))
        if own_only and "new_unit" not in st.session_state:
            st.session_state["new_unit"] = who.unit_code
        for key, value in FIELDS.items():
            st.session_state.setdefault(key, list(value) if isinstance(value, list) else value)

        common.show_outcome(OUTCOME)
        created = st.session_state.pop("new_created", None)
        if created is not None:
            st.page_link(common.PAGE_INCIDENT, label=f"查看舆情 #{created}", icon=":material/open_in_new:",
                         query_params={"id": str(created)})

        form, side = st.columns([3, 2], gap="large")
        with form:
            st.text_input("标题", key="new_title", max_chars=200, placeholder="例如：网传某小区燃气泄漏，已致2人受伤")
            st.text_area("摘要", key="new_summary", height=100, placeholder="舆情的主要内容、涉及的事实和数字")
            left, right = st.columns(2)
            left.selectbox(
                "牵头单位", options=unit_options, key="new_unit", placeholder="输入名称搜索单位",
                format_func=lambda c: units[c].name, disabled=own_only,
                help="可输入单位名称的一部分筛选" if not own_only else "单位工作人员只能登记本单位的舆情",
            )
            right.multiselect(
                "协办单位", options=[c for c in units if c != st.session_state.get("new_unit")], key="new_co_units",
                format_func=lambda c: units[c].name, placeholder="可选",
            )
            st.markdown(common.text("DASH_NEW_PARENT"))
            found = common.incident_search("new_parent", keep=st.session_state.get("new_parent"))
            choices = {i: c.label for i, c in found.items()}
            st.selectbox(
                common.text("DASH_NEW_PARENT"), label_visibility="collapsed", options=list(choices), index=None, key="new_parent",
                format_func=lambda value: str(choices.get(value, value)), placeholder=common.text("DASH_NEW_PARENT_NONE"),
            )
            left, right = st.columns(2)
            left.datetime_input("网上首发时间（北京时间）", key="new_first_post", step=60, format="YYYY-MM-DD",
                                help="不知道可留空")
            right.datetime_input("发现或接报时间（北京时间）", key="new_detected", step=60, format="YYYY-MM-DD",
                                 help="留空则为登记时间（现在）")
            c1, c2, c3 = st.columns(3)
            c1.selectbox("事件级别", options=list(LEVELS), index=None, key="new_level", placeholder="按分类建议")
            c2.selectbox("是否突发", options=[True, False], index=None, key="new_sudden", placeholder="按分类建议",
                         format_func=lambda v: "突发事件" if v else "非突发")
            c3.selectbox("事件类别", options=list(CATEGORIES), index=None, key="new_category", placeholder="按分类建议")
            st.text_input("来源链接", key="new_source", placeholder="https://…")
            st.checkbox("用分类建议补全未填写的级别、突发属性和类别", key="new_classify")
            st.button("登记", type="primary", key="new_save", on_click=save, icon=":material/save:")
        with side:
            title = st.session_state["new_title"].strip()
            if title:
                data = common.suggestion(title, st.session_state["new_summary"])
                suggestion_panel(data, offer_unit=None if own_only or st.session_state.get("new_unit") else use_unit,
                                 known_units=set(units))
            else:
                st.info(common.text("DASH_SUGGESTION_HINT"))
