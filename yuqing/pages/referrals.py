"""舆情函件: letters referring an incident to a unit, due in working days (holidays and 调休 counted by
the calendar), and their replies — the calls `yuqing referral add / reply / list` make."""
from __future__ import annotations

import streamlit as st

from timeline.clock import display_beijing
from yuqing.board import TONES
from yuqing.db.referrals import add_referral, reply_referral
from yuqing.pages import common, scorecards
from yuqing.vocabulary import LABELS

REFERRAL_STATES = LABELS["REFERRAL"]

OUTCOME = "referrals_outcome"
STATE_TONES = {"met": "met", "late": "late", "open": "on_track", "overdue": "overdue"}


def do_add() -> None:
    s = st.session_state
    incident_id, unit = s.get("ref_incident"), s.get("ref_unit")
    if incident_id is None or not unit:
        s[OUTCOME] = ("error", common.text("E_DASH_REFERRAL_INCOMPLETE"))
        return
    sent = common.from_wall(s.get("ref_sent"))
    outcome = common.write(lambda w: add_referral(w, incident_id, unit=unit, due_workdays=int(s["ref_days"]),
                                                  sent_at=sent).id)
    s[OUTCOME] = ("ok", common.text("DASH_REFERRAL_SENT", id=outcome.value)) if outcome.ok else ("error", outcome.error)


def do_reply(referral_id: int) -> None:
    at = common.from_wall(st.session_state.get(f"reply_at_{referral_id}")) or common.now()
    outcome = common.write(lambda w: reply_referral(w, referral_id, at=at).id)
    st.session_state[OUTCOME] = ("ok", common.text("DASH_REFERRAL_REPLIED", id=referral_id)) if outcome.ok \
        else ("error", outcome.error)


def state_html(state: str) -> str:
    colour = TONES[STATE_TONES[state]]
    return f'<span style="color:{colour};border-left:4px solid {colour};padding-left:4px">{REFERRAL_STATES[state]}</span>'


st.title("舆情函件")

if common.guard():
    who = common.actor()
    common.show_outcome(OUTCOME)
    this_year = scorecards.this_year()
    years: dict[int | None, str] = {None: "全部年度", **{y: f"{y} 年" for y in range(this_year, this_year - 10, -1)}}
    year = st.columns([1, 3])[0].selectbox("发函年度", options=list(years), index=1, key="ref_year",
                                           format_func=lambda value: str(years.get(value, value)))
    items = scorecards.referrals(year)
    counts = {k: sum(1 for r in items if r.state == k) for k in REFERRAL_STATES}
    cols = st.columns(5)
    cols[0].metric("函件", len(items))
    for column, key in zip(cols[1:], ("open", "overdue", "met", "late")):
        column.metric(REFERRAL_STATES[key], counts[key])
    if not items:
        st.info(common.text("DASH_REFERRALS_EMPTY"))
    for r in sorted(items, key=lambda r: ({"overdue": 0, "open": 1, "late": 2, "met": 3}[r.state], r.due_at)):
        with st.container(border=True, key=f"referral_{r.id}"):
            c1, c2, c3 = st.columns([4, 3, 2], vertical_alignment="center")
            c1.page_link(common.PAGE_INCIDENT, label=f"函件 #{r.id} · 舆情 #{r.incident_id} {common.plain(r.incident_title)}",
                         query_params={"id": str(r.incident_id)})
            c1.caption(f"承办单位：{common.plain(r.unit_name)}")
            c2.markdown(
                f"发出 {display_beijing(r.sent_at)}，{r.due_workdays} 个工作日  \n"
                f"**限 {display_beijing(r.due_at)} 前回复**"
                + (f"  \n回复 {display_beijing(r.replied_at)}" if r.replied_at else "")
            )
            c3.markdown(state_html(r.state), unsafe_allow_html=True)
            if r.replied_at is None and common.is_admin(who):
                with st.expander("登记回复"):
                    st.datetime_input("回复时间（北京时间，留空为现在）", value=None, key=f"reply_at_{r.id}", step=60,
                                      format="YYYY-MM-DD")
                    st.button("登记回复", key=f"reply_{r.id}", on_click=do_reply, args=(r.id,))
    st.caption(common.text("DASH_REFERRAL_RULE"))

    if common.is_admin(who):
        st.subheader("发出函件")
        choices = common.incident_search("ref_incident", keep=st.session_state.get("ref_incident"))
        units = {u.code: u.name for u in common.units()}
        picked = st.session_state.get("ref_incident")
        if picked in choices and st.session_state.get("ref_unit_for") != picked:
            # Default the receiving unit to the incident's lead unit when the incident changes.
            st.session_state["ref_unit"] = choices[picked].unit_code
            st.session_state["ref_unit_for"] = picked
        c1, c2 = st.columns(2)
        c1.selectbox("舆情", options=list(choices), index=None, key="ref_incident", format_func=lambda i: choices[i].label,
                     placeholder="输入编号或标题搜索")
        c2.selectbox("承办单位", options=list(units), index=None, key="ref_unit", format_func=lambda value: str(units.get(value, value)),
                     placeholder="选择单位")
        c1, c2 = st.columns(2)
        c1.number_input("办理时限（工作日）", min_value=1, max_value=60, value=5, step=1, key="ref_days")
        c2.datetime_input("发函时间（北京时间，留空为现在）", value=None, key="ref_sent", step=60, format="YYYY-MM-DD")
        st.button("发出函件", type="primary", key="ref_send", on_click=do_add)
    elif not common.may_write(who):
        st.caption(common.text("DASH_READ_ONLY"))
