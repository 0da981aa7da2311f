"""The audit trail: one SHA-256 chained record per write, appended in the writer's transaction.

No code path updates or deletes an audit record; `verify` recomputes the chain from the start.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from yuqing.db.models import Action, AuditRecord, Item

GENESIS = "0" * 64
# Any constant: serialises appenders on PostgreSQL (SQLite already writes one at a time).
_CHAIN_LOCK = 7270012017


def canonical(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(
    *,
    prev_hash: str,
    at: datetime,
    actor: str,
    entity: str,
    entity_id: str,
    action: str,
    before: str | None,
    after: str | None,
    reason: str | None,
) -> str:
    payload = json.dumps(
        [prev_hash, _stamp(at), actor, entity, entity_id, action, before, after, reason],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def head_hash(session: Session) -> str:
    last = session.scalar(select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1))
    return last or GENESIS


def append(
    session: Session,
    *,
    actor: str,
    entity: str,
    entity_id: Any,
    action: str,
    at: datetime,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> AuditRecord:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    session.flush()
    prev = head_hash(session)
    at = at.astimezone(UTC)
    fields = dict(
        at=at,
        actor=actor,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=canonical(before),
        after=canonical(after),
        reason=reason,
    )
    record = AuditRecord(**fields, prev_hash=prev, hash=record_hash(prev_hash=prev, **fields))  # type: ignore[arg-type]  # fields holds exactly record_hash's keyword arguments
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    head: str
    broken_id: int | None = None
    problem: str | None = None


def verify(session: Session) -> ChainReport:
    """Walk the chain in id order; the first record whose link or content does not add up is named."""
    prev = GENESIS
    count = 0
    last_id = 0
    while True:
        # Keyset pages: bounded memory on a long chain and no server-side cursor left open.
        batch = session.scalars(
            select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id).limit(2000)
        ).all()
        if not batch:
            break
        for record in batch:
            count += 1
            if record.prev_hash != prev:
                return ChainReport(False, count, prev, record.id, "前序哈希与上一条记录不符（之前的记录被删除或改动）")
            expected = record_hash(
                prev_hash=record.prev_hash,
                at=record.at,
                actor=record.actor,
                entity=record.entity,
                entity_id=record.entity_id,
                action=record.action,
                before=record.before,
                after=record.after,
                reason=record.reason,
            )
            if record.hash != expected:
                return ChainReport(False, count, prev, record.id, "记录内容与其哈希不符（记录被改动）")
            prev = record.hash
        last_id = batch[-1].id
        session.expunge_all()
    return ChainReport(True, count, prev)


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
    return head_hash(session)


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
