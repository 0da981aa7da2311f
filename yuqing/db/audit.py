"""The audit trail: one SHA-256 chained record per write, appended in the writer's transaction.

No code path updates or deletes an audit record; `verify` recomputes the chain from the start.
Each record also carries HMAC-SHA-256 of its hash under a key kept outside the database
(yuqing/db/auditkey.py), and `verify` checks every checkpoint it knows of against the chain.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from yuqing.db import auditkey
from yuqing.db.auditkey import Checkpoint
from yuqing.db.models import Action, AuditRecord, Item
from yuqing.errors import YuqingError

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
    last = session.execute(select(AuditRecord.hash, AuditRecord.mac).order_by(AuditRecord.id.desc()).limit(1)).first()
    prev = last.hash if last else GENESIS
    key = auditkey.load_key()
    if key is None and last is not None and last.mac is not None:
        # The chain is signed: writing on without the key would leave a gap anyone could fill.
        raise YuqingError("E_AUDIT_KEY_MISSING", path=str(auditkey.key_path()))
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
    digest = record_hash(prev_hash=prev, **fields)  # type: ignore[arg-type]
    record = AuditRecord(**fields, prev_hash=prev, hash=digest,
                         mac=auditkey.mac(key, digest) if key else None)
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
    signed: int = 0
    unsigned: int = 0
    checkpoints: int = 0
    checkpoint_problem: str | None = None


def count_and_head(session: Session) -> tuple[int, str]:
    count = session.scalar(select(func.count()).select_from(AuditRecord)) or 0
    return int(count), head_hash(session)


def verify(session: Session, checkpoints: list[Checkpoint] = (), *, key: bytes | None = None) -> ChainReport:  # type: ignore[assignment]
    """Walk the chain in id order; the first record whose link, content or signature does not add
    up is named. Then every checkpoint must still be in the chain at its position."""
    prev = GENESIS
    count = 0
    last_id = 0
    signed = unsigned = 0
    # position → hash, only for positions some checkpoint names (bounded by the checkpoints).
    wanted = {c.count for c in checkpoints}
    at_position: dict[int, str] = {}
    known_hashes = {c.head for c in checkpoints if c.count < 0}
    seen_hashes: set[str] = set()
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
            if record.mac is None:
                if signed:
                    return ChainReport(False, count, prev, record.id,
                                       "签名链中出现未签名的记录（有人绕过程序写入或重算了审计链）")
                unsigned += 1
            elif key is not None:
                if not auditkey.same(record.mac, auditkey.mac(key, record.hash)):
                    return ChainReport(False, count, prev, record.id,
                                       "记录的密钥签名不符（审计链被重算，或记录是伪造追加的）")
                signed += 1
            else:
                signed += 1
            prev = record.hash
            if count in wanted:
                at_position[count] = record.hash
            if record.hash in known_hashes:
                seen_hashes.add(record.hash)
        last_id = batch[-1].id
        session.expunge_all()
    if key is not None and count and not signed:
        return ChainReport(False, count, prev, None,
                           "已配置审计密钥，但审计链中没有任何签名记录（审计链被整体重写）", unsigned=unsigned)
    for checkpoint in checkpoints:
        problem = _checkpoint_problem(checkpoint, count, at_position, seen_hashes, key)
        if problem:
            return ChainReport(False, count, prev, None, None, signed, unsigned, len(checkpoints), problem)
    return ChainReport(True, count, prev, None, None, signed, unsigned, len(checkpoints))


def _checkpoint_problem(c: Checkpoint, count: int, at_position: dict[int, str], seen: set[str],
                        key: bytes | None) -> str | None:
    where = c.source or "检查点"
    if c.count < 0:  # a head hash without a count (score snapshots): the hash must be in the chain
        if c.head != GENESIS and c.head not in seen:
            return f"{where}记录的链头哈希 {c.head[:12]}… 已不在审计链中（之后的记录被删除或审计链被重写）"
        return None
    if key is not None and c.mac is not None and not auditkey.same(c.mac, auditkey.mac(key, c.payload())):
        return f"{where}的签名不符（检查点被篡改）"
    if c.count > count:
        return (f"{where}记录审计链当时有 {c.count} 条，现在只有 {count} 条："
                f"第 {count + 1} 至 {c.count} 条记录被删除")
    if c.count == 0:
        return None
    if at_position.get(c.count) != c.head:
        return f"{where}记录的第 {c.count} 条哈希与现在的审计链不符（该条及之前的记录被改动、重算或替换）"
    return None


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


def _log_query(stmt: Any, entity: str | None, entity_id: str | None) -> Any:
    if entity:
        stmt = stmt.where(AuditRecord.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditRecord.entity_id == str(entity_id))
    return stmt


def _view(r: AuditRecord) -> AuditView:
    return AuditView(r.id, r.at, r.actor, r.entity, r.entity_id, r.action, r.before, r.after, r.reason, r.hash)


def audit_log(session: Session, *, entity: str | None = None, entity_id: str | None = None, limit: int | None = None,
              offset: int = 0) -> list[AuditView]:
    """Audit records oldest first — every one that matches unless a `limit` is given."""
    found: list[AuditView] = []
    each_audit(session, found.append, entity=entity, entity_id=entity_id, limit=limit, offset=offset)
    return found


def each_audit(session: Session, work: Callable[[AuditView], None], *, entity: str | None = None,
               entity_id: str | None = None, limit: int | None = None, offset: int = 0) -> None:
    """Call `work` on each record `audit_log` would list, reading a chunk at a time."""
    stmt = _log_query(select(AuditRecord), entity, entity_id).order_by(AuditRecord.id).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    for r in session.scalars(stmt.execution_options(yield_per=1000)):
        work(_view(r))


def audit_total(session: Session, *, entity: str | None = None, entity_id: str | None = None) -> int:
    return int(session.scalar(_log_query(select(func.count(AuditRecord.id)), entity, entity_id)) or 0)


def audit_head(session: Session) -> str:
    return head_hash(session)


def _about_incident(session: Session, incident_id: int) -> Any:
    """The audit records about one incident: the incident itself, its actions, and the feed items
    accepted into it or merged with it."""
    action_ids = select(Action.id).where(Action.incident_id == incident_id)
    item_ids = select(Item.id).where(Item.incident_id == incident_id)
    return or_(
        (AuditRecord.entity == "incident") & (AuditRecord.entity_id == str(incident_id)),
        (AuditRecord.entity == "action") & AuditRecord.entity_id.in_(_as_text(session, action_ids)),
        (AuditRecord.entity == "item") & AuditRecord.entity_id.in_(_as_text(session, item_ids)),
    )


def incident_history(session: Session, incident_id: int, *, limit: int | None = None) -> list[AuditView]:
    """Every audit record about one incident (the first `limit` of them), oldest first."""
    stmt = select(AuditRecord).where(_about_incident(session, incident_id)).order_by(AuditRecord.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        AuditView(r.id, r.at, r.actor, r.entity, r.entity_id, r.action, r.before, r.after, r.reason, r.hash)
        for r in session.scalars(stmt)
    ]


def incident_history_count(session: Session, incident_id: int) -> int:
    """How many audit records there are about one incident (one count, no rows loaded)."""
    return int(session.scalar(select(func.count(AuditRecord.id)).where(_about_incident(session, incident_id))) or 0)


def _as_text(session: Session, ids: object) -> list[str]:
    # audit_log.entity_id is text on both databases; compare with the ids as strings.
    return [str(i) for i in session.scalars(ids)]  # type: ignore[call-overload]  # SQLAlchemy types a scalar select of ids loosely


def snapshot_checkpoints(session: Session) -> list[Checkpoint]:
    """Every frozen score snapshot as a checkpoint: the chain's count and head once the freeze's own
    record was in (snapshots frozen before that was stored: their head hash, which must stay in the chain)."""
    from yuqing.db.models_scoring import ScoreSnapshot

    rows = session.execute(select(ScoreSnapshot.id, ScoreSnapshot.audit_head, ScoreSnapshot.audit_count,
                                  ScoreSnapshot.audit_seal, ScoreSnapshot.created_at)
                           .order_by(ScoreSnapshot.id))
    return [Checkpoint(count, seal, at, None, f"评分快照 #{sid} ") if count is not None and seal
            else Checkpoint(-1, head, at, None, f"评分快照 #{sid} ")
            for sid, head, count, seal, at in rows]
