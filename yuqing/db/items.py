"""Storing what a poll or an import brought: dedup, classification, triage grouping, feed health.

Dedup keys, in order: (feed, GUID); the normalised link across the office's feeds (one item seen by
both; another office's feed carrying the same link brings that office its own item); the content hash, which covers the title too unless the body is long enough to identify the item
(ingest.parse._content_hash: boilerplate bodies never merge different items). Unique indexes back
each key, so concurrent workers cannot store an item twice.

Per-item isolation: an item the database refuses as it is (a value too long for its column, a
character it cannot store) is set aside with a stored, counted reason on its feed; the rest of the
batch is stored. NUL characters are removed for every write at the engine (yuqing.db.session).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, union_all
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ingest.fetch import FetchResult, next_poll_delay, typical_gap
from ingest.parse import FeedItem
from ingest.triage import (
    GROUP_SPAN_LIMIT,
    REPRESENTATIVES,
    SAME_EVENT_SPAN,
    GroupIndex,
    ItemFacts,
    Representative,
    event_kind,
    fingerprint,
    triage_decision,
)
from timeline.words import say
from yuqing.db.heads import settle_arrivals
from yuqing.db.models import Base, Feed, Item, ItemSighting

Classify = Callable[[str, str], dict[str, Any]]
# Title plus the lead: news puts what happened, where and how many in the first paragraphs.
TEXT_FOR_CLASSIFIER = 800


# A GUID up to this many characters is its own key (well inside PostgreSQL's B-tree row limit even
# in CJK); a longer one is keyed by its sha256, so any GUID fits the (feed, guid) unique index.
GUID_KEY_LIMIT = 500


@dataclass
class StoreStats:
    new: int = 0
    duplicate: int = 0
    skipped: int = 0
    last_skip_reason: str | None = None

    def add(self, other: StoreStats) -> None:
        self.new += other.new
        self.duplicate += other.duplicate
        self.skipped += other.skipped
        self.last_skip_reason = other.last_skip_reason or self.last_skip_reason


def guid_key(guid: str) -> str:
    if len(guid) <= GUID_KEY_LIMIT:
        return guid
    return "sha256:" + hashlib.sha256(guid.encode("utf-8")).hexdigest()


def link_key(normalized_link: str) -> str | None:
    return hashlib.sha256(normalized_link.encode("utf-8")).hexdigest() if normalized_link else None


def _find_existing(session: Session, item: FeedItem, office_id: int) -> Item | None:
    """The office's item with this link, else with this content (the feed's office: a worker's
    session sees every office)."""
    if item.normalized_link:
        found = session.scalar(select(Item).where(Item.office_id == office_id,
                                                  Item.link_key == link_key(item.normalized_link)))
        if found is not None:
            return found
    return session.scalar(select(Item).where(Item.office_id == office_id, Item.content_hash == item.content_hash))


def _sight(session: Session, feed: Feed, guid: str, item: Item, now: datetime) -> None:
    with session.begin_nested():
        session.add(ItemSighting(feed_id=feed.id, guid=guid_key(guid), item_id=item.id, seen_at=now))


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for index in range(0, len(values), size):
        yield values[index:index + size]


def store_items(
    session: Session,
    feed: Feed,
    items: Iterable[FeedItem],
    *,
    now: datetime,
    classify: Classify,
    source: str | None = None,
    chosen: bool = False,
    assigned_units: dict[str, str] | None = None,
) -> StoreStats:
    """Store one batch in the caller's transaction.

    `chosen`: the rows were picked by a person (an import, a push), so every new one waits in the
    queue whatever the classifier says. `assigned_units`: content hash → the unit code the source
    already assigned ('' when its column named a unit that does not resolve); the classifier's unit
    is used only when there is none.

    The fast path looks every key up in a few set queries and inserts the new items in bulk inside a
    savepoint. If another worker inserted one of them meanwhile, the savepoint is rolled back and the
    batch goes item by item, each insert in its own savepoint, so a lost race becomes a sighting of
    the winner's row — never a second copy.
    """
    batch = list(items)
    how = _How(classify, source, chosen, assigned_units or {})
    try:
        with session.begin_nested():
            return _store_batch(session, feed, batch, now=now, how=how)
    except IntegrityError:
        return _store_one_by_one(session, feed, batch, now=now, how=how)
    except OperationalError as exc:  # a deadlock with another worker's batch: go item by item
        if "deadlock" not in str(exc).lower():
            raise
        return _store_one_by_one(session, feed, batch, now=now, how=how)
    except DBAPIError:  # one item the database refuses (too long, bad character): find it alone
        return _store_one_by_one(session, feed, batch, now=now, how=how)


def store_chosen_items(session: Session, feed: Feed, items: Iterable[FeedItem], *, now: datetime, classify: Classify,
                       source: str | None = None, assigned_units: dict[str, str] | None = None) -> StoreStats:
    """Intake of rows a person chose (spreadsheet imports, the HTTP intake): every new row is pending."""
    return store_items(session, feed, items, now=now, classify=classify, source=source, chosen=True,
                       assigned_units=assigned_units)


@dataclass(frozen=True)
class _How:
    classify: Classify
    source: str | None
    chosen: bool
    assigned: dict[str, str]
    # content hash → classification: a batch that falls back to one item at a time (a lost race, a
    # refused value) is not classified a second time.
    classified: dict[str, dict[str, Any]] = field(default_factory=dict)


def _store_batch(session: Session, feed: Feed, batch: list[FeedItem], *, now: datetime, how: _How) -> StoreStats:
    stats = StoreStats()
    guids = [guid_key(i.guid or i.content_hash) for i in batch]
    seen: set[str] = set()
    for chunk in _chunks(sorted(set(guids))):
        seen.update(session.scalars(select(ItemSighting.guid).where(ItemSighting.feed_id == feed.id, ItemSighting.guid.in_(chunk))))
    links = sorted({i.normalized_link for i in batch if i.normalized_link})
    hashes = sorted({i.content_hash for i in batch})
    by_link: dict[str, int] = {}
    by_hash: dict[str, int] = {}
    keys = {link_key(link): link for link in links}
    for chunk in _chunks(sorted(k for k in keys if k)):
        by_link.update((keys[k], i) for k, i in session.execute(
            select(Item.link_key, Item.id).where(Item.office_id == feed.office_id, Item.link_key.in_(chunk))).tuples())
    for chunk in _chunks(hashes):
        by_hash.update(session.execute(select(Item.content_hash, Item.id).where(
            Item.office_id == feed.office_id, Item.content_hash.in_(chunk))).tuples().all())

    sightings: list[tuple[str, FeedItem | int]] = []  # guid → existing item id, or the new item itself
    fresh: dict[str, FeedItem] = {}  # content_hash → new item, first of its link/hash in this batch
    fresh_links: dict[str, FeedItem] = {}
    for guid, item in zip(guids, batch):
        if guid in seen:
            stats.duplicate += 1
            continue
        seen.add(guid)
        target: FeedItem | int | None = None
        if item.normalized_link:
            target = by_link.get(item.normalized_link) or fresh_links.get(item.normalized_link)
        if target is None:
            target = by_hash.get(item.content_hash) or fresh.get(item.content_hash)
        if target is None:
            fresh[item.content_hash] = item
            if item.normalized_link:
                fresh_links[item.normalized_link] = item
            stats.new += 1
            target = item
        else:
            stats.duplicate += 1
        sightings.append((guid, target))

    rows = [_row(feed, item, now=now, how=how) for item in fresh.values()]
    _assign_groups(session, rows, feed.office_id)
    ids: dict[str, int] = {}
    if rows:
        table = Base.metadata.tables[Item.__tablename__]  # a Core insert: no ORM bookkeeping per row
        result = session.execute(insert(table).returning(table.c.id, table.c.content_hash), rows)
        ids = {h: i for i, h in result.tuples()}
        settle_arrivals(session, feed.office_id, ((row["group_key"], row["triage_status"]) for row in rows))
    if sightings:
        session.execute(
            insert(Base.metadata.tables[ItemSighting.__tablename__]),
            [
                {"feed_id": feed.id, "guid": guid, "seen_at": now,
                 "item_id": ids[target.content_hash] if isinstance(target, FeedItem) else target}
                for guid, target in sightings
            ],
        )
    return stats


def _row(feed: Feed, item: FeedItem, *, now: datetime, how: _How) -> dict[str, Any]:
    classification = how.classified.get(item.content_hash)
    if classification is None:
        text = (item.content_text or item.summary)[:TEXT_FOR_CLASSIFIER]
        classification = how.classified[item.content_hash] = how.classify(item.title, text)
    assigned = how.assigned.get(item.content_hash)
    unit_code = assigned or (classification.get("unit") or {}).get("code") or (feed.unit.code if feed.unit else None)
    state, reason = triage_decision(classification, unit_code, chosen=how.chosen, unit_unresolved=assigned == "")
    source = how.source
    return {
        # Core inserts skip the ORM's before_flush hook (yuqing.db.offices): the item is its feed's.
        "office_id": feed.office_id,
        "feed_id": feed.id,
        "source": (source or feed.name)[:200],
        "title": item.title or "（无标题）",
        "link": item.link,
        "normalized_link": item.normalized_link,
        "link_key": link_key(item.normalized_link),
        "summary": item.summary,
        "content_text": item.content_text,
        "author": item.author[:200],
        "published_raw": (item.published_raw or None) and item.published_raw[:200],
        "published_at": item.published_at,
        "published_clamped": item.published_clamped,
        "published_date_only": item.published_date_only,
        "content_hash": item.content_hash,
        "fetched_at": now,
        "classification": classification,
        "flagged": bool(classification.get("flagged")),
        "unit_code": unit_code,
        "group_key": None,
        "group_head": True,  # its own group's until grouped; settle_arrivals settles a joined group
        "group_first_at": item.published_at,  # its own group's span until settled
        "group_last_at": item.published_at,
        "event_kind": None,
        "fingerprint": None,
        "triage_status": state,
        "triage_reason": reason,
    }


def _facts_of_row(row: dict[str, Any], ident: int) -> ItemFacts:
    classification = row["classification"] or {}
    return ItemFacts(ident, row["title"], row["summary"] or row["content_text"], row["published_at"],
                     row["unit_code"], event_kind(classification), frozenset(classification.get("keywords") or ()))


def _open_groups(session: Session, office_id: int, unit_code: str, kind: str,
                 times: list[datetime]) -> list[Representative]:
    """One representative per open group of the office's (unit, kind) near these times — the group's
    head (yuqing.db.heads: its first pending item in queue order), with the group's time span —
    read by columns: key, span and the stored fingerprint, through ix_items_open_groups. Only heads
    are read, so a batch costs what the groups near it number, not their members (reading every
    pending member in the window and keeping each group's first made 1 000 feeds cost 12.4× 100).
    A group is near when its span comes within SAME_EVENT_SPAN of the batch's times; as no group
    spans more than GROUP_SPAN_LIMIT, its span's end is then in a bounded range (the index's).

    The dated and the undated groups are two selects (UNION ALL), not one OR: with the OR, SQLite
    used the index for its equality columns only and read every pending item of the bucket."""
    conditions = (Item.office_id == office_id, Item.triage_status == "pending", Item.unit_code == unit_code,
                  Item.event_kind == kind, Item.group_head.is_(True), Item.fingerprint.is_not(None),
                  Item.group_key.is_not(None))
    columns = (Item.id, Item.group_key, Item.group_first_at, Item.group_last_at, Item.fingerprint)
    if times:
        latest = max(times) + SAME_EVENT_SPAN
        near = (Item.group_last_at.between(min(times) - SAME_EVENT_SPAN, latest + GROUP_SPAN_LIMIT),
                Item.group_first_at <= latest)
        heads = union_all(select(*columns).where(*conditions, *near),
                          select(*columns).where(*conditions, Item.group_last_at.is_(None))).subquery()
    else:
        heads = select(*columns).where(*conditions).subquery()
    rows = session.execute(select(heads.c.group_key, heads.c.group_first_at, heads.c.group_last_at, heads.c.fingerprint)
                           .order_by(heads.c.id.desc()).limit(REPRESENTATIVES)).tuples().all()
    # Two workers may briefly leave a group two heads: each group is represented once (its newer head).
    seen: set[str] = set()
    kept = []
    for key, first_at, last_at, text in rows:
        if key not in seen:
            seen.add(key)
            kept.append(Representative.stored(key or "", text or "", first_at, last_at))
    return kept[::-1]


def _assign_groups(session: Session, rows: list[dict[str, Any]], office_id: int) -> None:
    """Group keys for the batch's pending rows, in time linear in the rows: each is compared with one
    representative per open group of its unit and kind (one query per bucket of the batch), then
    with the groups the batch itself opened. The row's kind and fingerprint are stored with it."""
    pending_rows = [r for r in rows if r["triage_status"] == "pending"]
    if not pending_rows:
        return
    facts = [_facts_of_row(row, -index - 1) for index, row in enumerate(pending_rows)]
    buckets: dict[tuple[str, str], list[datetime]] = {}
    for fact in facts:
        if fact.unit_code is not None and fact.kind is not None:
            times = buckets.setdefault((fact.unit_code, fact.kind), [])
            if fact.published_at is not None:
                times.append(fact.published_at)
    index = GroupIndex()
    for (unit_code, kind), times in sorted(buckets.items()):
        for representative in _open_groups(session, office_id, unit_code, kind, times):
            index.add(unit_code, kind, representative)
    for row, fact in zip(pending_rows, facts):
        row["group_key"] = index.place(fact, f"{row['unit_code']}|{fact.kind}|{row['content_hash'][:16]}")
        row["event_kind"] = fact.kind
        row["fingerprint"] = fingerprint(fact)


def _store_one_by_one(session: Session, feed: Feed, items: Iterable[FeedItem], *, now: datetime, how: _How) -> StoreStats:
    stats = StoreStats()
    for item in sorted(items, key=lambda i: i.content_hash):
        try:
            with session.begin_nested():
                _store_one(session, feed, item, stats, now=now, how=how)
        except OperationalError:
            raise  # the connection or a lock, not this item: the poll fails as a whole
        except DBAPIError as exc:  # DataError and kin: this item's values, as they are
            stats.skipped += 1
            stats.last_skip_reason = say("E_ITEM_SET_ASIDE", title=(item.title or item.link)[:60],
                                         detail=_refusal(exc))
    return stats


def _refusal(exc: DBAPIError) -> str:
    """The database's reason in one line, without the SQL or the row values."""
    orig = exc.orig
    name = type(orig).__name__ if orig is not None else type(exc).__name__
    return say("E_ITEM_REFUSED_" + ("TOO_LONG" if "truncat" in name.lower() or "too long" in str(orig).lower()
                                    else "OTHER"), kind=name)


def _store_one(session: Session, feed: Feed, item: FeedItem, stats: StoreStats, *, now: datetime, how: _How) -> None:
    guid = item.guid or item.content_hash
    seen = session.scalar(select(ItemSighting).where(ItemSighting.feed_id == feed.id, ItemSighting.guid == guid_key(guid)))
    if seen is not None:
        stats.duplicate += 1
        return
    existing = _find_existing(session, item, feed.office_id)
    if existing is None:
        existing = _insert(session, feed, item, now=now, how=how)
        if existing is not None:
            _sight(session, feed, guid, existing, now)
            stats.new += 1
            return
        existing = _find_existing(session, item, feed.office_id)
    if existing is None:  # pragma: no cover - a race lost three times in a row
        raise RuntimeError(f"item {item.content_hash} vanished while being stored")
    _sight(session, feed, guid, existing, now)
    stats.duplicate += 1


def _insert(session: Session, feed: Feed, item: FeedItem, *, now: datetime, how: _How) -> Item | None:
    values = _row(feed, item, now=now, how=how)
    _assign_groups(session, [values], feed.office_id)
    row = Item(**values)
    for _ in range(3):
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
                settle_arrivals(session, feed.office_id, [(row.group_key, row.triage_status)])
            return row
        except IntegrityError:
            return None
        except OperationalError as exc:  # a deadlock between workers: retry the savepoint
            if "deadlock" not in str(exc).lower():
                raise
    return None


def record_skipped(feed: Feed, stats: StoreStats, *, now: datetime) -> None:
    """Items set aside in this poll: counted on the feed with the last reason (部分条目异常)."""
    if stats.skipped:
        feed.skipped_count = (feed.skipped_count or 0) + stats.skipped
        feed.last_skip_reason = stats.last_skip_reason
        feed.last_skip_at = now


def record_success(session: Session, feed: Feed, result: FetchResult, *, now: datetime) -> None:
    feed.last_fetch_at = now
    feed.last_success_at = now
    feed.error_count = 0
    feed.last_error = None
    feed.last_error_code = None
    feed.failing_since = None
    if result.etag:
        feed.etag = result.etag
    if result.last_modified:
        feed.last_modified = result.last_modified
    feed.next_poll_at = now + timedelta(seconds=next_poll_delay(feed.interval_s, 0, result.retry_after_seconds))
    if result.status == "not_modified":
        return  # nothing new: last item and typical gap stand
    published = session.scalars(
        select(Item.published_at)
        .join(ItemSighting, ItemSighting.item_id == Item.id)
        .where(ItemSighting.feed_id == feed.id, Item.published_at.is_not(None))
        .order_by(Item.published_at.desc())
        .limit(20)
    ).all()
    known = [moment for moment in published if moment is not None]
    if known:
        feed.last_item_at = max(known)
        gap = typical_gap(known)
        feed.typical_gap_s = int(gap.total_seconds()) if gap else None


def record_failure(feed: Feed, *, code: str, message: str, retry_after: int | None, now: datetime) -> None:
    feed.last_fetch_at = now
    feed.error_count = (feed.error_count or 0) + 1
    feed.last_error = message
    feed.last_error_code = code
    if feed.failing_since is None:
        feed.failing_since = now
    feed.next_poll_at = now + timedelta(seconds=next_poll_delay(feed.interval_s, feed.error_count, retry_after))
