"""A unit's record of one incident (处置台账): what it hands the 考核组 to defend itself against a
deduction — the incident, its three timestamps and the clock's start, each window with its due time,
satisfying action and state, every action with channels, evidence links and file SHA-256s,
reclassifications and transfers with reasons, and the audit records with the chain's head hash.
Times in Asia/Shanghai to the second (deadlines are judged to the second)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from timeline.clock import display_seconds, to_beijing
from timeline.engine import WindowVerdict, evaluate
from timeline.model import ACTION_KIND_NAMES, CHANNELS, STATE_NAMES, WINDOW_NAMES
from timeline.presets import load_preset
from yuqing.board import duration, window_status
from yuqing.db import cases
from yuqing.db.incidents import ActionView, IncidentView, window_unit
from yuqing.db.records import IncidentRecord
from yuqing.documents.gongwen import KAITI, SIZE_WU, SIZE_XIAOSI, SIZE_XIAOWU, Gongwen
from yuqing.history import action_name, change_text, entity_name, value_text
from yuqing.vocabulary import label, render


def _time(value: datetime | None) -> str:
    return "—" if value is None else display_seconds(value)


def _grading(data: dict) -> str:
    level = data.get("level") or "未定级"
    sudden = {True: "突发", False: "非突发", None: "突发属性未定"}.get(data.get("sudden"), "突发属性未定")
    return f"{level}、{sudden}、{data.get('category') or '类别未定'}"


def satisfying_action(view: IncidentView, window: WindowVerdict) -> ActionView | None:
    """The action that satisfied a window: the earliest of the kinds the preset names (ties: the one
    recorded first), as the timeline engine takes the earliest satisfying time."""
    rule = load_preset(view.preset).window(window.key)
    if rule is None or window.satisfied_at is None:
        return None
    kinds = [a for a in view.actions if a.kind in rule.satisfied_by]
    return min(kinds, key=lambda a: (a.at, a.id)) if kinds else None


def window_state(window: WindowVerdict) -> str:
    if window.state in ("open", "overdue"):
        return window_status(window, "seconds")
    text = STATE_NAMES[window.state]
    if window.state == "late":
        text += render("DOC_RECORD_LATE_BY", duration=duration(window.overdue_seconds or 0, "seconds"))
    return text


def _action_ref(action: ActionView | None) -> str:
    if action is None:
        return "—"
    return f"#{action.id} {ACTION_KIND_NAMES.get(action.kind, action.kind)}"


def record_title(view: IncidentView) -> str:
    return f"政务舆情处置台账（舆情 #{view.id}）"


def incident_docx(record: IncidentRecord, *, now: datetime) -> bytes:
    """The 处置台账 as a docx in the 公文 styling of the bulletin (same fonts, 版心, page numbers)."""
    view = record.incident
    verdict = view.verdict(now)
    preset = load_preset(view.preset)
    doc = Gongwen()
    doc.blank()
    doc.title(record_title(view))
    doc.centered(view.title, font=KAITI)
    doc.blank()
    doc.text(render("DOC_RECORD_OPENING", unit=view.unit.name, now=_time(now)))

    doc.heading("一、基本情况")
    co = "、".join(u.name for u in view.co_units) or "—"
    facts: list[tuple[str, str]] = [
        ("舆情编号", f"#{view.id}"), ("标题", view.title), ("牵头单位", view.unit.name), ("协办单位", co),
        ("上级舆情", f"#{view.parent_id}" if view.parent_id else "—"),
        ("事件类别", view.category or "未定"), ("事件级别", view.level or "未定级"),
        ("突发事件", value_text(view.sudden) if view.sudden is not None else "未定"),
        ("重点舆情", "是（适用发布权威信息、新闻发布会时限）" if verdict.flagged else "否"),
        ("状态", label("STATUS", view.status)), ("时限规则", f"{preset.title}（{preset.name}）"),
        ("来源", view.source_url or "—"), ("摘要", view.summary or "—"), ("登记人", view.created_by),
    ]
    if view.void_reason:
        facts.append(("作废原因", view.void_reason))
    doc.table(["项目", "内容"], facts, widths=(32, 124), size=SIZE_XIAOSI)

    doc.heading("二、时间节点")
    doc.table(["节点", "时间（北京时间）", "说明"], [
        ["网上首发", _time(view.first_post_at), "舆情在网上首次发布的时间"],
        ["发现/接报", _time(view.detected_at), "监测发现或接到报告的时间"],
        ["登记", _time(view.logged_at), "在本系统登记的时间"],
        ["开始计时", _time(view.started_at), render("DOC_RECORD_ANCHOR", anchor=label("ANCHOR", preset.anchor))],
        ["办结", _time(view.closed_at), "办结不等于完成时限"],
        ["作废", _time(view.voided_at), "作废后各项时限不再适用"],
    ], widths=(24, 50, 82), size=SIZE_XIAOSI)

    doc.heading("三、回应时限")
    rows = []
    for w in verdict.windows:
        counts_for = window_unit(view, w)["name"] if w.applicable else "—"
        action = satisfying_action(view, w)
        rows.append([f"{WINDOW_NAMES.get(w.key, w.key)}\n{w.hours}小时", _time(w.due_at), _action_ref(action),
                     _time(w.satisfied_at), window_state(w), counts_for])
    doc.table(["时限", "应完成时间", "完成处置", "完成时间", "状态", "计入单位"], rows,
              widths=(22, 26, 20, 26, 36, 26), size=SIZE_WU)
    doc.text(render("DOC_RECORD_WINDOW_RULE", now=_time(now)))

    doc.heading("四、处置记录")
    if view.actions:
        doc.table(["编号", "类型", "处置时间", "发布渠道", "主要负责人", "说明", "登记"], [
            [f"#{a.id}", ACTION_KIND_NAMES.get(a.kind, a.kind), _time(a.at),
             "、".join(CHANNELS.get(c, c) for c in a.channels) or "—", "是" if a.by_principal else "否",
             "；".join(x for x in (a.note, f"补录原因：{a.reason}" if a.reason else None) if x) or "—",
             f"{a.recorded_by} {_time(a.recorded_at)}"]
            for a in view.actions
        ], widths=(12, 18, 26, 22, 16, 26, 36), size=SIZE_WU)
        evidence = [a for a in view.actions if a.evidence_url or a.evidence_sha256]
        doc.heading("（一）证据材料", level=2)
        if evidence:
            doc.table(["处置", "证据链接", "证据文件", "文件 SHA-256"], [
                [f"#{a.id}", a.evidence_url or "—", a.evidence_name or ("—" if not a.evidence_sha256 else "（未命名）"),
                 a.evidence_sha256 or "—"] for a in evidence
            ], widths=(12, 42, 22, 80), size=SIZE_WU)
        else:
            doc.text(render("DOC_RECORD_NO_EVIDENCE"))
    else:
        doc.text(render("DOC_RECORD_NO_ACTIONS"))

    doc.heading("五、分级调整与转办")
    doc.heading("（一）分级调整", level=2)
    if view.regrades:
        doc.table(["调整时间", "调整人", "调整前", "调整后", "原因", "调整前的判定"],
                  [[_time(r.at), r.actor, _grading(r.before), _grading(r.after), r.reason, _before_states(view, r.at, r.before)]
                   for r in view.regrades], widths=(26, 18, 28, 28, 28, 28), size=SIZE_WU)
    else:
        doc.text(render("DOC_RECORD_NO_REGRADES"))
    doc.heading("（二）转办", level=2)
    if view.transfers:
        doc.table(["转办时间", "转办人", "原牵头单位", "转至单位", "原因"],
                  [[_time(t.at), t.actor, t.from_name or t.from_unit, t.to_name or t.to_unit, t.reason]
                   for t in view.transfers], widths=(26, 20, 38, 38, 34), size=SIZE_WU)
    else:
        doc.text(render("DOC_RECORD_NO_TRANSFERS"))

    doc.heading("六、审计记录")
    _audit_table(doc, record)
    if record.audit_cut:
        doc.text(render("DOC_RECORD_AUDIT_CUT", shown=len(record.audit), total=record.audit_total, id=view.id))
    doc.text(render("DOC_RECORD_CHAIN", now=_time(now), count=record.chain_count), keep_with_next=True)
    doc.centered(record.chain_head, size=SIZE_WU)
    doc.text(render("DOC_RECORD_VERIFY"))
    doc.signature(view.unit.name, to_beijing(now).date())
    return doc.to_bytes()


def _before_states(view: IncidentView, at: datetime, before: dict) -> str:
    """The window states that stood just before a reclassification (they stay visible)."""
    earlier = cases.case(view.started_at, cases.grading(before), ((a.kind, a.at) for a in view.actions if a.at <= at))
    verdict = evaluate(earlier, load_preset(view.preset), now=at)
    return "；".join(f"{WINDOW_NAMES[w.key]}：{STATE_NAMES[w.state]}" for w in verdict.windows if w.applicable) or "—"


def _unit_names(view: IncidentView) -> dict[str, str]:
    names = {u.code: u.name for u in (view.unit, *view.co_units)}
    for t in view.transfers:
        names.setdefault(t.from_unit, t.from_name or t.from_unit)
        names.setdefault(t.to_unit, t.to_name or t.to_unit)
    return names


def _audit_table(doc: Gongwen, record: IncidentRecord) -> None:
    units = _unit_names(record.incident)
    rows: Sequence[Sequence[str]] = [
        [str(e.id), _time(e.at), e.actor, f"{entity_name(e.entity)} #{e.entity_id}", action_name(e.action),
         "；".join(x for x in (f"原因：{e.reason}" if e.reason else None, change_text(e.before, e.after, units=units)) if x) or "—",
         e.hash[:12]]
        for e in record.audit
    ]
    if not rows:
        doc.text(render("DOC_RECORD_NO_AUDIT"))
        return
    doc.table(["序号", "时间", "操作人", "对象", "操作", "内容", "记录哈希（前 12 位）"], rows,
              widths=(11, 24, 15, 15, 13, 49, 29), size=SIZE_XIAOWU)
