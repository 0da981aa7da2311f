"""Storing what a poll or an import brought: dedup, classification, triage grouping, feed health.

Dedup keys, in order: (feed, GUID); the normalised link across all feeds (one item seen by both);
a hash of the content without the title (an edited title is not a new item). Unique indexes back
each key, so concurrent workers cannot store an item twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from db.models import Feed, Item, ItemSighting
from ingest.fetch import FetchResult, next_poll_delay, typical_gap
from ingest.parse import FeedItem
from ingest.triage import ItemFacts, event_kind, group_key_for, needs_triage

Classify = Callable[[str, str], dict[str, Any]]
TEXT_FOR_CLASSIFIER = 2000


@dataclass
class StoreStats:
    new: int = 0
    duplicate: int = 0

    def add(self, other: StoreStats) -> None:
        self.new += other.new
        self.duplicate += other.duplicate


def _find_existing(session: Session, item: FeedItem) -> Item | None:
    if item.normalized_link:
        found = session.scalar(select(Item).where(Item.normalized_link == item.normalized_link))
        if found is not None:
            return found
    return session.scalar(select(Item).where(Item.content_hash == item.content_hash))


def _sight(session: Session, feed: Feed, guid: str, item: Item, now: datetime) -> None:
    with session.begin_nested():
        session.add(ItemSighting(feed_id=feed.id, guid=guid[:2000], item_id=item.id, seen_at=now))
    

def _facts(row: Item) -> ItemFacts:
    classification = row.classification or {}
    return ItemFacts(
        id=row.id,
        title=row.title,
        text=row.summary or row.content_text,
        published_at=row.published_at,
        unit_code=row.unit_code,
        kind=event_kind(classification),
        keywords=frozenset(classification.get("keywords") or ()),
    )


def _group(session: Session, row: Item) -> str:
    facts = _facts(row)
    window = timedelta(hours=48)
    stmt = select(Item).where(
        Item.triage_status == "pending",
        Item.unit_code == row.unit_code,
        Item.id != row.id,
        Item.group_key.is_not(None),
    )
    if row.published_at is not None:
        stmt = stmt.where(Item.published_at.between(row.published_at - window, row.published_at + window))
    candidates = [(c.group_key or "", _facts(c)) for c in session.scalars(stmt.limit(200))]
    return group_key_for(facts, candidates)


def store_items(
    session: Session,
    feed: Feed,
    items: Iterable[FeedItem],
    *,
    now: datetime,
    classify: Classify,
    source: str | None = None,
) -> StoreStats:
    """Store one batch in the caller's transaction; each insert sits in a savepoint so a race with
    another worker turns into a sighting of the winner's row, never a second copy."""
    stats = StoreStats()
    for item in sorted(items, key=lambda i: i.content_hash):
        guid = item.guid or item.content_hash
        seen = session.scalar(select(ItemSighting).where(ItemSighting.feed_id == feed.id, ItemSighting.guid == guid[:2000]))
        if seen is not None:
            stats.duplicate += 1
            continue
        existing = _find_existing(session, item)
        if existing is None:
            existing = _insert(session, feed, item, now=now, classify=classify, source=source)
            if existing is not None:
                _sight(session, feed, guid, existing, now)
                stats.new += 1
                continue
            existing = _find_existing(session, item)
        if existing is None:  # pragma: no cover - a race lost three times in a row
            raise RuntimeError(f"item {item.content_hash} vanished while being stored")
        _sight(session, feed, guid, existing, now)
        stats.duplicate += 1
    return stats


def _insert(session: Session, feed: Feed, item: FeedItem, *, now: datetime, classify: Classify,
            source: str | None) -> Item | None:
    text = (item.content_text or item.summary)[:TEXT_FOR_CLASSIFIER]
    classification = classify(item.title, text)
    unit_code = (classification.get("unit") or {}).get("code") or (feed.unit.code if feed.unit else None)
    row = Item(
        feed_id=feed.id,
        source=source or feed.name,
        title=item.title or "（无标题）",
        link=item.link,
        normalized_link=item.normalized_link,
        summary=item.summary,
        content_text=item.content_text,
        author=item.author[:200],
        published_raw=(item.published_raw or None) and item.published_raw[:200],
        published_at=item.published_at,
        published_clamped=item.published_clamped,
        content_hash=item.content_hash,
        fetched_at=now,
        classification=classification,
        flagged=bool(classification.get("flagged")),
        unit_code=unit_code,
        triage_status="pending" if needs_triage(classification, unit_code) else "ignored",
    )
    for _ in range(3):
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
                if row.triage_status == "pending":
                    row.group_key = _group(session, row)
                    session.flush()
            return row
        except IntegrityError:
            return None
        except OperationalError as exc:  # a deadlock between workers: retry the savepoint
            if "deadlock" not in str(exc).lower():
                raise
    return None


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
    published = session.scalars(
        select(Item.published_at)
        .join(ItemSighting, ItemSighting.item_id == Item.id)
        .where(ItemSighting.feed_id == feed.id, Item.published_at.is_not(None))
        .order_by(Item.published_at.desc())
        .limit(20)
    ).all()
    if published:
        feed.last_item_at = max(published)
        gap = typical_gap(published)
        feed.typical_gap_s = int(gap.total_seconds()) if gap else None
    feed.next_poll_at = now + timedelta(seconds=next_poll_delay(feed.interval_s, 0, result.retry_after_seconds))


def record_failure(feed: Feed, *, code: str, message: str, retry_after: int | None, now: datetime) -> None:
    feed.last_fetch_at = now
    feed.error_count = (feed.error_count or 0) + 1
    feed.last_error = message
    feed.last_error_code = code
    if feed.failing_since is None:
        feed.failing_since = now
    feed.next_poll_at = now + timedelta(seconds=next_poll_delay(feed.interval_s, feed.error_count, retry_after))
