"""Scoring records in the database: audited, permission-checked writes (admin only, except that staff may
appeal their own unit's deductions), and bulk reads that turn rows into `scoring` facts for
`score_year`, the quarterly bulletin, snapshots and exports. A year loads in a handful of queries."""
from __future__ import annotations

import gc
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from classify.units import UnitRef, UnitResolver
from scoring import (
    ActionFact,
    AppealDecision,
    DailyRecord,
    ManualScore,
    Referral,
    Scheme,
    ScoredIncident,
    SpecialItem,
    UnitScore,
    Zeroing,
    as_json,
    diff_scores,
    load_scheme,
    referral_due_at,
    score_year,
    scored_data_hash,
)
from scoring.indicators import referral_state, year_bounds
from timeline.clock import BEIJING, iso_beijing
from timeline.engine import ActionAt, Case, Grading, Regrade, evaluate
from timeline.presets import available_presets, load_preset
from yuqing.bulletin import Bulletin, bulletin, quarter_bounds
from yuqing.db import audit
from yuqing.db.holidays import calendar_for
from yuqing.db.models import Action, Incident, IncidentCoUnit, Reclassification, Unit
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
from yuqing.db.service import FUTURE_TOLERANCE, Writer, locked, unit_refs
from yuqing.errors import YuqingError
from yuqing.vocabulary import label

TEXT_LIMIT = 5000
POINTS_LIMIT = 100.0
_CHUNK = 500  # ids per IN (...) list


# --- reads: rows → facts ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoringData:
    """Everything one `score_year` run reads, with verdicts judged at `now`."""

    scheme: Scheme
    year: int
    now: datetime
    units: tuple[UnitRef, ...]
    incidents: tuple[ScoredIncident, ...] = ()
    referrals: tuple[Referral, ...] = ()
    manual: tuple[ManualScore, ...] = ()
    specials: tuple[SpecialItem, ...] = ()
    zeroings: tuple[Zeroing, ...] = ()
    daily: tuple[DailyRecord, ...] = ()
    appeals: tuple[AppealDecision, ...] = ()

    def score(self) -> list[UnitScore]:
        return score_year(self.scheme, self.units, self.year, self.incidents, self.referrals, self.manual,
                          self.specials, self.zeroings, self.daily, self.appeals, now=self.now)

    def data_hash(self) -> str:
        return scored_data_hash(self.scheme, self.year, self.units, self.incidents, self.referrals, self.manual,
                                self.specials, self.zeroings, self.daily, self.appeals)


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
    regrades: dict[int, list[Regrade]] = defaultdict(list)
    act, co, rc, unit = Action.__table__, IncidentCoUnit.__table__, Reclassification.__table__, Unit.__table__
    for where in selections:
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
            regrades[incident_id].append(Regrade(at, _grading(before), _grading(after)))

    result: dict[int, ScoredIncident] = {}
    for incident_id, title, unit_code, started, level, sudden, category, status, preset, parent in rows.values():
        own = actions.get(incident_id, ())
        voided = status == "voided"
        case = Case(started, Grading(level, sudden, category), tuple(ActionAt(a[0], a[1]) for a in own),
                    tuple(regrades.get(incident_id, ())), voided)
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
        )
    return result


def _grading(data: dict[str, Any]) -> Grading:
    return Grading(data.get("level"), data.get("sudden"), data.get("category"))


def _referrals(session: Session, where: Any) -> list[Referral]:
    r, unit = ReferralRow.__table__, Unit.__table__
    return [
        Referral(id=i, incident_id=incident_id, unit_code=code, sent_at=sent, due_at=due, replied_at=replied)
        for i, incident_id, code, sent, due, replied in session.execute(
            select(r.c.id, r.c.incident_id, unit.c.code, r.c.sent_at, r.c.due_at, r.c.replied_at)
            .join(unit, unit.c.id == r.c.unit_id).where(where).order_by(r.c.sent_at, r.c.id)
        )
    ]


def _appeal_decisions(session: Session, where: Any) -> list[AppealDecision]:
    a, unit = Appeal.__table__, Unit.__table__
    return [
        AppealDecision(key, code, decision == "overturn", decided, reason or "")
        for key, code, decision, decided, reason in session.execute(
            select(a.c.deduction_key, unit.c.code, a.c.decision, a.c.decided_at, a.c.decision_reason)
            .join(unit, unit.c.id == a.c.unit_id).where(a.c.decision.is_not(None), where).order_by(a.c.decided_at, a.c.id)
        )
    ]


def _daily(session: Session, first: date, last: date) -> list[DailyRecord]:
    d, unit = DailyRow.__table__, Unit.__table__
    return [
        DailyRecord(unit_code=code, on=on, points=points, reason=reason, indicator=indicator, id=i)
        for i, code, on, points, reason, indicator in session.execute(
            select(d.c.id, unit.c.code, d.c.on_date, d.c.points, d.c.reason, d.c.indicator)
            .join(unit, unit.c.id == d.c.unit_id).where(d.c.on_date >= first, d.c.on_date <= last)
            .order_by(d.c.on_date, d.c.id)
        )
    ]


def _specials(session: Session, year: int) -> list[SpecialItem]:
    s, unit = SpecialRow.__table__, Unit.__table__
    return [
        SpecialItem(unit_code=code, year=year, item=item, points=abs(points), evidence=evidence, on=on, id=i)
        for i, code, item, points, evidence, on in session.execute(
            select(s.c.id, unit.c.code, s.c.item, s.c.points, s.c.evidence, s.c.on_date)
            .join(unit, unit.c.id == s.c.unit_id).where(s.c.year == year).order_by(s.c.id)
        )
    ]


def _zeroings(session: Session, year: int) -> list[Zeroing]:
    z, unit = ZeroingRow.__table__, Unit.__table__
    return [
        Zeroing(unit_code=code, year=year, evidence=evidence, on=on)
        for code, evidence, on in session.execute(
            select(unit.c.code, z.c.evidence, z.c.on_date).join(unit, unit.c.id == z.c.unit_id)
            .where(z.c.year == year).order_by(z.c.id)
        )
    ]


def load_year(session: Session, year: int, *, now: datetime) -> ScoringData:
    """What `score --year` reads: the year's incidents (by the Beijing year their clock started) plus the
    parents of its secondary incidents and the incidents its referrals name, and the year's records."""
    scheme = load_scheme(year)
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
            .where(m.c.year == year).order_by(m.c.id)
        )
    ]
    return ScoringData(
        scheme=scheme, year=year, now=now, units=unit_refs(session),
        incidents=tuple(incidents.values()), referrals=tuple(referrals), manual=tuple(manual),
        specials=tuple(_specials(session, year)), zeroings=tuple(_zeroings(session, year)),
        daily=tuple(_daily(session, date(year, 1, 1), date(year, 12, 31))),
        appeals=tuple(_appeal_decisions(session, a.c.year == year)),
    )


def _longest_window() -> timedelta:
    return max(w.length for name in available_presets() for w in load_preset(name).windows)


def make_bulletin(session: Session, year: int, quarter: int, *, now: datetime) -> Bulletin:
    """第十条 quarterly bulletin: windows whose deadline fell in the quarter (so incidents started up to
    the longest window before it), referrals sent, records dated and appeals decided in it."""
    start, end = quarter_bounds(year, quarter)
    scheme = load_scheme(year)
    incidents = load_incidents(session, now=now, start=start - _longest_window(), end=end)
    r, a = ReferralRow.__table__, Appeal.__table__
    referrals = _referrals(session, (r.c.sent_at >= start) & (r.c.sent_at < end))
    incidents.update(load_incidents(session, now=now, ids={x.incident_id for x in referrals} - set(incidents)))
    return bulletin(
        year, quarter, scheme=scheme, units=unit_refs(session), incidents=tuple(incidents.values()),
        referrals=referrals, daily=_daily(session, start.date(), (end - timedelta(days=1)).date()),
        specials=_specials(session, year), zeroings=_zeroings(session, year),
        appeals=_appeal_decisions(session, (a.c.decided_at >= start) & (a.c.decided_at < end)),
        now=now, audit_head=audit.head_hash(session),
    )


def attributed_to(incident: ScoredIncident, code: str) -> bool:
    return incident.unit_code == code or code in incident.co_unit_codes


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


def _snapshot_view(row: ScoreSnapshot) -> SnapshotView:
    return SnapshotView(row.id, row.year, row.scheme, row.now, row.data_hash, row.audit_head, row.created_at,
                        row.created_by, list(row.results))


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


# --- writes: common checks -----------------------------------------------------------------------
def _text(value: str | None, what: str, flag: str) -> str:
    text = (value or "").strip()
    if not text:
        raise YuqingError("E_TEXT_REQUIRED", what=what, flag=flag)
    if len(text) > TEXT_LIMIT:
        raise YuqingError("E_TEXT_TOO_LONG", field=what, length=len(text), limit=TEXT_LIMIT)
    return text


def _points(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise YuqingError("E_POINTS_VALUE", what=what, value=value, problem="必须是数字")
    if value == 0 or abs(value) > POINTS_LIMIT:
        raise YuqingError("E_POINTS_VALUE", what=what, value=f"{value:g}", problem=f"不能为 0，绝对值不超过 {POINTS_LIMIT:g}")
    return float(value)


def _not_future(writer: Writer, value: datetime, what: str) -> None:
    if value > writer.now + FUTURE_TOLERANCE:
        raise YuqingError("E_TIME_IN_FUTURE", what=what, value=iso_beijing(value))


def _beijing_date(value: datetime) -> date:
    return value.astimezone(BEIJING).date()


def _day_in_year(writer: Writer, on: datetime | None, year: int) -> date | None:
    """The record's day: the one given (it must lie in `year`), else today when today is in `year`."""
    if on is None:
        today = _beijing_date(writer.now)
        return today if today.year == year else None
    day = _beijing_date(on)
    if day.year != year:
        raise YuqingError("E_DATE_NOT_IN_YEAR", date=day.isoformat(), year=year)
    return day


def _units_by_code(session: Session) -> dict[str, UnitRef]:
    return {u.code: u for u in unit_refs(session)}


def _kind_name(kind: str) -> str:
    return label("UNIT_KIND", kind)


def _manual_indicator(scheme: Scheme, unit: Unit, code: str) -> Any:
    tree = scheme.tree(unit.kind)
    indicator = tree.get((code or "").strip())
    if indicator is None:
        choices = "、".join(i.code for i in tree.indicators if not i.computed)
        raise YuqingError("E_INDICATOR_UNKNOWN", value=code, unit=unit.name, kind=_kind_name(unit.kind),
                          scheme=scheme.name, choices=choices)
    if indicator.computed:
        raise YuqingError("E_INDICATOR_COMPUTED", indicator=indicator.code, name=indicator.name)
    return indicator


# --- referrals (舆情函件) --------------------------------------------------------------------------
def add_referral(writer: Writer, incident_id: int, *, unit: str, due_workdays: int, sent_at: datetime | None = None) -> ReferralRow:
    """A letter about `incident_id` to `unit`, due by 23:59:59 of the N-th working day after it is sent."""
    writer.require_admin("发出舆情函件")
    incident = writer.incident(incident_id, doing="发出舆情函件", allow_closed=True)
    target = writer.unit(unit)
    sent = sent_at or writer.now
    _not_future(writer, sent, "发函时间")
    if sent < incident.started_at:
        raise YuqingError("E_REFERRAL_BEFORE_START", start=iso_beijing(incident.started_at))
    due = referral_due_at(sent, due_workdays, calendar_for(writer.session))
    row = ReferralRow(incident_id=incident.id, unit_id=target.id, sent_at=sent, due_workdays=due_workdays, due_at=due,
                      created_at=writer.now, created_by=writer.actor.name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("referral", row.id, "create", None, {
        "incident_id": incident.id, "unit": target.code, "sent_at": iso_beijing(sent), "due_workdays": due_workdays,
        "due_at": iso_beijing(due),
    })
    return row


def reply_referral(writer: Writer, referral_id: int, *, at: datetime) -> ReferralRow:
    writer.require_admin("登记函件回复")
    row = locked(writer.session, ReferralRow, referral_id, "E_REFERRAL_MISSING")
    if row.replied_at is not None:
        raise YuqingError("E_REFERRAL_REPLIED", id=referral_id, at=iso_beijing(row.replied_at))
    if at < row.sent_at:
        raise YuqingError("E_REPLY_BEFORE_SENT", sent=iso_beijing(row.sent_at))
    _not_future(writer, at, "回复时间")
    row.replied_at, row.replied_by = at, writer.actor.name
    writer.session.flush()
    writer.audit("referral", row.id, "reply", {"replied_at": None}, {"replied_at": iso_beijing(at)})
    return row


@dataclass(frozen=True)
class ReferralView:
    id: int
    incident_id: int
    incident_title: str
    unit_code: str
    unit_name: str
    sent_at: datetime
    due_workdays: int
    due_at: datetime
    replied_at: datetime | None
    state: str  # met | late | open | overdue


def list_referrals(session: Session, *, now: datetime, year: int | None = None) -> list[ReferralView]:
    r, unit, inc = ReferralRow.__table__, Unit.__table__, Incident.__table__
    stmt = (
        select(r.c.id, r.c.incident_id, inc.c.title, unit.c.code, unit.c.name, r.c.sent_at, r.c.due_workdays, r.c.due_at,
               r.c.replied_at)
        .join(unit, unit.c.id == r.c.unit_id).join(inc, inc.c.id == r.c.incident_id).order_by(r.c.sent_at, r.c.id)
    )
    if year is not None:
        lo, hi = year_bounds(year)
        stmt = stmt.where(r.c.sent_at >= lo, r.c.sent_at < hi)
    views = []
    for i, incident_id, title, code, name, sent, workdays, due, replied in session.execute(stmt):
        state = referral_state(Referral(i, incident_id, code, sent, due, replied), now)
        views.append(ReferralView(i, incident_id, title, code, name, sent, workdays, due, replied, state))
    return views


# --- manual scores -------------------------------------------------------------------------------
def _manual_check(scheme: Scheme, unit: Unit, indicator: str, points: float) -> Any:
    definition = _manual_indicator(scheme, unit, indicator)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points) \
            or not 0 <= points <= definition.points:
        raise YuqingError("E_POINTS_RANGE", unit=unit.name, name=definition.name, points=f"{points:g}"
                          if isinstance(points, (int, float)) else points, max=f"{definition.points:g}")
    return definition


def _upsert_manual(writer: Writer, unit: Unit, year: int, indicator: str, points: float, note: str,
                   existing: dict[tuple[int, str], ManualRow] | None = None) -> tuple[Any, Any]:
    """Insert or update one manual score; `existing` (unit id, indicator) → row saves a query per row."""
    if existing is None:
        row = writer.session.scalar(select(ManualRow).where(
            ManualRow.unit_id == unit.id, ManualRow.year == year, ManualRow.indicator == indicator))
    else:
        row = existing.get((unit.id, indicator))
    before = None if row is None else {"points": row.points, "note": row.note}
    if row is None:
        row = ManualRow(unit_id=unit.id, year=year, indicator=indicator)
        writer.session.add(row)
    row.points, row.note, row.updated_at, row.updated_by = float(points), note, writer.now, writer.actor.name
    return before, {"points": float(points), "note": note}


def set_manual_score(writer: Writer, unit: str, indicator: str, points: float, *, year: int, note: str) -> None:
    """Points for one manual indicator (0 ≤ points ≤ the indicator's max in the year's scheme)."""
    writer.require_admin("录入人工评分")
    scheme = load_scheme(year)
    target = writer.unit(unit)
    definition = _manual_check(scheme, target, indicator, points)
    note = (note or "").strip()
    before, after = _upsert_manual(writer, target, year, definition.code, points, note)
    writer.session.flush()
    writer.audit("manual_score", f"{year}:{target.code}:{definition.code}", "set", before, after)


MANUAL_COLUMNS = {"unit": ("unit", "单位"), "indicator": ("indicator", "指标"), "points": ("points", "得分", "分数"),
                  "note": ("note", "说明", "备注")}


def import_manual_scores(writer: Writer, rows: list[list[Any]], *, year: int, path: str) -> int:
    """All or nothing: every row is checked first; if any is bad, the whole file is refused naming every
    bad row (spreadsheet row numbers, the header is row 1) and nothing is written. One audit record."""
    writer.require_admin("导入人工评分")
    scheme = load_scheme(year)
    if not rows:
        raise YuqingError("E_IMPORT_EMPTY", path=path)
    header = ["".join(str(h or "").split()).lower() for h in rows[0]]
    where: dict[str, int] = {}
    for field, names in MANUAL_COLUMNS.items():
        for name in names:
            if name in header:
                where[field] = header.index(name)
                break
    missing = [f for f in MANUAL_COLUMNS if f not in where]
    if missing:
        raise YuqingError("E_MANUAL_COLUMNS", path=path, columns="、".join(missing))

    def cell(row: list[Any], field: str) -> str:
        index = where[field]
        return str(row[index] if index < len(row) and row[index] is not None else "").strip()

    good: list[tuple[Unit, str, float, str]] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    units = {u.code: u for u in writer.session.scalars(select(Unit))}
    for number, row in enumerate(rows[1:], start=2):
        if not any(str(c or "").strip() for c in row):
            continue
        try:
            target = units[writer.resolver().resolve(cell(row, "unit")).code]
            text = cell(row, "points")
            try:
                points = float(text)
            except ValueError:
                raise YuqingError("E_POINTS_VALUE", what="得分", value=text, problem="必须是数字") from None
            definition = _manual_check(scheme, target, cell(row, "indicator"), points)
            slot = (target.code, definition.code)
            if slot in seen:
                raise YuqingError("E_MANUAL_DUPLICATE", unit=target.name, indicator=definition.code, row=seen[slot])
            seen[slot] = number
            good.append((target, definition.code, points, cell(row, "note")))
        except YuqingError as exc:
            problems.append(f"第 {number} 行：{exc.message}")
    if problems:
        raise YuqingError("E_MANUAL_IMPORT_ROWS", path=path, count=len(problems), rows="；".join(problems))
    if not good:
        raise YuqingError("E_IMPORT_EMPTY", path=path)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    existing = {(r.unit_id, r.indicator): r for r in writer.session.scalars(select(ManualRow).where(ManualRow.year == year))}
    for target, indicator, points, note in good:
        key = f"{target.code}:{indicator}"
        old, new = _upsert_manual(writer, target, year, indicator, points, note, existing)
        if old is not None:
            before[key] = old
        after[key] = new
    writer.session.flush()
    writer.audit("manual_score", f"{year}:import", "import", before or None, after, Path(path).name)
    return len(good)


# --- special items, zeroings, daily records ------------------------------------------------------
def add_special(writer: Writer, unit: str, *, year: int, item: str, points: float, evidence: str,
                on: datetime | None = None) -> SpecialRow:
    """特别加分项 (+) / 特别减分项 (−): the sign must match the item's kind in the year's scheme."""
    writer.require_admin("登记特别加减分")
    scheme = load_scheme(year)
    definition = scheme.special((item or "").strip())
    if definition is None:
        raise YuqingError("E_SPECIAL_UNKNOWN", value=item, scheme=scheme.name,
                          choices="、".join(f"{s.code}（{'+' if s.kind == 'bonus' else '−'}）" for s in scheme.specials))
    points = _points(points, "特别项分值")
    if (points > 0) != (definition.kind == "bonus"):
        raise YuqingError("E_SPECIAL_SIGN", item=definition.code, name=definition.name,
                          kind="加分" if definition.kind == "bonus" else "减分",
                          sign="正" if definition.kind == "bonus" else "负", points=f"{points:+g}")
    target = writer.unit(unit)
    evidence = _text(evidence, "依据", "--evidence")
    row = SpecialRow(unit_id=target.id, year=year, item=definition.code, points=points, evidence=evidence,
                     on_date=_day_in_year(writer, on, year), created_at=writer.now, created_by=writer.actor.name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("special_item", row.id, "create", None, {
        "unit": target.code, "year": year, "item": row.item, "points": points, "evidence": evidence,
        "on": row.on_date.isoformat() if row.on_date else None,
    })
    return row


def add_zeroing(writer: Writer, unit: str, *, year: int, evidence: str, on: datetime | None = None) -> ZeroingRow:
    """直接归零项 (第十六条): the unit's total becomes 0 and its grade 不合格 for `year`."""
    writer.require_admin("登记直接归零项")
    load_scheme(year)
    target = writer.unit(unit)
    evidence = _text(evidence, "依据", "--evidence")
    row = ZeroingRow(unit_id=target.id, year=year, evidence=evidence, on_date=_day_in_year(writer, on, year),
                     created_at=writer.now, created_by=writer.actor.name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("zeroing", row.id, "create", None, {
        "unit": target.code, "year": year, "evidence": evidence, "on": row.on_date.isoformat() if row.on_date else None,
    })
    return row


def add_daily(writer: Writer, unit: str, *, on: datetime, points: float, reason: str,
              indicator: str | None = None) -> DailyRow:
    """日常考核 record (第十条), signed; with `indicator` it adjusts that item, else the total."""
    writer.require_admin("登记日常考核记录")
    day = _beijing_date(on)
    _not_future(writer, on, "日常考核日期")
    scheme = load_scheme(day.year)
    target = writer.unit(unit)
    points = _points(points, "日常考核分值")
    reason = _text(reason, "事由", "--reason")
    code = None
    if indicator:
        definition = scheme.tree(target.kind).get(indicator.strip())
        if definition is None:
            raise YuqingError("E_INDICATOR_UNKNOWN", value=indicator, unit=target.name, kind=_kind_name(target.kind),
                              scheme=scheme.name, choices="、".join(i.code for i in scheme.tree(target.kind).indicators))
        code = definition.code
    row = DailyRow(unit_id=target.id, on_date=day, points=points, reason=reason, indicator=code,
                   created_at=writer.now, created_by=writer.actor.name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("daily_record", row.id, "create", None, {
        "unit": target.code, "on": day.isoformat(), "points": points, "reason": reason, "indicator": code,
    })
    return row


# --- appeals -------------------------------------------------------------------------------------
def _owners(session: Session, key: str, now: datetime) -> tuple[int, list[str]]:
    """(year, unit codes) of the deduction named `key` as it stands at `now`, found by scoring only
    the records the key can come from: `daily-ID`, or `INCIDENT:…` (the incident, its parent, the
    secondary incident or referral the key names)."""
    units = unit_refs(session)
    daily: list[DailyRecord] = []
    incidents: dict[int, ScoredIncident] = {}
    referrals: list[Referral] = []
    years: set[int] = set()
    head, _, rest = key.partition(":")
    if key.startswith("daily-") and key[6:].isdigit():
        row = session.get(DailyRow, int(key[6:]))
        if row is not None:
            daily = [DailyRecord(row.unit.code, row.on_date, row.points, row.reason, row.indicator, row.id)]
            years.add(row.on_date.year)
    elif head.isdigit() and rest:
        incident_id = int(head)
        part = rest.split(":", 1)[0]
        ids = {incident_id}
        if part.startswith("secondary-") and part[10:].isdigit():
            ids.add(int(part[10:]))
        incidents = load_incidents(session, now=now, ids=ids)
        parents = {i.parent_id for i in incidents.values() if i.parent_id is not None} - set(incidents)
        incidents.update(load_incidents(session, now=now, ids=parents))
        if part.startswith("referral-") and part[9:].isdigit():
            r = ReferralRow.__table__
            referrals = _referrals(session, (r.c.id == int(part[9:])) & (r.c.incident_id == incident_id))
            years |= {_beijing_date(x.sent_at).year for x in referrals}
        elif part.startswith("secondary-"):
            years |= {_beijing_date(i.started_at).year for i in incidents.values() if i.parent_id == incident_id}
        elif incident_id in incidents:
            years.add(_beijing_date(incidents[incident_id].started_at).year)
    for year in sorted(years):
        try:
            scheme = load_scheme(year)
        except YuqingError:
            continue
        results = score_year(scheme, units, year, tuple(incidents.values()), referrals, daily=daily, now=now)
        owners = [r.unit.code for r in results if any(d.key == key for i in r.indicators for d in i.deductions)]
        if owners:
            return year, owners
    raise YuqingError("E_DEDUCTION_UNKNOWN", key=key)


def add_appeal(writer: Writer, key: str, *, reason: str, unit: str | None = None) -> Appeal:
    """A unit appeals one deduction by its key (from `score --format json`); the unit is the one that
    owns it (with shared co-unit deductions: the staff member's own unit, or `unit`)."""
    writer.require_writer("提出申诉")
    key = (key or "").strip()
    reason = _text(reason, "申诉理由", "--reason")
    year, owners = _owners(writer.session, key, writer.now)
    if unit is not None:
        named = writer.unit(unit)
        if named.code not in owners:
            raise YuqingError("E_DEDUCTION_NOT_UNIT", key=key, unit=named.name)
        code = named.code
    elif len(owners) == 1:
        code = owners[0]
    elif writer.actor.role == "staff" and writer.actor.unit_code in owners:
        code = writer.actor.unit_code or ""
    else:
        names = _units_by_code(writer.session)
        raise YuqingError("E_DEDUCTION_SHARED", key=key, units="、".join(names[c].name for c in owners))
    writer.require_unit({code}, "申诉")
    target = writer.unit(code)
    earlier = writer.session.scalars(select(Appeal).where(
        Appeal.year == year, Appeal.unit_id == target.id, Appeal.deduction_key == key).order_by(Appeal.id)).all()
    pending = [a for a in earlier if a.decision is None]
    if pending:
        raise YuqingError("E_APPEAL_PENDING", key=key, id=pending[0].id)
    decided = sorted((a for a in earlier if a.decided_at is not None), key=lambda a: (a.decided_at, a.id))
    if decided and decided[-1].decision == "overturn":
        raise YuqingError("E_APPEAL_OVERTURNED", key=key, id=decided[-1].id)
    row = Appeal(year=year, deduction_key=key, unit_id=target.id, reason=reason, filed_at=writer.now,
                 filed_by=writer.actor.name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("appeal", row.id, "create", None, {"year": year, "deduction_key": key, "unit": target.code},
                 reason)
    return row


def decide_appeal(writer: Writer, appeal_id: int, *, overturn: bool, reason: str) -> Appeal:
    """uphold: the deduction keeps counting; overturn: it stays listed, marked, and stops counting."""
    writer.require_admin("决定申诉")
    row = locked(writer.session, Appeal, appeal_id, "E_APPEAL_MISSING")
    if row.decision is not None:
        raise YuqingError("E_APPEAL_DECIDED", id=appeal_id, at=iso_beijing(row.decided_at),
                          decision="撤销扣分" if row.decision == "overturn" else "维持扣分")
    reason = _text(reason, "决定理由", "--reason")
    row.decision = "overturn" if overturn else "uphold"
    row.decision_reason, row.decided_at, row.decided_by = reason, writer.now, writer.actor.name
    writer.session.flush()
    writer.audit("appeal", row.id, "decide", {"decision": None},
                 {"decision": row.decision, "deduction_key": row.deduction_key}, reason)
    return row


# --- rectifications (整改) -----------------------------------------------------------------------
def add_rectification(writer: Writer, unit: str, *, year: int, problem: str, due: datetime) -> Rectification:
    writer.require_admin("登记整改事项")
    load_scheme(year)
    target = writer.unit(unit)
    problem = _text(problem, "问题", "--problem")
    row = Rectification(unit_id=target.id, year=year, problem=problem, due_at=due, created_at=writer.now,
                        created_by=writer.actor.name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("rectification", row.id, "create", None,
                 {"unit": target.code, "year": year, "problem": problem, "due_at": iso_beijing(due)})
    return row


def finish_rectification(writer: Writer, rectification_id: int, *, at: datetime, note: str) -> Rectification:
    writer.require_admin("登记整改完成")
    row = locked(writer.session, Rectification, rectification_id, "E_RECTIFY_MISSING")
    if row.done_at is not None:
        raise YuqingError("E_RECTIFY_DONE", id=rectification_id, at=iso_beijing(row.done_at))
    _not_future(writer, at, "整改完成时间")
    note = _text(note, "整改情况", "--note")
    row.done_at, row.note, row.done_by = at, note, writer.actor.name
    writer.session.flush()
    writer.audit("rectification", row.id, "done", {"done_at": None},
                 {"done_at": iso_beijing(at), "note": note, "late": at > row.due_at})
    return row


@dataclass(frozen=True)
class RectificationView:
    id: int
    unit_code: str
    unit_name: str
    year: int
    problem: str
    due_at: datetime
    done_at: datetime | None
    note: str | None

    def state(self, now: datetime) -> str:
        """done (on time) | late (done after the due time) | open | overdue."""
        if self.done_at is not None:
            return "met" if self.done_at <= self.due_at else "late"
        return "open" if now <= self.due_at else "overdue"


def list_rectifications(session: Session, *, year: int | None = None) -> list[RectificationView]:
    stmt = select(Rectification).order_by(Rectification.due_at, Rectification.id)
    if year is not None:
        stmt = stmt.where(Rectification.year == year)
    return [RectificationView(r.id, r.unit.code, r.unit.name, r.year, r.problem, r.due_at, r.done_at, r.note)
            for r in session.scalars(stmt)]


def resolve_unit(session: Session, text: str) -> UnitRef:
    return UnitResolver(unit_refs(session)).resolve(text)

