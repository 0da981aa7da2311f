"""The triage queue: pending items grouped by event; accept, merge or dismiss a whole group at once."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from cachetools import LRUCache
from rapidfuzz import fuzz, process
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from ingest.triage import SIMILAR_CLOSED_SPAN, SIMILAR_INCIDENT, kind_keys, kind_wanted, title_tokens
from timeline.engine import start_time
from timeline.presets import load_preset
from yuqing.db.heads import refresh_heads
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


def queue_counts(session: Session, *, now: datetime | None = None) -> dict[str, QueueCount]:
    """How many items and groups each --state holds, from one aggregate query (read from the index
    ix_items_office_heads): a group is counted by its head (yuqing.db.heads).

    With `now` (the dashboard), the counts are kept for later views of an unchanged queue, as the
    similar-incident pools are (_queue_version says when it changed). Without `now` (`triage list`,
    the API), always counted afresh."""
    if now is not None:
        return dict(_kept(("counts", *_queue_version(session, now)), lambda: _count(session)))
    return _count(session)


def _count(session: Session) -> dict[str, QueueCount]:
    by_status: dict[str, tuple[int, int]] = {}
    rows = session.execute(
        select(Item.triage_status, func.count(Item.id), func.count(case((Item.group_head, Item.id))))
        .group_by(Item.triage_status)
    ).tuples()
    for status, items, heads in rows:
        by_status[status] = (int(items), int(heads or 0))
    counts = {state: QueueCount(sum(by_status.get(s, (0, 0))[0] for s in statuses),
                                sum(by_status.get(s, (0, 0))[1] for s in statuses))
              for state, statuses in STATES.items()}
    return counts


class QueueVersion(NamedTuple):
    """What the queue's counts and the similar-incident pools kept between page views are keyed by.
    A new or decided item or a new or changed incident is seen by the next view: intake only adds
    items (a higher id), every decision and incident change is audited (a new audit head); on
    PostgreSQL an intake that commits after a later-numbered one is seen within the minute."""

    database: str
    office: int | None
    newest_item: int | None
    newest_incident: int | None
    audit_head: str | None
    minute: int

    def of_incidents(self) -> tuple[Any, ...]:
        """The part the pools depend on: not the newest item (intake would drop every pool)."""
        return (self.database, self.office, self.newest_incident, self.audit_head, self.minute)


def _queue_version(session: Session, now: datetime) -> QueueVersion:
    """The newest rows are read from the tables' primary keys, not the office-scoped entities (a
    seek, where the office's newest would scan its index)."""
    from yuqing.db.audit import head_hash

    return QueueVersion(str(session.connection().engine.url), session.info.get("office_id"),
                        session.scalar(select(func.max(Item.__table__.c.id))),
                        session.scalar(select(func.max(Incident.__table__.c.id))), head_hash(session),
                        int(now.timestamp() // 60))


# What page views keep for later views of an unchanged queue (queue_counts' counts, each unit's pool
# of similar-incident candidates), keyed by _queue_version and what they are of. Bounded, least
# recently used first out; shared by the server's sessions, hence the lock.
_KEPT: LRUCache[tuple[Any, ...], Any] = LRUCache(maxsize=128)
_KEPT_LOCK = threading.Lock()


def _kept(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    with _KEPT_LOCK:
        found = _KEPT.get(key)
    if found is None:
        found = build()
        with _KEPT_LOCK:
            _KEPT[key] = found
    return found


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
            self._tokens = _incident_tokens(self.title)
        return self._tokens


@lru_cache(maxsize=20_000)
def _incident_tokens(title: str) -> str:
    """An incident title's tokens, kept for the process (a page view compares the page's items with
    each unit's open incidents; their titles are tokenised once, not on every view). Bounded: about
    20 000 short titles, a few MB."""
    return title_tokens(title)


@dataclass
class _Pool:
    """One unit's candidates for the similar-incident warnings, indexed once: under ingest.triage's
    kind_keys (category, opinion topics), with each title's tokens beside it. A page's heads then
    look up the keys their kind is compared under (kind_wanted) instead of asking same_kind of the
    unit's open incidents one by one."""

    candidates: list[_Candidate]
    tokens: list[str] = field(default_factory=list)
    by_key: dict[tuple[str, str | None], list[int]] = field(default_factory=dict)
    # What similar_incidents found for a title and kind, against this pool (which never changes: a
    # change to the unit's incidents makes a new pool); later views of a page ask again. Bounded.
    found: dict[tuple[Any, ...], list[SimilarIncident]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for at, incident in enumerate(self.candidates):
            self.tokens.append(incident.tokens())
            for key in kind_keys(incident.category, incident.topics):
                self.by_key.setdefault(key, []).append(at)

    def of_kind(self, classification: dict[str, Any] | None) -> list[int]:
        """The candidates same_kind accepts for an item of this classification, in their order."""
        return sorted({at for key in kind_wanted(classification) for at in self.by_key.get(key, ())})


def _with_similar(session: Session, item: QueueItem, now: datetime) -> QueueItem:
    # Candidates are read per unit, for the units the listed items name (a page of the queue reads a
    # few units' open incidents, not every one of the year), from the pools kept between views
    # (_kept); the session only remembers, per `now`, the version of this view's queue, so a page
    # asks for the newest rows and audit record once.
    kept = session.info.get("queue_version")
    if kept is None or kept[0] != now:
        kept = session.info["queue_version"] = (now, _queue_version(session, now))
    version: QueueVersion = kept[1]
    pool = _kept(("pool", *version.of_incidents(), item.unit_code), lambda: _Pool(_candidates(session, now, item.unit_code)))
    found = similar_incidents(item, pool)
    if not found:
        return item
    return QueueItem(**{**item.__dict__, "similar": tuple(found)})


def similar_incidents(item: QueueItem, pool: _Pool, *, limit: int = 3) -> list[SimilarIncident]:
    """Open incidents (or closed in the last 7 days) of the item's unit and kind whose title resembles
    the item's, best first. An item with no unit is compared with every unit's incidents. Titles are
    tokenised once: the item's here, each candidate's when its unit's pool is built."""
    wanted = kind_wanted(item.classification)
    memo = (item.title, limit, *sorted(wanted, key=repr))
    if memo in pool.found:
        return list(pool.found[memo])
    kept = pool.of_kind(item.classification)
    tokens = title_tokens(item.title) if kept else ""
    if not tokens:
        return []
    # One rapidfuzz call over the candidates (token_similarity's scorer, in C), not one per candidate;
    # those below the threshold are dropped inside it.
    scored = process.extract(tokens, [pool.tokens[at] for at in kept], scorer=fuzz.token_set_ratio,
                             processor=None, limit=None, score_cutoff=SIMILAR_INCIDENT * 100)
    found = [SimilarIncident(pool.candidates[kept[at]].id, pool.candidates[kept[at]].title, round(score / 100, 3))
             for _choice, score, at in scored if score / 100 >= SIMILAR_INCIDENT]
    found.sort(key=lambda s: (-s.score, -s.id))
    if len(pool.found) < _FOUND_KEPT:
        pool.found[memo] = found[:limit]
    return found[:limit]


_FOUND_KEPT = 2_000  # titles remembered per pool (a page shows 20 heads per state)


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
        # The item's office named (not left to the session's scope): a group key is an office's own,
        # and the office leads the index (ix_items_office_group).
        session.scalars(select(Item).where(Item.office_id == item.office_id, Item.group_key == item.group_key,
                                           Item.triage_status == "pending").order_by(Item.id))
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
    for office_id in sorted({row.office_id for row in items}):
        refresh_heads(writer.session, office_id, [row.group_key for row in items if row.office_id == office_id])
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
    in queue order: a group ranks where its head — its first item in `queue` (flagged first, newest
    first) — would. Heads are stored (yuqing.db.heads), so the page is read by an index and only the
    page's items are loaded; with `now`, each head names the incidents it resembles."""
    statuses = STATES[state]
    if counts is None:  # the caller may already hold them (queue_counts, read for the page's tabs)
        counts = queue_counts(session)[state]
    total_items, total_groups = counts.items, counts.groups
    start = offset(total_groups) if callable(offset) else offset
    heads = _ordered(select(Item.id, Item.group_key, Item.triage_status)
                     .where(Item.triage_status.in_(statuses), Item.group_head))
    # A group is a key and a status (yuqing.db.heads), as queue_counts counts them: on a page of
    # several states, a key whose items were decided apart (a late arrival) is one group per state.
    members: dict[tuple[str, str], list[QueueItem]] = {}
    grouped: list[str] = []  # keys with members to read; an item without a key is alone in its group
    alone: list[int] = []
    # Two workers may briefly leave a group two heads (yuqing.db.heads): each group is listed once.
    for ident, key, status in session.execute(heads.offset(start).limit(limit + 8)).tuples():
        if len(members) < limit and (key or str(ident), status) not in members:
            members[(key or str(ident), status)] = []
            if key:
                grouped.append(key)
            else:
                alone.append(ident)
    keys = sorted(set(grouped))
    for chunk in (keys[i:i + 500] for i in range(0, len(keys), 500)):
        for row in session.scalars(_ordered(select(Item).where(Item.triage_status.in_(statuses), Item.group_key.in_(chunk)))):
            if (row.group_key, row.triage_status) in members:
                members[(row.group_key, row.triage_status)].append(_queue_item(row))
    for ids in (alone[i:i + 500] for i in range(0, len(alone), 500)):
        for row in session.scalars(select(Item).where(Item.id.in_(ids))):
            members[(str(row.id), row.triage_status)].append(_queue_item(row))
    groups = []
    for (key, _status), found in members.items():
        if not found:
            continue
        head = found[0]  # only the head's resemblances are shown (the group is decided as one)
        if now is not None and head.state in OPEN_STATES:
            found[0] = _with_similar(session, head, now)
        groups.append(TriageGroup(key, tuple(found)))
    return GroupPage(tuple(groups), total_items=total_items, total_groups=total_groups, limit=limit, offset=start)


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
