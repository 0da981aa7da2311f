"""The 处置台账 read: one incident with every audit record about it and the audit chain's head, taken
in one read so that the record and the head it cites belong together."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from yuqing.db.audit import AuditView, count_and_head, incident_history, incident_history_count
from yuqing.db.incidents import IncidentView, get_incident

# A record longer than this is not a 台账 a person reads; the chain head still covers every record.
MAX_AUDIT_RECORDS = 10_000


@dataclass(frozen=True)
class IncidentRecord:
    incident: IncidentView
    audit: tuple[AuditView, ...]
    chain_count: int
    chain_head: str
    audit_total: int = 0  # records about the incident; more than `audit` holds when the list was cut

    @property
    def audit_cut(self) -> bool:
        return self.audit_total > len(self.audit)


def incident_record(session: Session, incident_id: int, *, max_audit: int = MAX_AUDIT_RECORDS) -> IncidentRecord | None:
    """The incident, its first `max_audit` audit records (the record says so when there are more, and
    how many) and the chain's count and head."""
    view = get_incident(session, incident_id)
    if view is None:
        return None
    history = incident_history(session, incident_id, limit=max_audit + 1)
    total = len(history) if len(history) <= max_audit else incident_history_count(session, incident_id)
    count, head = count_and_head(session)
    return IncidentRecord(view, tuple(history[:max_audit]), count, head, total)
