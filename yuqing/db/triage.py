"""The triage queue: pending items grouped by event; accept, merge or dismiss a whole group at once."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.orm import Session

from ingest.triage import SIMILAR_CLOSED_SPAN, SIMILAR_INCIDENT, same_kind, title_tokens, token_similarity
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
    published_date_only: bool = False  # only the day was written: published_at is that day's start


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
                     r.incident_id, published_date_only=bool(r.published_date_only))


def _legacy_reason(r: Item) -> str | None:
    """Items stored before reasons were kept: derive the reason from what the classifier said."""
    c = r.classification or {}
    if r.triage_status == "ignored":
        return "no_topic" if not (c.get("flagged") or c.get("topics")) else "no_unit"
    if r.triage_status == "pending":
        return "flagged" if c.get("flagged") else "topic"
    return r.triage_status


def _ordered(stmt: Any) -> Any:
    return stmt.order_by(Item.flagged.desc(), Item.published_at.desc().nulls_last(), Item.id.desc())


def _group_of() -> Any:
    """The SQL form of QueueItem.group: the item's group key, or its own id for an item alone."""
    return func.coalesce(func.nullif(Item.group_key, ""), cast(Item.id, String))


@dataclass(frozen=True)
class QueuePage:
    """Items of one --state in queue order, `limit` of them from `offset` (all when None), with how
    many match in all (counted in the query)."""

    items: tuple[QueueItem, ...]
    total: int
    limit: int | None
    offset: int


def pending(session: Session, *, limit: int | None = None, offset: int = 0, now: datetime | None = None) -> QueuePage:
    return queue_page(session, state="pending", limit=limit, offset=offset, now=now)


def queue(session: Session, *, state: str = "pending", limit: int | None = None, offset: int = 0,
          now: datetime | None = None) -> list[QueueItem]:
    """Stored items in the given --state, flagged first, newest first — every one of them unless a
    `limit` is given; with `now`, each open item names the incidents it resembles (possible duplicates)."""
    found: list[QueueItem] = []
    each_queued(session, found.append, state=state, limit=limit, offset=offset, now=now)
    return found


def each_queued(session: Session, work: Callable[[QueueItem], None], *, state: str = "pending", limit: int | None = None,
                offset: int = 0, now: datetime | None = None) -> None:
    """Call `work` on each item `queue` would list, in its order, reading rows a chunk at a time
    (memory follows the chunk, not the queue)."""
    stmt = _ordered(select(Item).where(Item.triage_status.in_(STATES[state]))).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    for row in session.scalars(stmt.execution_options(yield_per=500)):
        item = _queue_item(row)
        work(_with_similar(session, item, now) if now is not None and item.state in OPEN_STATES else item)


def queue_total(session: Session, *, state: str = "pending") -> int:
    return int(session.scalar(select(func.count(Item.id)).where(Item.triage_status.in_(STATES[state]))) or 0)


def queue_page(session: Session, *, state: str = "pending", limit: int | None = None, offset: int = 0,
               now: datetime | None = None) -> QueuePage:
    total = queue_total(session, state=state)
    return QueuePage(tuple(queue(session, state=state, limit=limit, offset=offset, now=now)), total, limit, offset)


@dataclass(frozen=True)
class QueueCount:
    items: int
    groups: int


def queue_counts(session: Session) -> dict[str, QueueCount]:
    """How many items and groups each --state holds, from one aggregate query over the whole table."""
    group = _group_of()
    columns = []
    for statuses in STATES.values():
        inside = Item.triage_status.in_(statuses)
        columns += [func.count(case((inside, Item.id))), func.count(func.distinct(case((inside, group))))]
    row = session.execute(select(*columns)).one()
    return {state: QueueCount(int(row[2 * n] or 0), int(row[2 * n + 1] or 0)) for n, state in enumerate(STATES)}


def _candidates(session: Session, now: datetime, unit_code: str | None) -> list[_Candidate]:
    """The open incidents and those closed in the last 7 days of one unit (every unit's for None),
    newest first (the columns a comparison needs, not whole rows)."""
    since = now - SIMILAR_CLOSED_SPAN
    stmt = (
        select(Incident.id, Incident.title, Incident.category, Incident.suggestion, Unit.code)
        .join(Unit, Unit.id == Incident.unit_id)
        .where(or_(Incident.status == "open", (Incident.status == "closed") & (Incident.closed_at >= since)))
        .order_by(Incident.id.desc())
    )
    if unit_code is not None:
        stmt = stmt.where(Unit.code == unit_code)
    return [_Candidate(incident_id, title, category, tuple((suggestion or {}).get("topics") or ()), code)
            for incident_id, title, category, suggestion, code in session.execute(stmt).tuples()]


@dataclass
class _Candidate:
    id: int
    title: str
    category: str | None
    topics: tuple[str, ...]
    unit_code: str
    _tokens: str | None = None

    def tokens(self) -> str:
        if self._tokens is None:
            self._tokens = title_tokens(self.title)
        return self._tokens


def _with_similar(session: Session, item: QueueItem, now: datetime) -> QueueItem:
    # Candidates are read per unit, for the units the listed items name (a page of the queue reads a
    # few units' open incidents, not every one of the year), once per `now` in this session.
    cache = session.info.setdefault("similar_candidates", {})
    if cache.get("now") != now:
        cache.clear()
        cache["now"], cache["units"] = now, {}
    units: dict[str | None, list[_Candidate]] = cache["units"]
    if item.unit_code not in units:
        units[item.unit_code] = _candidates(session, now, item.unit_code)
    found = similar_incidents(item, units)
    if not found:
        return item
    return QueueItem(**{**item.__dict__, "similar": tuple(found)})


def similar_incidents(item: QueueItem, candidates: dict[str | None, list[_Candidate]], *, limit: int = 3) -> list[SimilarIncident]:
    """Open incidents (or closed in the last 7 days) of the item's unit and kind whose title resembles
    the item's, best first. An item with no unit is compared with every unit's incidents. Titles are
    tokenised once: the item's here, each candidate's the first time it is compared."""
    found: list[SimilarIncident] = []
    tokens = ""
    for incident in candidates.get(item.unit_code, ()):
        if not same_kind(item.classification, incident.category, list(incident.topics)):
            continue
        tokens = tokens or title_tokens(item.title)
        score = token_similarity(tokens, incident.tokens())
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
    # A day without a time (2009年8月8日下午) is no instant to start a clock from.
    published = [r.published_at for r in group if r.published_at is not None and not r.published_date_only]
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
    # A day without a time (2009年8月8日下午) is no instant to start a clock from.
    published = [r.published_at for r in group if r.published_at is not None and not r.published_date_only]
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
        writer.windows_changed(incident)
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


@dataclass(frozen=True)
class GroupPage:
    """One page of the queue by groups (what the 待研判 page shows), with how many groups and items
    the --state holds in all."""

    groups: tuple[TriageGroup, ...]
    total_groups: int
    total_items: int
    limit: int
    offset: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_groups // self.limit))


def group_page(session: Session, *, state: str = "pending", limit: int = 50, offset: int | Callable[[int], int] = 0,
               now: datetime | None = None, counts: QueueCount | None = None) -> GroupPage:
    """`limit` groups of the given --state from `offset` (or from what `offset(total groups)` says),
    in queue order: a group ranks where its first item would in `queue` (flagged first, newest
    first). The ranking, paging and counts are done in the query; only the page's items are loaded."""
    statuses = STATES[state]
    group = _group_of()
    ranked = select(
        group.label("g"), Item.flagged.label("flagged"), Item.published_at.label("published_at"), Item.id.label("id"),
        func.row_number().over(partition_by=group, order_by=(Item.flagged.desc(), Item.published_at.desc().nulls_last(),
                                                             Item.id.desc())).label("n"),
    ).where(Item.triage_status.in_(statuses)).subquery()
    if counts is None:  # the caller may already hold them (queue_counts, read for the page's tabs)
        row = session.execute(
            select(func.count(Item.id), func.count(func.distinct(group))).where(Item.triage_status.in_(statuses))
        ).one()
        counts = QueueCount(int(row[0]), int(row[1]))
    total_items, total_groups = counts.items, counts.groups
    start = offset(total_groups) if callable(offset) else offset
    keys = list(session.scalars(
        select(ranked.c.g).where(ranked.c.n == 1)
        .order_by(ranked.c.flagged.desc(), ranked.c.published_at.desc().nulls_last(), ranked.c.id.desc())
        .offset(start).limit(limit)
    ))
    members: dict[str, list[QueueItem]] = {key: [] for key in keys}
    for chunk in (keys[i:i + 500] for i in range(0, len(keys), 500)):
        for row in session.scalars(_ordered(select(Item).where(Item.triage_status.in_(statuses), group.in_(chunk)))):
            item = _queue_item(row)
            members[item.group].append(_with_similar(session, item, now) if now is not None and item.state in OPEN_STATES
                                       else item)
    return GroupPage(tuple(TriageGroup(key, tuple(found)) for key, found in members.items() if found),
                     total_items=total_items, total_groups=total_groups, limit=limit, offset=start)


def item_json(item: QueueItem) -> dict[str, Any]:
    """One queue item as `triage list --json` and GET /api/v1/triage give it."""
    from timeline.clock import iso_beijing, to_beijing

    return {"id": item.id, "title": item.title, "link": item.link,
            # only the day written (2009年8月8日下午): no time, the day, and the flag
            "published_at": None if item.published_date_only else iso_beijing(item.published_at),
            "published_date": item.published_at and to_beijing(item.published_at).date().isoformat(),
            "published_date_only": item.published_date_only,
            "published_clamped": item.published_clamped,
            "fetched_at": iso_beijing(item.fetched_at), "source": item.source, "classification": item.classification,
            "unit": item.unit_code, "group": item.group, "state": item.state, "reason": item.reason,
            "incident": item.incident_id,
            "similar_incidents": [{"id": s.id, "title": s.title, "score": s.score} for s in item.similar]}
