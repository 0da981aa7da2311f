"""舆情函件 in the database: a letter referring an incident to a unit, due in working days, and its reply."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring import (
    Referral,
    referral_due_at,
)
from scoring.indicators import referral_state, year_bounds
from timeline.clock import iso_beijing
from yuqing.db.holidays import calendar_for
from yuqing.db.models import Incident, Unit
from yuqing.db.models_scoring import (
    Referral as ReferralRow,
)
from yuqing.db.offices import office_clause
from yuqing.db.scoring_writes import _not_future
from yuqing.db.service import Writer, locked
from yuqing.errors import YuqingError


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


def reply_referral(writer: Writer, referral_id: int, *, at: datetime, evidence_file: Path | None = None,
                   note: str | None = None) -> ReferralRow:
    """The unit's reply to a letter: recorded by the office or by the staff of the unit it was sent to."""
    row = locked(writer.session, ReferralRow, referral_id, "E_REFERRAL_MISSING")
    writer.require_unit({row.unit.code}, "登记函件回复")
    if row.replied_at is not None:
        raise YuqingError("E_REFERRAL_REPLIED", id=referral_id, at=iso_beijing(row.replied_at))
    if at < row.sent_at:
        raise YuqingError("E_REPLY_BEFORE_SENT", sent=iso_beijing(row.sent_at))
    _not_future(writer, at, "回复时间")
    sha = name = None
    if evidence_file is not None:
        sha, name = writer.store_evidence(evidence_file)
    row.replied_at, row.replied_by = at, writer.actor.name
    row.reply_note = (note or "").strip() or None
    row.reply_evidence_sha256, row.reply_evidence_name = sha, name
    writer.session.flush()
    writer.audit("referral", row.id, "reply", {"replied_at": None},
                 {"replied_at": iso_beijing(at), "evidence_sha256": sha, "note": row.reply_note})
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
    scope = office_clause(session, r.c.office_id)
    if scope is not None:
        stmt = stmt.where(scope)
    views = []
    for i, incident_id, title, code, name, sent, workdays, due, replied in session.execute(stmt):
        state = referral_state(Referral(i, incident_id, code, sent, due, replied), now)
        views.append(ReferralView(i, incident_id, title, code, name, sent, workdays, due, replied, state))
    return views
