"""Appeals against deductions (staff of the unit may appeal, the office decides) and rectifications
(整改) with their due dates."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring import (
    DailyRecord,
    Referral,
    ScoredIncident,
    score_year,
)
from scoring.keys import DeductionKey
from timeline.clock import iso_beijing
from yuqing.db.models import Unit
from yuqing.db.models_scoring import (
    Appeal,
    Rectification,
)
from yuqing.db.models_scoring import (
    DailyRecord as DailyRow,
)
from yuqing.db.models_scoring import (
    Referral as ReferralRow,
)
from yuqing.db.models_scoring import (
    SpecialItem as SpecialRow,
)
from yuqing.db.office_rules import office_scheme
from yuqing.db.scoring_reads import _referrals, load_incidents
from yuqing.db.scoring_writes import _beijing_date, _not_future, _text, _units_by_code
from yuqing.db.service import Writer, locked, unit_refs
from yuqing.errors import YuqingError


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
    parsed = DeductionKey.parse(key)
    if parsed is not None and parsed.daily_id is not None:
        row = session.get(DailyRow, parsed.daily_id)
        if row is not None:
            daily = [DailyRecord(row.unit.code, row.on_date, row.points, row.reason, row.indicator, row.id)]
            years.add(row.on_date.year)
    elif parsed is not None and parsed.incident_id is not None:
        incident_id = parsed.incident_id
        ids = {incident_id}
        if parsed.secondary_id is not None:
            ids.add(parsed.secondary_id)
        incidents = load_incidents(session, now=now, ids=ids)
        parents = {i.parent_id for i in incidents.values() if i.parent_id is not None} - set(incidents)
        incidents.update(load_incidents(session, now=now, ids=parents))
        if parsed.referral_id is not None:
            r = ReferralRow.__table__
            referrals = _referrals(session, (r.c.id == parsed.referral_id) & (r.c.incident_id == incident_id))
            years |= {_beijing_date(x.sent_at).year for x in referrals}
        elif parsed.secondary_id is not None:
            years |= {_beijing_date(i.started_at).year for i in incidents.values() if i.parent_id == incident_id}
        elif incident_id in incidents:
            years.add(_beijing_date(incidents[incident_id].started_at).year)
    for year in sorted(years):
        try:
            scheme = office_scheme(session, year)
        except YuqingError:
            continue
        results = score_year(scheme, units, year, tuple(incidents.values()), referrals, daily=daily, now=now)
        owners = [r.unit.code for r in results if any(d.key == key for i in r.indicators for d in i.deductions)]
        if owners:
            return year, owners
    raise YuqingError("E_DEDUCTION_UNKNOWN", key=key)


def add_appeal(writer: Writer, key: str, *, reason: str, unit: str | None = None,
               evidence_file: Path | None = None) -> Appeal:
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
    sha = name = None
    if evidence_file is not None:
        sha, name = writer.store_evidence(evidence_file)
    row = Appeal(year=year, deduction_key=key, unit_id=target.id, reason=reason, filed_at=writer.now,
                 filed_by=writer.actor.name, evidence_sha256=sha, evidence_name=name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("appeal", row.id, "create", None,
                 {"year": year, "deduction_key": key, "unit": target.code, "evidence_sha256": sha}, reason)
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
def add_rectification(writer: Writer, unit: str, *, year: int, problem: str, due: datetime,
                      answers: Sequence[str] = ()) -> Rectification:
    """整改 the office sets a unit; `answers` names the deductions (their keys) or special items
    (`special-ID`) it answers, each checked to belong to that unit."""
    writer.require_admin("登记整改事项")
    office_scheme(writer.session, year)
    target = writer.unit(unit)
    problem = _text(problem, "问题", "--problem")
    keys = list(dict.fromkeys(k.strip() for k in answers if k.strip()))
    for key in keys:
        _check_answer(writer, key, target)
    row = Rectification(unit_id=target.id, year=year, problem=problem, due_at=due, created_at=writer.now,
                        created_by=writer.actor.name, answers=keys or None)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("rectification", row.id, "create", None,
                 {"unit": target.code, "year": year, "problem": problem, "due_at": iso_beijing(due), "answers": keys})
    return row


def _check_answer(writer: Writer, key: str, unit: Unit) -> None:
    if key.startswith("special-") and key[len("special-"):].isdigit():
        item = writer.session.get(SpecialRow, int(key[len("special-"):]))
        if item is None or item.unit_id != unit.id:
            raise YuqingError("E_ANSWER_NOT_UNIT", key=key, unit=unit.name)
        return
    if key.startswith("daily-") and key[len("daily-"):].isdigit():
        record = writer.session.get(DailyRow, int(key[len("daily-"):]))
        if record is None or record.unit_id != unit.id:
            raise YuqingError("E_ANSWER_NOT_UNIT", key=key, unit=unit.name)
        return
    _, owners = _owners(writer.session, key, writer.now)
    if unit.code not in owners:
        raise YuqingError("E_ANSWER_NOT_UNIT", key=key, unit=unit.name)


def finish_rectification(writer: Writer, rectification_id: int, *, at: datetime, note: str) -> Rectification:
    """第十五条: the unit reports its rectification done (its own staff or the office)."""
    row = locked(writer.session, Rectification, rectification_id, "E_RECTIFY_MISSING")
    writer.require_unit({row.unit.code}, "报告整改完成")
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
    answers: tuple[str, ...] = ()

    def state(self, now: datetime) -> str:
        """done (on time) | late (done after the due time) | open | overdue."""
        if self.done_at is not None:
            return "met" if self.done_at <= self.due_at else "late"
        return "open" if now <= self.due_at else "overdue"


def list_rectifications(session: Session, *, year: int | None = None) -> list[RectificationView]:
    stmt = select(Rectification).order_by(Rectification.due_at, Rectification.id)
    if year is not None:
        stmt = stmt.where(Rectification.year == year)
    return [RectificationView(r.id, r.unit.code, r.unit.name, r.year, r.problem, r.due_at, r.done_at, r.note,
                              tuple(r.answers or ()))
            for r in session.scalars(stmt)]


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
