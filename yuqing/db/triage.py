"""The triage queue: pending items grouped by event; accept, merge or dismiss a whole group at once."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ingest.triage import SIMILAR_CLOSED_SPAN, SIMILAR_INCIDENT, same_kind, title_similarity
from timeline.engine import start_time
from timeline.presets import load_preset
from yuqing.db.models import Incident, Item, Unit
from yuqing.db.service import NewIncident, Suggestion, Writer, locked
from yuqing.errors import YuqingError
from yuqing.vocabulary import LABELS


@dataclass(frozen=True)
class QueueItem:
    id: int
    title: str
    link: str
    published_at: datetime | None
    published_clamped: bool
    fetched_at: datetime
    source: str
    classification: dict[str, Any]
    unit_code: str | None
    group: str
    state: str = "pending"
    reason: str | None = None
    incident_id: int | None = None
    similar: tuple[SimilarIncident, ...] = field(default=())


@dataclass(frozen=True)
class SimilarIncident:
    id: int
    title: str
    score: float


# --state of `triage list`: which stored states each choice shows
STATES: dict[str, tuple[str, ...]] = {
    "pending": ("pending",),
    "ignored": ("ignored",),
    "decided": ("accepted", "merged", "dismissed"),
    "all": ("pending", "ignored", "accepted", "merged", "dismissed"),
}
OPEN_STATES = ("pending", "ignored")  # what a person can still accept, merge or dismiss


def _queue_item(r: Item) -> QueueItem:
    return QueueItem(r.id, r.title, r.link, r.published_at, r.published_clamped, r.fetched_at, r.source, r.classification or {},
                     r.unit_code, r.group_key or str(r.id), r.triage_status, r.triage_reason or _legacy_reason(r),
                     r.incident_id)


def _legacy_reason(r: Item) -> str | None:
    """Items stored before reasons were kept: derive the reason from what the classifier said."""
    c = r.classification or {}
    if r.triage_status == "ignored":
        return "no_topic" if not (c.get("flagged") or c.get("topics")) else "no_unit"
    if r.triage_status == "pending":
        return "flagged" if c.get("flagged") else "topic"
    return r.triage_status


def pending(session: Session, *, limit: int = 500) -> list[QueueItem]:
    return queue(session, state="pending", limit=limit)


def queue(session: Session, *, state: str = "pending", limit: int = 500, now: datetime | None = None) -> list[QueueItem]:
    """Stored items in the given --state, flagged first, newest first; with `now`, each open item
    names the incidents it resembles (possible duplicates)."""
    rows = list(session.scalars(
        select(Item).where(Item.triage_status.in_(STATES[state]))
        .order_by(Item.flagged.desc(), Item.published_at.desc().nulls_last(), Item.id.desc()).limit(limit)
    ))
    items = [_queue_item(r) for r in rows]
    if now is None:
        return items
    return [_with_similar(session, i, now) if i.state in OPEN_STATES else i for i in items]


def _candidates(session: Session, now: datetime) -> list[tuple[Incident, str]]:
    since = now - SIMILAR_CLOSED_SPAN
    rows = session.execute(
        select(Incident, Unit.code).join(Unit, Unit.id == Incident.unit_id)
        .where(or_(Incident.status == "open", (Incident.status == "closed") & (Incident.closed_at >= since)))
        .order_by(Incident.id.desc()).limit(2000)
    ).tuples().all()
    return [(incident, code) for incident, code in rows]


def _with_similar(session: Session, item: QueueItem, now: datetime) -> QueueItem:
    cache = session.info.setdefault("similar_candidates", {})
    key = now.isoformat()
    if key not in cache:
        cache.clear()
        cache[key] = _candidates(session, now)
    found = similar_incidents(item, cache[key])
    if not found:
        return item
    return QueueItem(**{**item.__dict__, "similar": tuple(found)})


def similar_incidents(item: QueueItem, candidates: list[tuple[Incident, str]], *, limit: int = 3) -> list[SimilarIncident]:
    """Open incidents (or closed in the last 7 days) of the item's unit and kind whose title resembles
    the item's, best first. An item with no unit is compared with every unit's incidents."""
    found: list[SimilarIncident] = []
    for incident, unit_code in candidates:
        if item.unit_code is not None and unit_code != item.unit_code:
            continue
        topics = (incident.suggestion or {}).get("topics") or []
        if not same_kind(item.classification, incident.category, topics):
            continue
        score = title_similarity(item.title, incident.title)
        if score >= SIMILAR_INCIDENT:
            found.append(SimilarIncident(incident.id, incident.title, round(score, 3)))
    found.sort(key=lambda s: (-s.score, -s.id))
    return found[:limit]


def _item(session: Session, item_id: int) -> Item:
    item: Item = locked(session, Item, item_id, "E_ITEM_MISSING")  # decided once, even by two at once
    if item.triage_status not in OPEN_STATES:
        raise YuqingError("E_ITEM_DECIDED", id=item_id, status=_STATUS.get(item.triage_status, item.triage_status))
    return item


_STATUS = LABELS["ITEM"]


def _group(session: Session, item: Item) -> list[Item]:
    if not item.group_key or item.triage_status != "pending":
        return [item]
    return list(
        session.scalars(select(Item).where(Item.group_key == item.group_key, Item.triage_status == "pending").order_by(Item.id))
    )


def _decide(writer: Writer, items: list[Item], status: str, *, incident_id: int | None, reason: str | None) -> None:
    before = {row.id: row.triage_status for row in items}
    for row in items:
        row.triage_status = status
        row.incident_id = incident_id
        row.decided_at = writer.now
        row.decided_by = writer.actor.name
        row.decision_reason = reason
    writer.session.flush()
    for row in items:
        writer.audit("item", row.id, status, {"triage_status": before[row.id]},
                     {"triage_status": status, "incident_id": incident_id}, reason)


def accept(writer: Writer, item_id: int, *, unit: str | None = None) -> Incident:
    """Create an incident from an item's group: first posted at the group's earliest publication,
    detected when it was first fetched or imported; the classifier's grading is the suggestion."""
    session = writer.session
    item = _item(session, item_id)
    # Staff accept what was attributed to their own unit; re-attributing an item is the office's call.
    writer.require_unit({item.unit_code} if item.unit_code else set(), "立为舆情：")
    group = _group(session, item)
    unit_text = unit or item.unit_code
    if not unit_text:
        raise YuqingError("E_TRIAGE_NO_UNIT", id=item_id)
    published = [r.published_at for r in group if r.published_at is not None]
    c = item.classification or {}
    writer.classify = lambda _t, _s: Suggestion(
        level=c.get("level"), sudden=c.get("sudden"), category=c.get("category"),
        rules_version=str(c.get("rules_version") or ""),
        details={k: c.get(k) for k in ("keywords", "figures", "topics", "unit")},
    )
    incident = writer.add_incident(
        NewIncident(
            title=item.title[:200],
            unit=unit_text,
            summary=(item.summary or item.content_text or "")[:2000] or None,
            first_post_at=min(published) if published else None,
            detected_at=min(r.fetched_at for r in group),
            source_url=item.link or None,
            classify=True,
        )
    )
    _decide(writer, group, "accepted", incident_id=incident.id, reason=None)
    return incident


def merge(writer: Writer, item_id: int, incident_id: int) -> int:
    """Attach an item's group to an existing incident as evidence; the incident keeps the earliest
    start, so an earlier publication moves its clock back (recorded in the audit trail)."""
    session = writer.session
    item = _item(session, item_id)
    incident = writer.incident(incident_id, doing="并入信息", allow_closed=True)
    writer.require_unit({incident.unit.code}, "并入信息到")
    group = _group(session, item)
    # Every item the merge moves must be the staff member's own unit's: another unit's event must
    # not leave the queue without that unit or the office deciding.
    for row in group:
        writer.require_unit({row.unit_code} if row.unit_code else set(), "并入信息：")
    published = [r.published_at for r in group if r.published_at is not None]
    earliest = min(published) if published else None
    if earliest is not None and (incident.first_post_at is None or earliest < incident.first_post_at):
        before = {"first_post_at": incident.first_post_at.isoformat() if incident.first_post_at else None,
                  "started_at": incident.started_at.isoformat()}
        incident.first_post_at = earliest
        incident.started_at = start_time(load_preset(incident.preset), first_post_at=earliest,
                                         detected_at=incident.detected_at, logged_at=incident.logged_at)
        session.flush()
        writer.audit("incident", incident.id, "earlier_start", before,
                     {"first_post_at": earliest.isoformat(), "started_at": incident.started_at.isoformat()},
                     f"并入信息 {item_id}")
    _decide(writer, group, "merged", incident_id=incident.id, reason=None)
    return len(group)


def dismiss(writer: Writer, item_id: int, *, reason: str | None) -> int:
    session = writer.session
    item = _item(session, item_id)
    text = (reason or "").strip()
    if not text:
        raise YuqingError("E_REASON_REQUIRED", what="排除信息")
    writer.require_unit({item.unit_code} if item.unit_code else set(), "排除")
    group = _group(session, item)
    _decide(writer, group, "dismissed", incident_id=None, reason=text)
    return len(group)


@dataclass(frozen=True)
class TriageGroup:
    """Pending items that report one event (same group key): decided together."""

    key: str
    items: tuple[QueueItem, ...]

    @property
    def head(self) -> QueueItem:
        return self.items[0]

    @property
    def flagged(self) -> bool:
        return bool(self.head.classification.get("flagged"))


def pending_groups(session: Session, *, limit: int = 500, state: str = "pending",
                   now: datetime | None = None) -> list[TriageGroup]:
    """The triage queue (or the items of another --state), flagged groups first; with `now`, each
    item names the incidents it may duplicate."""
    groups: dict[str, list[QueueItem]] = {}
    for item in queue(session, state=state, limit=limit, now=now):
        groups.setdefault(item.group, []).append(item)
    return [TriageGroup(key, tuple(members)) for key, members in groups.items()]
