"""Reads: a session in, plain frozen dataclasses out (what the CLI, pages and scoring consume)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from timeline.clock import iso_beijing
from timeline.engine import ActionAt, Case, Grading, Regrade, Verdict, evaluate, verdict_as_json
from timeline.presets import load_preset
from yuqing.db import audit
from yuqing.db.models import AuditRecord, Incident, IncidentCoUnit, Unit


@dataclass(frozen=True)
class UnitView:
    code: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    predecessors: tuple[str, ...]
    active: bool


@dataclass(frozen=True)
class ActionView:
    id: int
    kind: str
    at: datetime
    unit_code: str
    channels: tuple[str, ...]
    by_principal: bool
    evidence_url: str | None
    evidence_sha256: str | None
    evidence_name: str | None
    note: str | None
    reason: str | None
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class RegradeView:
    id: int
    at: datetime
    actor: str
    reason: str
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True)
class TransferView:
    id: int
    at: datetime
    actor: str
    reason: str
    from_unit: str
    to_unit: str
    from_name: str = ""
    to_name: str = ""


@dataclass(frozen=True)
class IncidentView:
    id: int
    title: str
    summary: str | None
    unit: UnitView
    co_units: tuple[UnitView, ...]
    parent_id: int | None
    level: str | None
    sudden: bool | None
    category: str | None
    status: str
    preset: str
    source_url: str | None
    first_post_at: datetime | None
    detected_at: datetime | None
    logged_at: datetime
    started_at: datetime
    closed_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None
    created_by: str
    suggestion: dict[str, Any] | None
    suggested_fields: tuple[str, ...]
    rules_version: str | None
    actions: tuple[ActionView, ...]
    regrades: tuple[RegradeView, ...]
    transfers: tuple[TransferView, ...]

    def case(self) -> Case:
        return Case(
            started_at=self.started_at,
            grading=Grading(self.level, self.sudden, self.category),
            actions=tuple(ActionAt(a.kind, a.at) for a in self.actions),
            regrades=tuple(
                Regrade(r.at, Grading(**_grading(r.before)), Grading(**_grading(r.after))) for r in self.regrades
            ),
            voided=self.status == "voided",
        )

    def verdict(self, now: datetime) -> Verdict:
        return evaluate(self.case(), load_preset(self.preset), now=now)


def _grading(data: dict[str, Any]) -> dict[str, Any]:
    return {"level": data.get("level"), "sudden": data.get("sudden"), "category": data.get("category")}


def _unit_view(unit: Unit) -> UnitView:
    return UnitView(unit.code, unit.name, unit.kind, tuple(unit.aliases), tuple(unit.predecessors), unit.active)


def _incident_view(row: Incident) -> IncidentView:
    return IncidentView(
        id=row.id,
        title=row.title,
        summary=row.summary,
        unit=_unit_view(row.unit),
        co_units=tuple(_unit_view(c.unit) for c in row.co_units),
        parent_id=row.parent_id,
        level=row.level,
        sudden=row.sudden,
        category=row.category,
        status=row.status,
        preset=row.preset,
        source_url=row.source_url,
        first_post_at=row.first_post_at,
        detected_at=row.detected_at,
        logged_at=row.logged_at,
        started_at=row.started_at,
        closed_at=row.closed_at,
        voided_at=row.voided_at,
        void_reason=row.void_reason,
        created_by=row.created_by,
        suggestion=row.suggestion,
        suggested_fields=tuple(row.suggested_fields or ()),
        rules_version=row.rules_version,
        actions=tuple(
            ActionView(
                a.id,
                a.kind,
                a.at,
                a.unit.code,
                tuple(a.channels or ()),
                a.by_principal,
                a.evidence_url,
                a.evidence_sha256,
                a.evidence_name,
                a.note,
                a.reason,
                a.recorded_at,
                a.recorded_by,
            )
            for a in row.actions
        ),
        regrades=tuple(RegradeView(r.id, r.at, r.actor, r.reason, dict(r.before), dict(r.after)) for r in row.regrades),
        transfers=tuple(
            TransferView(t.id, t.at, t.actor, t.reason, t.from_unit.code, t.to_unit.code, t.from_unit.name,
                         t.to_unit.name) for t in row.transfers
        ),
    )


_LOAD = (
    selectinload(Incident.co_units).joinedload(IncidentCoUnit.unit),
    selectinload(Incident.actions),
    selectinload(Incident.regrades),
    selectinload(Incident.transfers),
)


def list_units(session: Session, *, include_inactive: bool = False) -> list[UnitView]:
    stmt = select(Unit).order_by(Unit.kind.desc(), Unit.id)
    if not include_inactive:
        stmt = stmt.where(Unit.active.is_(True))
    return [_unit_view(u) for u in session.scalars(stmt)]


def get_incident(session: Session, incident_id: int) -> IncidentView | None:
    row = session.scalar(select(Incident).where(Incident.id == incident_id).options(*_LOAD))
    return _incident_view(row) if row is not None else None


def list_incidents(
    session: Session, *, open_only: bool = False, unit_code: str | None = None, limit: int | None = None
) -> list[IncidentView]:
    stmt = select(Incident).options(*_LOAD).order_by(Incident.started_at.desc(), Incident.id.desc())
    if open_only:
        stmt = stmt.where(Incident.status == "open")
    if unit_code is not None:
        stmt = stmt.join(Unit, Incident.unit_id == Unit.id).where(Unit.code == unit_code)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_incident_view(r) for r in session.scalars(stmt).unique()]


def count_incidents(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


def window_unit(view: IncidentView, window: Any) -> dict[str, str]:
    """The unit a window counts for (scoring.facts.ScoredIncident.window_unit): the lead at its due
    instant, or at its satisfying action if that came first."""
    lead = {"code": view.unit.code, "name": view.unit.name}
    if not view.transfers or window.due_at is None:
        return lead
    moment = min(window.due_at, window.satisfied_at or window.due_at)
    first = view.transfers[0]
    lead = {"code": first.from_unit, "name": first.from_name}
    for t in view.transfers:
        if t.at < moment:
            lead = {"code": t.to_unit, "name": t.to_name}
    return lead


def incident_json(view: IncidentView, now: datetime, *, with_actions: bool = True) -> dict[str, Any]:
    verdict = view.verdict(now)
    data: dict[str, Any] = {
        "id": view.id,
        "title": view.title,
        "unit": {"code": view.unit.code, "name": view.unit.name},
        "co_units": [{"code": u.code, "name": u.name} for u in view.co_units],
        "parent_id": view.parent_id,
        "level": view.level,
        "sudden": view.sudden,
        "category": view.category,
        "status": view.status,
        "first_post_at": iso_beijing(view.first_post_at),
        "detected_at": iso_beijing(view.detected_at),
        "logged_at": iso_beijing(view.logged_at),
        "started_at": iso_beijing(view.started_at),
        "closed_at": iso_beijing(view.closed_at),
        "voided_at": iso_beijing(view.voided_at),
        "void_reason": view.void_reason,
        "summary": view.summary,
        "source_url": view.source_url,
        "suggested_fields": list(view.suggested_fields),
        "rules_version": view.rules_version,
        **verdict_as_json(verdict),
    }
    for shown, window in zip(data["windows"], verdict.windows, strict=True):
        shown["counts_for"] = window_unit(view, window) if window.applicable else None
    if with_actions:
        data["actions"] = [
            {
                "id": a.id,
                "kind": a.kind,
                "at": iso_beijing(a.at),
                "unit": a.unit_code,
                "channels": list(a.channels),
                "by_principal": a.by_principal,
                "evidence_url": a.evidence_url,
                "evidence_sha256": a.evidence_sha256,
                "evidence_name": a.evidence_name,
                "note": a.note,
                "reason": a.reason,
                "recorded_at": iso_beijing(a.recorded_at),
                "recorded_by": a.recorded_by,
            }
            for a in view.actions
        ]
        preset = load_preset(view.preset)
        history = []
        for r in view.regrades:
            # The verdicts as they stood just before this reclassification stay visible.
            earlier = Case(
                started_at=view.started_at,
                grading=Grading(**_grading(r.before)),
                actions=tuple(ActionAt(a.kind, a.at) for a in view.actions if a.at <= r.at),
            )
            history.append(
                {
                    "at": iso_beijing(r.at),
                    "actor": r.actor,
                    "reason": r.reason,
                    "before": r.before,
                    "after": r.after,
                    "windows_before": verdict_as_json(evaluate(earlier, preset, now=r.at))["windows"],
                }
            )
        data["reclassifications"] = history
        data["transfers"] = [
            {"at": iso_beijing(t.at), "actor": t.actor, "reason": t.reason, "from": t.from_unit, "to": t.to_unit}
            for t in view.transfers
        ]
    return data


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    entity: str
    entity_id: str
    action: str
    before: str | None
    after: str | None
    reason: str | None
    hash: str


def audit_log(session: Session, *, entity: str | None = None, entity_id: str | None = None, limit: int = 1000) -> list[AuditView]:
    stmt = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if entity:
        stmt = stmt.where(AuditRecord.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditRecord.entity_id == str(entity_id))
    rows = list(session.scalars(stmt))
    rows.reverse()
    return [
        AuditView(r.id, r.at, r.actor, r.entity, r.entity_id, r.action, r.before, r.after, r.reason, r.hash)
        for r in rows
    ]


def audit_head(session: Session) -> str:
    return audit.head_hash(session)
