"""Incidents as read models: one incident with its actions, reclassifications and transfers, lists, choices for pickers, and the JSON shape of `incident show/list`."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from timeline.clock import iso_beijing
from timeline.engine import Case, Grading, Verdict, evaluate, verdict_as_json
from timeline.presets import load_preset
from yuqing.db import cases, windows
from yuqing.db.models import Incident, IncidentCoUnit, Unit
from yuqing.db.units import UnitView, _unit_view

UNGRADED = "未定级"


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
        return cases.case(
            self.started_at,
            Grading(self.level, self.sudden, self.category),
            ((a.kind, a.at) for a in self.actions),
            ((r.at, r.before, r.after) for r in self.regrades),
            voided=self.status == "voided",
        )

    def verdict(self, now: datetime) -> Verdict:
        return evaluate(self.case(), load_preset(self.preset), now=now)


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


def _incidents_by_ids(session: Session, ids: list[int]) -> list[IncidentView]:
    """Full views of these incidents, in the order of `ids`."""
    if not ids:
        return []
    rows = {r.id: r for r in session.scalars(select(Incident).where(Incident.id.in_(ids)).options(*_LOAD)).unique()}
    return [_incident_view(rows[i]) for i in ids if i in rows]


def _filtered(stmt: Any, *, open_only: bool, unit_code: str | None, levels: list[str] | tuple[str, ...] | None) -> Any:
    from sqlalchemy import or_

    if open_only:
        stmt = stmt.where(Incident.status == "open")
    if unit_code is not None:
        stmt = stmt.where(Incident.unit_id == select(Unit.id).where(Unit.code == unit_code).scalar_subquery())
    if levels:
        named = [lv for lv in levels if lv != UNGRADED]
        conditions = [Incident.level.in_(named)] if named else []
        if UNGRADED in levels:
            conditions.append(Incident.level.is_(None))
        stmt = stmt.where(or_(*conditions))
    return stmt


@dataclass(frozen=True)
class IncidentPage:
    """One page of a list: the ids shown (in order; load them with iter_incidents), how many match in
    all, and where the page starts."""

    ids: tuple[int, ...]
    total: int
    limit: int | None
    offset: int


def incident_page(
    session: Session,
    *,
    open_only: bool = False,
    unit_code: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> IncidentPage:
    """Incidents newest first, `limit` of them from `offset` (all when limit is None), with the total
    that match: the paging and the count are done in the query."""
    from sqlalchemy import func

    total = int(session.scalar(_filtered(select(func.count(Incident.id)), open_only=open_only, unit_code=unit_code, levels=None)) or 0)
    ids_stmt = _filtered(
        select(Incident.id).order_by(Incident.started_at.desc(), Incident.id.desc()),
        open_only=open_only, unit_code=unit_code, levels=None,
    ).offset(offset)
    if limit is not None:
        ids_stmt = ids_stmt.limit(limit)
    return IncidentPage(tuple(session.scalars(ids_stmt)), total, limit, offset)


def iter_incidents(session: Session, ids: list[int], *, chunk: int = 200) -> Any:
    """Full views of `ids` in that order, loaded `chunk` at a time (memory follows the chunk)."""
    for start in range(0, len(ids), chunk):
        yield from _incidents_by_ids(session, ids[start:start + chunk])


def each_incident(session: Session, ids: list[int], work: Callable[[IncidentView], None], *, chunk: int = 200) -> None:
    """Call `work` on the full view of each of `ids`, in order, loading `chunk` at a time."""
    for view in iter_incidents(session, ids, chunk=chunk):
        work(view)


@dataclass(frozen=True)
class BoardEntry:
    view: IncidentView
    verdict: Verdict


@dataclass(frozen=True)
class BoardPage:
    """What the countdown board shows: one page of open incidents, most urgent first (overdue, then
    least time left), and the counts over every open incident that matches the filters."""

    entries: tuple[BoardEntry, ...]
    total: int
    counts: dict[str, int]
    limit: int | None
    offset: int

    @property
    def pages(self) -> int:
        if not self.limit:
            return 1
        return max(1, -(-self.total // self.limit))


def board_page(
    session: Session,
    now: datetime,
    *,
    unit_code: str | None = None,
    levels: list[str] | tuple[str, ...] | None = None,
    tones: list[str] | tuple[str, ...] | None = None,
    limit: int | None = None,
    offset: int | Callable[[int], int] = 0,
) -> BoardPage:
    """The board's data call. Filters, the ranking (overdue first, then least time left), the counts
    and the paging all run in SQL over the stored open windows (yuqing/db/windows.py); only the
    `limit` incidents shown are loaded and judged, from their full views, so the page shows exactly
    what the detail page does. `offset` may be a function of the total (the wall display turns its
    pages by the clock)."""
    ranking = open_ranking(session, now, unit_code=unit_code, levels=levels, tones=tones, limit=limit, offset=offset)
    entries = tuple(BoardEntry(v, v.verdict(now)) for v in _incidents_by_ids(session, list(ranking.ids)))
    return BoardPage(entries, ranking.total, ranking.counts, limit, ranking.offset)


def open_ranking(
    session: Session,
    now: datetime,
    *,
    unit_code: str | None = None,
    levels: list[str] | tuple[str, ...] | None = None,
    tones: list[str] | tuple[str, ...] | None = None,
    limit: int | None = None,
    offset: int | Callable[[int], int] = 0,
) -> windows.OpenRanking:
    """Open incidents most urgent first at `now` (the board's order, shared by `incident list --open`
    and the API's open list), `limit` of them from `offset`, with the total and the tone counts."""
    chosen = _filtered(select(Incident.id), open_only=True, unit_code=unit_code, levels=levels)
    return windows.rank_open(session, now, chosen, tones=tuple(tones or ()), limit=limit, offset=offset)


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
            earlier = cases.case(view.started_at, cases.grading(r.before),
                                 ((a.kind, a.at) for a in view.actions if a.at <= r.at))
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
class IncidentChoice:
    id: int
    title: str
    unit_code: str
    unit_name: str
    status: str

    @property
    def label(self) -> str:
        return f"#{self.id} {self.title}（{self.unit_name}）"


@dataclass(frozen=True)
class ChoicePage:
    """The newest `limit` incidents matching a search, and how many match in all (a pick list never
    stops short silently: the page shows the count and asks for a narrower search)."""

    choices: list[IncidentChoice]
    total: int
    # The count stops at COUNTED_CHOICES: past it the page says "more than" that many (counting every
    # open incident of a year on every view would cost what the year holds, not what the list shows).
    more_than: bool = False


COUNTED_CHOICES = 1000


def incident_choices(session: Session, search: str = "", *, open_only: bool = False, limit: int = 50) -> ChoicePage:
    """Incidents for pick lists (parent, merge target, referral, detail page), newest first: those whose
    title contains `search`, or whose number it is (`#123`; plain `123` finds the number and titles holding 123)."""
    where = []
    if open_only:
        where.append(Incident.status == "open")
    words = search.strip()
    if words:
        number = words.lstrip("#").strip()
        if number.isdigit() and len(number) < 10:
            by_number = Incident.id == int(number)
            where.append(by_number if words.startswith("#") else or_(by_number, Incident.title.contains(number, autoescape=True)))
        else:
            where.append(Incident.title.contains(words, autoescape=True))
    matching = select(Incident.id).where(*where).limit(COUNTED_CHOICES + 1).subquery()
    total = int(session.scalar(select(func.count()).select_from(matching)) or 0)
    rows = session.execute(
        select(Incident.id, Incident.title, Unit.code, Unit.name, Incident.status)
        .join(Unit, Incident.unit_id == Unit.id)
        .where(*where)
        .order_by(Incident.id.desc())
        .limit(limit)
    )
    return ChoicePage([IncidentChoice(*row) for row in rows], min(total, COUNTED_CHOICES), more_than=total > COUNTED_CHOICES)


def evidence_path(evidence_dir: Path, sha256: str | None) -> Path | None:
    """Where the write service keeps an evidence file (content-addressed), if it is there."""
    if not sha256 or len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        return None
    path = evidence_dir / sha256[:2] / sha256
    return path if path.is_file() else None
