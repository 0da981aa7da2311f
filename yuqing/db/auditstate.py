"""The business rows against their audit trail: an incident or action edited, deleted or inserted
behind the application's back is named by `audit verify`.

The trail of each (entity, id) is folded into the state it says the row has: the create record's
`after` (yuqing.db.service.incident_snapshot / action_snapshot, the functions the write service
records), then every later record's `after`, with the effects each write has on fields it does not
list (reopen clears closed_at, void stamps voided_at, reclassify and transfer trim
suggested_fields and co_units). That state is compared with the same snapshot function applied to
the current row — only on the fields the trail knows, so a column a later migration added is not an
alarm. Rows and trails are both read in id order and joined as two sorted streams: one pass, memory
flat in the number of incidents.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from timeline.clock import iso_beijing
from yuqing.db.models import Action, AuditRecord, Incident, IncidentCoUnit
from yuqing.db.service import action_snapshot, incident_snapshot

PAGE = 1000
# Problems named in full; the rest are counted.
NAMED = 20
_TIMES = {"first_post_at", "detected_at", "started_at", "closed_at", "voided_at", "at"}
_FIELD = {
    "title": "标题", "unit": "责任单位", "co_units": "协办单位", "parent_id": "关联舆情", "level": "事件级别",
    "sudden": "突发属性", "category": "事件类别", "status": "状态", "preset": "时限规则",
    "first_post_at": "首发时间", "detected_at": "发现时间", "started_at": "起算时间", "closed_at": "办结时间",
    "voided_at": "作废时间", "suggested_fields": "系统建议的字段", "incident_id": "所属舆情", "kind": "处置类型",
    "at": "处置时间", "channels": "渠道", "by_principal": "主要负责人", "evidence_url": "证据链接",
    "evidence_sha256": "证据文件哈希", "note": "说明",
}


@dataclass
class StateReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    total: int = 0

    @property
    def ok(self) -> bool:
        return self.total == 0

    def add(self, problem: str) -> None:
        self.total += 1
        if len(self.problems) < NAMED:
            self.problems.append(problem)


def _norm(key: str, value: Any) -> Any:
    """Times compare as instants (some records carry UTC ISO text, the snapshots Beijing time)."""
    if key in _TIMES and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            return value
    return value


def _key(entity_id: str) -> tuple[int, str]:
    # The order the database sorts the trails in (length, then text): numeric order for ids.
    return len(entity_id), entity_id


def fold(state: dict[str, Any] | None, action: str, at: datetime, before: dict[str, Any] | None,
         after: dict[str, Any] | None) -> dict[str, Any]:
    """The state after one audit record of an incident or an action."""
    if action in ("create", "late_entry") or state is None:
        return dict(after or {})
    after = after or {}
    new = dict(state)
    for k, v in after.items():
        if k in new:
            new[k] = v
    if action == "reopen" and "closed_at" in new and "closed_at" not in after:
        new["closed_at"] = None
    if action == "void" and "voided_at" in new and "voided_at" not in after:
        new["voided_at"] = iso_beijing(at)
    if action == "reclassify" and "suggested_fields" in new and "suggested_fields" not in after:
        before = before or {}
        new["suggested_fields"] = [f for f in new["suggested_fields"] or [] if after.get(f) == before.get(f)]
    if action == "transfer" and "co_units" in new and "co_units" not in after and "unit" in after:
        new["co_units"] = [c for c in new["co_units"] or [] if c != after["unit"]]
    return new


def _trails(session: Session, entity: str) -> Iterator[tuple[str, dict[str, Any], int]]:
    """(entity_id, folded state, last audit id) per id, in id order, streamed."""
    stmt = (
        select(AuditRecord.id, AuditRecord.entity_id, AuditRecord.action, AuditRecord.at,
               AuditRecord.before, AuditRecord.after)
        .where(AuditRecord.entity == entity)
        .order_by(func.length(AuditRecord.entity_id), AuditRecord.entity_id, AuditRecord.id)
        .execution_options(yield_per=PAGE)
    )
    current: str | None = None
    state: dict[str, Any] | None = None
    last = 0
    for record_id, entity_id, action, at, before, after in session.execute(stmt):
        if entity_id != current:
            if current is not None and state is not None:
                yield current, state, last
            current, state = entity_id, None
        state = fold(state, action, at, json.loads(before) if before else None, json.loads(after) if after else None)
        last = record_id
    if current is not None and state is not None:
        yield current, state, last


def _incidents(session: Session) -> Iterator[tuple[int, dict[str, Any], int]]:
    last_id = 0
    while True:
        page = session.scalars(
            select(Incident).where(Incident.id > last_id).order_by(Incident.id).limit(PAGE)
            .options(selectinload(Incident.unit), selectinload(Incident.co_units).selectinload(IncidentCoUnit.unit))
        ).all()
        if not page:
            return
        rows = [(i.id, incident_snapshot(i), i.id) for i in page]
        last_id = page[-1].id
        session.expunge_all()
        yield from rows


def _actions(session: Session) -> Iterator[tuple[int, dict[str, Any], int]]:
    last_id = 0
    while True:
        page = session.scalars(select(Action).where(Action.id > last_id).order_by(Action.id).limit(PAGE)).all()
        if not page:
            return
        rows = [(a.id, action_snapshot(a), a.incident_id) for a in page]
        last_id = page[-1].id
        session.expunge_all()
        yield from rows


def _join(report: StateReport, what: str, rows: Iterator[tuple[int, dict[str, Any], int]],
          trails: Iterator[tuple[str, dict[str, Any], int]], name: Callable[[int, int | None], str]) -> None:
    row = next(rows, None)
    trail = next(trails, None)
    while row is not None or trail is not None:
        row_key = _key(str(row[0])) if row is not None else None
        trail_key = _key(trail[0]) if trail is not None else None
        if trail is None or (row_key is not None and trail_key is not None and row_key < trail_key):
            assert row is not None
            report.checked += 1
            report.add(f"{name(row[0], row[2])}没有任何审计记录（绕过程序直接写入了数据库）")
            row = next(rows, None)
        elif row is None or (trail_key is not None and row_key is not None and trail_key < row_key):
            owner = trail[1].get("incident_id") if what == "action" else None
            report.add(f"{name(int(trail[0]) if trail[0].isdigit() else -1, owner)}有审计记录（最后一条 #{trail[2]}），"
                       "但数据库中已没有这一行（被直接删除）")
            trail = next(trails, None)
        else:
            report.checked += 1
            changed = [k for k, v in trail[1].items() if k in row[1] and _norm(k, row[1][k]) != _norm(k, v)]
            if changed:
                fields = "、".join(_FIELD.get(k, k) for k in changed)
                report.add(f"{name(row[0], row[2])}的{fields}与审计记录（最后一条 #{trail[2]}）不符（被直接改动）")
            row, trail = next(rows, None), next(trails, None)


def verify_state(session: Session) -> StateReport:
    """Every incident and action row against its audit trail."""
    report = StateReport()
    _join(report, "incident", _incidents(session), _trails(session, "incident"),
          lambda i, _owner: f"舆情 {i} " if i >= 0 else "某条舆情")
    _join(report, "action", _actions(session), _trails(session, "action"),
          lambda i, owner: f"舆情 {owner} 的处置记录 {i} " if owner is not None else f"处置记录 {i} ")
    return report
