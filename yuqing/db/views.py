"""Reads the dashboard needs beyond db.queries: a session in, frozen dataclasses out.

Pick lists (incidents by id and title), an incident's whole history from the audit trail, the triage
queue grouped by event, where an evidence file is kept, and the appeals of a year.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from yuqing.db.models import Action, AuditRecord, Incident, Item, Unit
from yuqing.db.queries import AuditView
from yuqing.db.triage import QueueItem, queue


@dataclass(frozen=True)
class IncidentChoice:
    id: int
    title: str
    unit_code: str
    unit_name: str
    status: str

    @property
    def label(self) -> str:
        return f"#{self.id} {self.title}（{self.unit_name}）"


def incident_choices(session: Session, *, open_only: bool = False, limit: int = 500) -> list[IncidentChoice]:
    """The most recent incidents, newest first, for pick lists (parent, merge target, detail page)."""
    stmt = (
        select(Incident.id, Incident.title, Unit.code, Unit.name, Incident.status)
        .join(Unit, Incident.unit_id == Unit.id)
        .order_by(Incident.id.desc())
        .limit(limit)
    )
    if open_only:
        stmt = stmt.where(Incident.status == "open")
    return [IncidentChoice(*row) for row in session.execute(stmt)]


def incident_history(session: Session, incident_id: int, *, limit: int = 500) -> list[AuditView]:
    """Every audit record about one incident: the incident itself, its actions, and the feed items
    accepted into it or merged with it — oldest first."""
    action_ids = select(Action.id).where(Action.incident_id == incident_id)
    item_ids = select(Item.id).where(Item.incident_id == incident_id)
    key = str(incident_id)
    stmt = (
        select(AuditRecord)
        .where(
            or_(
                (AuditRecord.entity == "incident") & (AuditRecord.entity_id == key),
                (AuditRecord.entity == "action") & AuditRecord.entity_id.in_(_as_text(session, action_ids)),
                (AuditRecord.entity == "item") & AuditRecord.entity_id.in_(_as_text(session, item_ids)),
            )
        )
        .order_by(AuditRecord.id)
        .limit(limit)
    )
    return [
        AuditView(r.id, r.at, r.actor, r.entity, r.entity_id, r.action, r.before, r.after, r.reason, r.hash)
        for r in session.scalars(stmt)
    ]


def _as_text(session: Session, ids: object) -> list[str]:
    # audit_log.entity_id is text on both databases; compare with the ids as strings.
    return [str(i) for i in session.scalars(ids)]  # type: ignore[call-overload]  # SQLAlchemy types a scalar select of ids loosely


@dataclass(frozen=True)
class TriageGroup:
    """Pending items that report one event (same group key): decided together."""

    key: str
    items: tuple[QueueItem, ...]

    @property
    def head(self) -> QueueItem:
        return self.items[0]

    @property
    def flagged(self) -> bool:
        return bool(self.head.classification.get("flagged"))


def pending_groups(session: Session, *, limit: int = 500, state: str = "pending",
                   now: datetime | None = None) -> list[TriageGroup]:
    """The triage queue (or the items of another --state), flagged groups first; with `now`, each
    item names the incidents it may duplicate."""
    groups: dict[str, list[QueueItem]] = {}
    for item in queue(session, state=state, limit=limit, now=now):
        groups.setdefault(item.group, []).append(item)
    return [TriageGroup(key, tuple(members)) for key, members in groups.items()]


def evidence_path(evidence_dir: Path, sha256: str | None) -> Path | None:
    """Where the write service keeps an evidence file (content-addressed), if it is there."""
    if not sha256 or len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        return None
    path = evidence_dir / sha256[:2] / sha256
    return path if path.is_file() else None


@dataclass(frozen=True)
class AppealView:
    """One appeal against a deduction: pending (decision None), upheld or overturned."""

    id: int
    year: int
    deduction_key: str
    unit_code: str
    unit_name: str
    reason: str
    filed_at: datetime
    filed_by: str
    decision: str | None
    decision_reason: str | None
    decided_at: datetime | None
    decided_by: str | None


def list_appeals(session: Session, *, year: int) -> list[AppealView]:
    """The year's appeals, pending first, then by filing time."""
    from yuqing.db.models_scoring import Appeal

    rows = session.scalars(select(Appeal).where(Appeal.year == year).order_by(Appeal.decided_at.is_not(None), Appeal.filed_at, Appeal.id))
    return [
        AppealView(a.id, a.year, a.deduction_key, a.unit.code, a.unit.name, a.reason, a.filed_at, a.filed_by, a.decision,
                   a.decision_reason, a.decided_at, a.decided_by)
        for a in rows
    ]
