"""舆情详情 (`?id=12`): one incident — windows, a timeline chart, actions with evidence, recording an
action, reclassify / transfer / void / close with a reason, and its history from the audit trail."""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

from timeline.clock import display_beijing
from timeline.engine import Verdict
from timeline.model import ACTION_KIND_NAMES, ACTION_KINDS, CATEGORIES, CHANNELS, LEVELS, WINDOW_NAMES
from yuqing.db.incidents import IncidentView, evidence_path, incident_json, window_unit
from yuqing.db.service import Actor, NewAction
from yuqing.errors import YuqingError
from yuqing.pages import charts, common, history, panels

OUTCOME = "detail_outcome"
STATUS_BADGES = {"open": ":blue-badge[处置中]", "closed": ":green-badge[已办结]", "voided": ":gray-badge[已作废]"}
VOID_REASONS = ("误报", "不属于政务舆情", "重复登记")


def _done(outcome: common.Outcome, ok_code: str, **params: object) -> bool:
    if outcome.ok:
        st.session_state[OUTCOME] = ("ok", common.text(ok_code, **params))
    else:
        st.session_state[OUTCOME] = ("error", outcome.error)
    return outcome.ok


# --- write callbacks (run before the page redraws, so it shows the new state) --------------------
def record(incident_id: int) -> None:
    s = st.session_state
    p = f"act{incident_id}_"
    at = common.from_wall(s.get(p + "at"))
    if at is None:
        s[OUTCOME] = ("error", common.text("E_DASH_TIME_REQUIRED", what="处置时间"))
        return
    file_key = p + f"file{s.get(p + 'nonce', 0)}"
    with common.uploaded_file(s.get(file_key)) as path:
        new = NewAction(
            kind=s[p + "kind"], at=at, channels=tuple(s[p + "channels"]), by_principal=bool(s[p + "principal"]),
            evidence_url=s[p + "url"], evidence_file=path, note=s[p + "note"], reason=s[p + "reason"],
        )
        outcome = common.write(lambda w: w.record_action(incident_id, new).id)
    if _done(outcome, "DASH_ACTION_SAVED", kind=ACTION_KIND_NAMES[new.kind]):
        for name, value in (("channels", []), ("principal", False), ("url", ""), ("note", ""), ("reason", "")):
            s[p + name] = value
        s[p + "nonce"] = s.get(p + "nonce", 0) + 1


def reclassify(incident_id: int) -> None:
    s = st.session_state
    p = f"rc{incident_id}_"
    outcome = common.write(
        lambda w: w.reclassify(incident_id, reason=s[p + "reason"], level=s[p + "level"], sudden=s[p + "sudden"],
                               category=s[p + "category"])
    )
    if _done(outcome, "DASH_RECLASSIFIED", id=incident_id):
        s[p + "reason"] = ""


def transfer(incident_id: int) -> None:
    s = st.session_state
    p = f"tr{incident_id}_"
    if not s.get(p + "unit"):
        s[OUTCOME] = ("error", common.text("E_DASH_UNIT_REQUIRED"))
        return
    outcome = common.write(lambda w: w.transfer(incident_id, unit=s[p + "unit"], reason=s[p + "reason"]).to_unit.name)
    if _done(outcome, "DASH_TRANSFERRED", id=incident_id, unit=outcome.value):
        s[p + "reason"] = ""


def void(incident_id: int) -> None:
    s = st.session_state
    p = f"vd{incident_id}_"
    reason = "；".join(x for x in (s.get(p + "kind"), (s.get(p + "reason") or "").strip()) if x)
    outcome = common.write(lambda w: w.void(incident_id, reason=reason).id)
    _done(outcome, "DASH_VOIDED", id=incident_id)


def close(incident_id: int) -> None:
    at = common.from_wall(st.session_state.get(f"cl{incident_id}_at"))
    outcome = common.write(lambda w: w.close(incident_id, at=at).id)
    _done(outcome, "DASH_CLOSED", id=incident_id)


def follow_pick() -> None:
    picked = st.session_state.get("detail_pick")
    if picked is None:
        st.query_params.pop("id", None)
    else:
        st.query_params["id"] = str(picked)


# --- page -----------------------------------------------------------------------------------------
def picker() -> int | None:
    raw = st.query_params.get("id")
    incident_id = None
    if raw is not None:
        if raw.strip().isdigit():
            incident_id = int(raw)
        else:
            st.error(common.text("E_DASH_INCIDENT_ID", value=raw))
    labels = {i: c.label for i, c in common.incident_search("detail", keep=incident_id).items()}
    if incident_id is not None and incident_id not in labels:
        labels = {incident_id: f"#{incident_id}", **labels}
    st.session_state["detail_pick"] = incident_id  # the address decides which incident is shown
    st.selectbox(
        "舆情", options=list(labels), index=None, key="detail_pick", format_func=lambda value: str(labels.get(value, value)), on_change=follow_pick,
        placeholder="输入编号或标题搜索", label_visibility="collapsed",
    )
    return incident_id


def header(view: IncidentView, verdict: Verdict) -> None:
    flag = " " + common.text("DASH_BADGE_FLAGGED") if verdict.flagged else ""
    st.subheader(f"#{view.id} {common.plain(view.title)}")
    st.markdown(f"{STATUS_BADGES[view.status]}{flag} " + common.text("DASH_PRESET", title=common.plain(common.preset_title(view.preset))))
    suggested = set(view.suggested_fields)
    mark = lambda field: "（分类建议）" if field in suggested else ""  # noqa: E731 - a one-line marker used in the labels below
    cols = st.columns(4)
    cols[0].markdown(f"**牵头单位**  \n{common.plain(view.unit.name)}")
    cols[0].markdown(f"**协办单位**  \n{'、'.join(common.plain(u.name) for u in view.co_units) or '—'}")
    cols[1].markdown(f"**事件级别**  \n{view.level or '未定级'}{mark('level')}")
    cols[1].markdown(f"**突发事件**  \n{panels.yes_no(view.sudden)}{mark('sudden')}")
    cols[1].markdown(f"**事件类别**  \n{view.category or '未定'}{mark('category')}")
    cols[2].markdown(f"**开始计时**  \n{display_beijing(view.started_at)}")
    cols[2].markdown(f"**网上首发**  \n{display_beijing(view.first_post_at)}")
    cols[2].markdown(f"**发现/接报**  \n{display_beijing(view.detected_at)}")
    cols[3].markdown(f"**登记**  \n{display_beijing(view.logged_at)}（{common.plain(view.created_by)}）")
    if view.closed_at:
        cols[3].markdown(f"**办结**  \n{display_beijing(view.closed_at)}")
    if view.voided_at:
        cols[3].markdown(f"**作废**  \n{display_beijing(view.voided_at)}：{common.plain(view.void_reason)}")
    if view.source_url:
        cols[3].markdown(f"**来源**  \n{common.plain(view.source_url)}")
    if view.parent_id:
        st.page_link(common.PAGE_INCIDENT, label=f"上级舆情 #{view.parent_id}", icon=":material/account_tree:",
                     query_params={"id": str(view.parent_id)})
    if view.summary:
        st.markdown(f"> {common.plain(view.summary)}")


def actions_tab(view: IncidentView) -> None:
    if not view.actions:
        st.info("还没有登记处置")
        return
    evidence_dir = common.config().evidence_dir
    rows = [
        {
            "类型": ACTION_KIND_NAMES.get(a.kind, a.kind),
            "时间": display_beijing(a.at),
            "渠道": "、".join(CHANNELS.get(c, c) for c in a.channels) or "—",
            "主要负责人": "是" if a.by_principal else "",
            "证据链接": a.evidence_url,
            "证据文件": a.evidence_name or "",
            "说明": a.note or "",
            "补录原因": a.reason or "",
            "登记": f"{a.recorded_by} {display_beijing(a.recorded_at)}",
        }
        for a in view.actions
    ]
    st.dataframe(rows, hide_index=True, key=f"actions_{view.id}",
                 column_config={"证据链接": st.column_config.LinkColumn("证据链接")})
    for a in view.actions:
        if not a.evidence_sha256:
            continue
        path = evidence_path(evidence_dir, a.evidence_sha256)
        label = f"下载证据：{a.evidence_name}（{ACTION_KIND_NAMES.get(a.kind, a.kind)}，{display_beijing(a.at)}）"
        if path is None:
            st.caption(common.text("DASH_EVIDENCE_MISSING", name=a.evidence_name))
        else:
            st.download_button(label, data=path.read_bytes, file_name=a.evidence_name, key=f"ev_{a.id}",
                               on_click="ignore", icon=":material/download:")


DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def record_downloads(view: IncidentView) -> None:
    """处置台账 as docx, and as PDF where LibreOffice is installed: whoever sees the incident may take
    its record. Built when the button is pressed (deferred), judged at that moment."""
    from yuqing.db.records import incident_record
    from yuqing.documents.incident_doc import incident_docx
    from yuqing.documents.pdf import soffice, to_pdf

    db, incident_id = common.database(), view.id

    def docx() -> bytes:
        record = db.read(incident_record, incident_id)
        if record is None:
            raise YuqingError("E_INCIDENT_MISSING", id=incident_id)
        return incident_docx(record, now=common.now())

    c1, c2 = st.columns(2)
    c1.download_button("下载处置台账（docx）", data=docx, file_name=f"舆情{incident_id}处置台账.docx", mime=DOCX_MIME,
                       key=f"record_docx_{incident_id}", on_click="ignore", icon=":material/download:")
    if soffice() is None:
        c2.caption(common.text("DASH_RECORD_NO_PDF"))
    else:
        c2.download_button("下载处置台账（PDF）", data=lambda: to_pdf(docx()), file_name=f"舆情{incident_id}处置台账.pdf",
                           mime="application/pdf", key=f"record_pdf_{incident_id}", on_click="ignore",
                           icon=":material/picture_as_pdf:")


def record_form(view: IncidentView) -> None:
    p = f"act{view.id}_"
    st.session_state.setdefault(p + "at", common.wall_now())
    with st.form(f"act_form_{view.id}", border=True):
        c1, c2 = st.columns(2)
        c1.selectbox("处置类型", options=list(ACTION_KINDS), key=p + "kind", format_func=lambda value: str(ACTION_KIND_NAMES.get(value, value)))
        c2.datetime_input("处置时间（北京时间）", key=p + "at", step=60, format="YYYY-MM-DD")
        st.multiselect("发布渠道", options=list(CHANNELS), key=p + "channels", format_func=lambda value: str(CHANNELS.get(value, value)),
                       placeholder="可多选")
        st.checkbox("由主要负责人作出", key=p + "principal")
        c1, c2 = st.columns(2)
        c1.text_input("证据链接", key=p + "url", placeholder="https://…")
        c2.file_uploader("证据文件（截图、PDF 等）", key=p + f"file{st.session_state.get(p + 'nonce', 0)}")
        st.text_input("说明", key=p + "note")
        st.text_input("补录原因（处置时间早于 48 小时前时必填）", key=p + "reason")
        st.form_submit_button("登记处置", type="primary", on_click=record, args=(view.id,), icon=":material/save:",
                              key=f"act_submit_{view.id}")


def manage_forms(view: IncidentView, who: Actor) -> None:
    units = {u.code: u.name for u in common.units()}
    admin = common.is_admin(who)
    if admin:
        p = f"rc{view.id}_"
        with st.form(f"rc_form_{view.id}"):
            st.markdown("**调整分级**（时限仍从原开始时间计算，原判定保留在历史记录中）")
            c1, c2, c3 = st.columns(3)
            c1.selectbox("事件级别", options=list(LEVELS), key=p + "level", placeholder="未定级",
                         index=LEVELS.index(view.level) if view.level in LEVELS else None)
            c2.selectbox("是否突发", options=[True, False], key=p + "sudden", placeholder="未知",
                         index=None if view.sudden is None else (0 if view.sudden else 1),
                         format_func=lambda v: "突发事件" if v else "非突发")
            c3.selectbox("事件类别", options=list(CATEGORIES), key=p + "category", placeholder="未定",
                         index=CATEGORIES.index(view.category) if view.category in CATEGORIES else None)
            st.text_input("原因（必填）", key=p + "reason")
            st.form_submit_button("调整分级", on_click=reclassify, args=(view.id,), key=f"rc_submit_{view.id}")
    if admin and view.status == "open":
        p = f"tr{view.id}_"
        with st.form(f"tr_form_{view.id}"):
            st.markdown("**转办**（转给其他单位牵头，时限继续计算）")
            st.selectbox("转至单位", options=[c for c in units if c != view.unit.code], key=p + "unit", index=None,
                         format_func=lambda value: str(units.get(value, value)), placeholder="输入名称搜索单位")
            st.text_input("原因（必填）", key=p + "reason")
            st.form_submit_button("转办", on_click=transfer, args=(view.id,), key=f"tr_submit_{view.id}")
    if view.status == "open" and common.may_act_on(who, {view.unit.code}):
        p = f"cl{view.id}_"
        with st.form(f"cl_form_{view.id}"):
            st.markdown("**办结**（办结不等于完成时限，未完成的时限仍按到期判定）")
            st.datetime_input("办结时间（北京时间，留空为现在）", key=p + "at", value=None, step=60, format="YYYY-MM-DD")
            st.form_submit_button("办结", on_click=close, args=(view.id,), key=f"cl_submit_{view.id}")
    if admin:
        p = f"vd{view.id}_"
        with st.form(f"vd_form_{view.id}"):
            st.markdown("**作废**（所有时限不再适用，不计入考核）")
            st.radio("类型", options=list(VOID_REASONS), key=p + "kind", horizontal=True)
            st.text_input("说明", key=p + "reason")
            st.form_submit_button("作废", on_click=void, args=(view.id,), key=f"vd_submit_{view.id}")


st.title("舆情详情")

if common.guard():
    who = common.actor()
    incident_id = picker()
    view = common.incident(incident_id) if incident_id is not None else None
    if incident_id is None:
        st.info(common.text("DASH_PICK_INCIDENT"))
    elif view is None:
        st.error(common.text("E_INCIDENT_MISSING", id=incident_id))
    else:
        common.show_outcome(OUTCOME)
        now = common.now()
        verdict = view.verdict(now)
        header(view, verdict)

        @st.fragment(run_every=timedelta(seconds=10) if view.status == "open" else None)
        def windows() -> None:
            panels.window_cells(view.verdict(common.now()))  # type: ignore[union-attr]  # view was checked above; mypy does not narrow into the fragment

        windows()
        if view.transfers:
            # After a transfer, each window counts for the unit that led when it fell due.
            st.caption(common.text("DASH_WINDOW_UNITS", units="；".join(
                f"{WINDOW_NAMES[w.key]}计入{window_unit(view, w)['name']}" for w in verdict.windows if w.applicable)))
        st.altair_chart(charts.timeline_chart(view, verdict, now), width="stretch",
                        height=charts.timeline_height(view, verdict) + 110, key=f"timeline_{view.id}")
        record_downloads(view)

        may_record = view.status == "open" and common.may_act_on(who, {view.unit.code, *(u.code for u in view.co_units)})
        may_manage = view.status != "voided" and (
            common.is_admin(who) or (view.status == "open" and common.may_act_on(who, {view.unit.code}))
        )
        names = ["处置记录", *(["登记处置"] if may_record else []), *(["调整与办结"] if may_manage else []), "历史记录"]
        tabs = dict(zip(names, st.tabs(names, key=f"detail_tabs_{view.id}")))
        with tabs["处置记录"]:
            actions_tab(view)
        if may_record:
            with tabs["登记处置"]:
                record_form(view)
        if may_manage:
            with tabs["调整与办结"]:
                manage_forms(view, who)
        with tabs["历史记录"]:
            history.regrades(incident_json(view, now))
            history.audit_table(common.history(view.id))
        if not common.may_write(who):
            st.caption(common.text("DASH_READ_ONLY"))
