"""When a year's scores may be reused: a key of the data they were computed from (cheap to read: a few
counts, the audit chain's head, the scheme and presets) and the instant they stop holding without any
write (the next deadline a verdict turns at). A page keeps a year's per-unit results under that key."""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scoring.assessment import ScoringData
from timeline.presets import available_presets, load_preset
from yuqing.db import audit
from yuqing.db.models import Action, Incident, IncidentCoUnit, Reclassification, Transfer, Unit
from yuqing.db.models_scoring import Appeal, DailyRecord, ManualScore, Referral, SpecialItem, Zeroing
from yuqing.db.office_rules import office_scheme

# Every table a year's scores read. Writes to them go through the audited write service, so the audit
# chain's count and head change with each; the per-table count and highest id also catch rows loaded
# around it (bulk loads, `units import`).
_INPUTS = (Incident, Action, IncidentCoUnit, Reclassification, Transfer, Referral, ManualScore, SpecialItem,
           Zeroing, DailyRecord, Appeal)


def data_state(session: Session, year: int) -> str:
    """A digest that changes whenever anything the year's scores are computed from changes: the scheme
    file, the presets, the unit registry, the audit chain, and each input table's size and last id (as
    the session's office sees them)."""
    count, head = audit.count_and_head(session)
    parts = [str(year), office_scheme(session, year).digest, str(count), head]  # the office's own scheme when it has one
    parts += [repr(load_preset(name)) for name in sorted(available_presets())]
    for model in _INPUTS:
        rows, top = session.execute(select(func.count(model.id), func.max(model.id))).one()
        parts.append(f"{model.__tablename__}:{rows}:{top}")
    units = session.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.active, Unit.office_id).order_by(Unit.id)).all()
    parts.append(repr([tuple(u) for u in units]))
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def settled_until(data: ScoringData) -> datetime | None:
    """The first instant after `data.now` at which the same data would score differently: a window
    still open falls due, a referral without a reply falls due, or an action, reply or appeal decision
    dated after `now` becomes known. None when nothing is pending (a closed year)."""
    now = data.now
    moments: list[datetime] = []
    for incident in data.incidents:
        moments += [w.due_at for w in incident.verdict.windows if w.state == "open" and w.due_at is not None]
        moments += [a.at for a in incident.actions if a.at > now]
    for referral in data.referrals:
        if referral.replied_at is None or referral.replied_at > now:
            moments.append(referral.due_at)
        if referral.replied_at is not None and referral.replied_at > now:
            moments.append(referral.replied_at)
    moments += [a.decided_at for a in data.appeals if a.decided_at > now]
    later = [m for m in moments if m > now]
    return min(later) if later else None
