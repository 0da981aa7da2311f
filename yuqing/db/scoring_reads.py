"""The facts scoring reads, loaded in bulk: a year of incidents, referrals, appeals, daily records,
specials and zeroings as `scoring` facts (ScoringData), the quarterly bulletin, and frozen snapshots.
A year loads in a handful of queries."""
from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from scoring import (
    ActionFact,
    AppealDecision,
    DailyRecord,
    ManualScore,
    Referral,
    ScoredIncident,
    SpecialItem,
    Zeroing,
    as_json,
    diff_scores,
)
from scoring.assessment import ScoringData
from scoring.facts import TransferFact
from scoring.indicators import year_bounds
from timeline.clock import iso_beijing
from timeline.engine import Grading, evaluate
from timeline.presets import OFFICE_MARK, available_presets, load_preset
from yuqing.bulletin import Bulletin, RectificationEntry, bulletin, quarter_bounds
from yuqing.db import audit, cases
from yuqing.db.models import Action, Incident, IncidentCoUnit, Reclassification, Transfer, Unit
from yuqing.db.models_scoring import (
    Appeal,
    Rectification,
    ScoreSnapshot,
)
from yuqing.db.models_scoring import (
    DailyRecord as DailyRow,
)
from yuqing.db.models_scoring import (
    ManualScore as ManualRow,
)
from yuqing.db.models_scoring import (
    Referral as ReferralRow,
)
from yuqing.db.models_scoring import (
    SpecialItem as SpecialRow,
)
from yuqing.db.models_scoring import (
    Zeroing as ZeroingRow,
)
from yuqing.db.office_rules import office_scheme
from yuqing.db.offices import office_clause
from yuqing.db.service import Writer, unit_refs
from yuqing.errors import YuqingError

TEXT_LIMIT = 5000


POINTS_LIMIT = 100.0


_CHUNK = 500  # ids per IN (...) list


# --- reads: rows → facts ---------------------------------------------------------------------------
def _scope(session: Session, office_column: Any) -> tuple[Any, ...]:
    """The office condition of a Core query (nothing in an installation-wide session): records kept
    by unit belong to the unit's office."""
    clause = office_clause(session, office_column)
    return () if clause is None else (clause,)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic GC while a year's ~10⁶ small objects are built: it would rescan them again and
    again (pausing it halves the load time, bench/score_speed.py); nothing built here forms a cycle."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_incidents(session: Session, *, now: datetime, start: datetime | None = None, end: datetime | None = None,
                   ids: Iterable[int] = ()) -> dict[int, ScoredIncident]:
    """Incidents whose clock started in [start, end) and/or with the given ids, with their actions,
    co-units and reclassifications (one query each per selection, never one per incident) and their
    verdicts judged at `now` by timeline.engine.evaluate."""
    with _bulk():
        return _load_incidents(session, now=now, start=start, end=end, ids=ids)


def _load_incidents(session: Session, *, now: datetime, start: datetime | None, end: datetime | None,
                    ids: Iterable[int]) -> dict[int, ScoredIncident]:
    inc = Incident.__table__
    selections = []
    if start is not None and end is not None:
        selections.append((inc.c.started_at >= start) & (inc.c.started_at < end))
    selections += [inc.c.id.in_(chunk) for chunk in _chunks(ids)]  # type: ignore[misc]  # both are SQL boolean clauses
    rows: dict[int, Any] = {}
    actions: dict[int, list[Any]] = defaultdict(list)
    co_units: dict[int, list[str]] = defaultdict(list)
    regrades: dict[int, list[tuple[datetime, Any, Any]]] = defaultdict(list)
    moves: dict[int, list[TransferFact]] = defaultdict(list)
    act, co, rc, unit = Action.__table__, IncidentCoUnit.__table__, Reclassification.__table__, Unit.__table__
    tr, src, dst = Transfer.__table__, Unit.__table__.alias("from_unit"), Unit.__table__.alias("to_unit")
    scope = office_clause(session, inc.c.office_id, inc.c.unit_id)
    for where in selections:
        if scope is not None:
            where = where & scope
        for row in session.execute(
            select(inc.c.id, inc.c.title, unit.c.code, inc.c.started_at, inc.c.level, inc.c.sudden, inc.c.category,
                   inc.c.status, inc.c.preset, inc.c.parent_id)
            .join(unit, unit.c.id == inc.c.unit_id).where(where)
        ).all():
            rows[row[0]] = row
        for incident_id, kind, at, channels, principal in session.execute(
            select(act.c.incident_id, act.c.kind, act.c.at, act.c.channels, act.c.by_principal)
            .join(inc, inc.c.id == act.c.incident_id).where(where)
        ).all():
            actions[incident_id].append((kind, at, channels, principal))
        for incident_id, code in session.execute(
            select(co.c.incident_id, unit.c.code).join(unit, unit.c.id == co.c.unit_id)
            .join(inc, inc.c.id == co.c.incident_id).where(where).order_by(co.c.id)
        ):
            co_units[incident_id].append(code)
        for incident_id, at, before, after in session.execute(
            select(rc.c.incident_id, rc.c.at, rc.c.before, rc.c.after)
            .join(inc, inc.c.id == rc.c.incident_id).where(where).order_by(rc.c.at, rc.c.id)
        ):
            regrades[incident_id].append((at, before, after))
        for incident_id, at, from_code, to_code in session.execute(
            select(tr.c.incident_id, tr.c.at, src.c.code, dst.c.code)
            .join(src, src.c.id == tr.c.from_unit_id).join(dst, dst.c.id == tr.c.to_unit_id)
            .join(inc, inc.c.id == tr.c.incident_id).where(where).order_by(tr.c.at, tr.c.id)
        ):
            moves[incident_id].append(TransferFact(at, from_code, to_code))

    result: dict[int, ScoredIncident] = {}
    for incident_id, title, unit_code, started, level, sudden, category, status, preset, parent in rows.values():
        own = actions.get(incident_id, ())
        voided = status == "voided"
        case = cases.case(started, Grading(level, sudden, category), ((a[0], a[1]) for a in own),
                          regrades.get(incident_id, ()), voided=voided)
        result[incident_id] = ScoredIncident(
            id=incident_id,
            title=title,
            unit_code=unit_code,
            started_at=started,
            verdict=evaluate(case, load_preset(preset), now=now),
            actions=tuple(ActionFact(a[0], a[1], tuple(a[2] or ()), bool(a[3])) for a in own),
            co_unit_codes=tuple(co_units.get(incident_id, ())),
            parent_id=parent,
            voided=voided,
            level=level,
            sudden=sudden,
            category=category,
            transfers=tuple(moves.get(incident_id, ())),
        )
    return result


def _referrals(session: Session, where: Any) -> list[Referral]:
    r, unit = ReferralRow.__table__, Unit.__table__
    return [
        Referral(id=i, incident_id=incident_id, unit_code=code, sent_at=sent, due_at=due, replied_at=replied)
        for i, incident_id, code, sent, due, replied in session.execute(
            select(r.c.id, r.c.incident_id, unit.c.code, r.c.sent_at, r.c.due_at, r.c.replied_at)
            .join(unit, unit.c.id == r.c.unit_id).where(where, *_scope(session, r.c.office_id))
            .order_by(r.c.sent_at, r.c.id)
        )
    ]


def _appeal_decisions(session: Session, where: Any) -> list[AppealDecision]:
    a, unit = Appeal.__table__, Unit.__table__
    return [
        AppealDecision(key, code, decision == "overturn", decided, reason or "")
        for key, code, decision, decided, reason in session.execute(
            select(a.c.deduction_key, unit.c.code, a.c.decision, a.c.decided_at, a.c.decision_reason)
            .join(unit, unit.c.id == a.c.unit_id).where(a.c.decision.is_not(None), where, *_scope(session, unit.c.office_id))
            .order_by(a.c.decided_at, a.c.id)
        )
    ]


def _daily(session: Session, first: date, last: date) -> list[DailyRecord]:
    d, unit = DailyRow.__table__, Unit.__table__
    return [
        DailyRecord(unit_code=code, on=on, points=points, reason=reason, indicator=indicator, id=i)
        for i, code, on, points, reason, indicator in session.execute(
            select(d.c.id, unit.c.code, d.c.on_date, d.c.points, d.c.reason, d.c.indicator)
            .join(unit, unit.c.id == d.c.unit_id)
            .where(d.c.on_date >= first, d.c.on_date <= last, *_scope(session, unit.c.office_id))
            .order_by(d.c.on_date, d.c.id)
        )
    ]


def _specials(session: Session, year: int) -> list[SpecialItem]:
    s, unit = SpecialRow.__table__, Unit.__table__
    return [
        SpecialItem(unit_code=code, year=year, item=item, points=abs(points), evidence=evidence, on=on, id=i)
        for i, code, item, points, evidence, on in session.execute(
            select(s.c.id, unit.c.code, s.c.item, s.c.points, s.c.evidence, s.c.on_date)
            .join(unit, unit.c.id == s.c.unit_id).where(s.c.year == year, *_scope(session, unit.c.office_id))
            .order_by(s.c.id)
        )
    ]


def _zeroings(session: Session, year: int) -> list[Zeroing]:
    z, unit = ZeroingRow.__table__, Unit.__table__
    return [
        Zeroing(unit_code=code, year=year, evidence=evidence, on=on)
        for code, evidence, on in session.execute(
            select(unit.c.code, z.c.evidence, z.c.on_date).join(unit, unit.c.id == z.c.unit_id)
            .where(z.c.year == year, *_scope(session, unit.c.office_id)).order_by(z.c.id)
        )
    ]


def load_year(session: Session, year: int, *, now: datetime) -> ScoringData:
    """What `score --year` reads: the year's incidents (by the Beijing year their clock started) plus the
    parents of its secondary incidents and the incidents its referrals name, and the year's records."""
    scheme = office_scheme(session, year)
    bounds = year_bounds(year)
    incidents = load_incidents(session, now=now, start=bounds[0], end=bounds[1])
    r = ReferralRow.__table__
    referrals = _referrals(session, (r.c.sent_at >= bounds[0]) & (r.c.sent_at < bounds[1]))
    missing = {i.parent_id for i in incidents.values() if i.parent_id is not None}
    missing |= {x.incident_id for x in referrals}
    incidents.update(load_incidents(session, now=now, ids=missing - set(incidents)))
    m, unit, a = ManualRow.__table__, Unit.__table__, Appeal.__table__
    manual = [
        ManualScore(code, indicator, points, note or "")
        for code, indicator, points, note in session.execute(
            select(unit.c.code, m.c.indicator, m.c.points, m.c.note).join(unit, unit.c.id == m.c.unit_id)
            .where(m.c.year == year, *_scope(session, unit.c.office_id)).order_by(m.c.id)
        )
    ]
    return ScoringData(
        scheme=scheme, year=year, now=now, units=unit_refs(session),
        incidents=tuple(incidents.values()), referrals=tuple(referrals), manual=tuple(manual),
        specials=tuple(_specials(session, year)), zeroings=tuple(_zeroings(session, year)),
        daily=tuple(_daily(session, date(year, 1, 1), date(year, 12, 31))),
        appeals=tuple(_appeal_decisions(session, a.c.year == year)),
    )


def _rectifications(session: Session, start: datetime, end: datetime) -> list[RectificationEntry]:
    """整改 due or done in [start, end)."""
    rows = session.scalars(select(Rectification).join(Unit, Unit.id == Rectification.unit_id).where(
        ((Rectification.due_at >= start) & (Rectification.due_at < end))
        | ((Rectification.done_at >= start) & (Rectification.done_at < end)),
        *_scope(session, Unit.office_id),
    ).order_by(Rectification.id))
    return [RectificationEntry(r.id, r.unit.code, r.problem, r.due_at, r.done_at, tuple(r.answers or ()), r.created_at)
            for r in rows]


def _longest_window(session: Session) -> timedelta:
    """The longest window of any preset an incident in view may run under: the shipped ones and the
    office presets (each office's own, yuqing.db.office_rules) its incidents were stamped with."""
    names = set(available_presets())
    names.update(session.scalars(select(Incident.preset).where(Incident.preset.contains(OFFICE_MARK),
                                                               *_scope(session, Incident.office_id)).distinct()))
    return max(w.length for name in sorted(names) for w in load_preset(name).windows)


def make_bulletin(session: Session, year: int, quarter: int, *, now: datetime, draft: bool = False) -> Bulletin:
    """第十条 quarterly bulletin: windows whose deadline fell in the quarter (so incidents started up to
    the longest window before it), referrals sent, records dated and appeals decided in it — as of
    `now`. A quarter that has not ended is refused unless `draft` (marked 征求意见稿); one that has not
    begun is always refused."""
    start, end = quarter_bounds(year, quarter)
    if now < start:
        raise YuqingError("E_BULLETIN_NOT_STARTED", year=year, quarter=quarter)
    if now < end and not draft:
        raise YuqingError("E_BULLETIN_QUARTER_OPEN", year=year, quarter=quarter,
                          end=(end - timedelta(days=1)).date().isoformat())
    scheme = office_scheme(session, year)
    count, head = audit.count_and_head(session)
    incidents = load_incidents(session, now=now, start=start - _longest_window(session), end=end)
    r, a = ReferralRow.__table__, Appeal.__table__
    referrals = _referrals(session, (r.c.sent_at >= start) & (r.c.sent_at < end))
    incidents.update(load_incidents(session, now=now, ids={x.incident_id for x in referrals} - set(incidents)))
    return bulletin(
        year, quarter, scheme=scheme, units=unit_refs(session), incidents=tuple(incidents.values()),
        referrals=referrals, daily=_daily(session, start.date(), (end - timedelta(days=1)).date()),
        specials=_specials(session, year), zeroings=_zeroings(session, year),
        appeals=_appeal_decisions(session, (a.c.decided_at >= start) & (a.c.decided_at < end)),
        rectifications=_rectifications(session, start, end),
        now=now, audit_head=head, audit_count=count, draft=draft,
    )


def attributed_to(incident: ScoredIncident, code: str) -> bool:
    """The unit leads it now, bears one of its windows (it led when the window fell due), or co-handles it."""
    return code in incident.lead_codes() or code in incident.co_unit_codes


# --- snapshots -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SnapshotView:
    id: int
    year: int
    scheme: str
    now: datetime
    data_hash: str
    audit_head: str
    created_at: datetime
    created_by: str
    results: list[Any]
    audit_count: int | None = None
    audit_seal: str | None = None


def _snapshot_view(row: ScoreSnapshot) -> SnapshotView:
    return SnapshotView(row.id, row.year, row.scheme, row.now, row.data_hash, row.audit_head, row.created_at,
                        row.created_by, list(row.results), row.audit_count, row.audit_seal)


def freeze(writer: Writer, year: int, *, now: datetime) -> SnapshotView:
    """Store the year's results as judged at `now`, with the scheme, a hash of the scored data and the
    audit trail's head hash at this moment; the freeze itself is then audited."""
    writer.require_admin("冻结评分结果")
    session = writer.session
    if session.get_bind().dialect.name == "postgresql":
        # Hold the audit chain's lock from the start, so no write lands between the data read here, the
        # head recorded and the freeze's own audit record (SQLite's BEGIN IMMEDIATE already does this).
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": audit._CHAIN_LOCK})
    data = load_year(session, year, now=now)
    results = as_json(data.score())
    row = ScoreSnapshot(
        year=year, scheme=data.scheme.name, scheme_digest=data.scheme.digest, now=now, data_hash=data.data_hash(),
        audit_head=audit.head_hash(session), results=results, created_at=writer.now, created_by=writer.actor.name,
    )
    session.add(row)
    session.flush()
    writer.audit("score_snapshot", row.id, "freeze", None, {
        "year": year, "scheme": row.scheme, "scheme_digest": row.scheme_digest, "now": iso_beijing(now),
        "data_hash": row.data_hash, "audit_head": row.audit_head,
    })
    row.audit_count, row.audit_seal = audit.count_and_head(session)
    session.flush()
    return _snapshot_view(row)


def latest_snapshot(session: Session, year: int) -> SnapshotView:
    row = session.scalar(select(ScoreSnapshot).where(ScoreSnapshot.year == year).order_by(ScoreSnapshot.id.desc()).limit(1))
    if row is None:
        raise YuqingError("E_SNAPSHOT_NONE", year=year)
    return _snapshot_view(row)


def diff_since_snapshot(session: Session, year: int, *, now: datetime) -> tuple[SnapshotView, ScoringData, list[dict[str, Any]]]:
    """The latest snapshot of the year, the data as it stands, and what changed unit by unit."""
    snapshot = latest_snapshot(session, year)
    data = load_year(session, year, now=now)
    return snapshot, data, diff_scores(snapshot.results, as_json(data.score()))
