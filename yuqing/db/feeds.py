"""The feeds registry: add, list with health, enable, disable, remove (audited through the writer)."""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ingest.fetch import is_stale
from yuqing.db.models import Feed, Item, ItemSighting
from yuqing.db.service import Writer
from yuqing.errors import YuqingError

MIN_INTERVAL = 60
MAX_INTERVAL = 7 * 86400


@dataclass(frozen=True)
class FeedView:
    id: int
    url: str
    kind: str
    name: str
    unit_code: str | None
    unit_name: str | None
    timezone: str
    interval_s: int
    enabled: bool
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    error_count: int
    failing_since: datetime | None
    last_item_at: datetime | None
    items_24h: int
    next_poll_at: datetime | None
    stale: bool
    skipped_count: int = 0
    last_skip_reason: str | None = None


def check_url(url: str) -> str:
    text = (url or "").strip()
    if text.startswith(("http://", "https://", "file://")):
        return text
    path = Path(text).expanduser()
    if text and path.exists():
        return path.resolve().as_uri()
    raise YuqingError("E_FETCH_BAD_URL", url=url)


def _public_host(host: str) -> bool:
    """Every address the host resolves to is a public (global) one. Unresolvable → False."""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        return literal.is_global
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return bool(addresses) and all(a.is_global for a in addresses)


def check_staff_url(url: str, private_hosts: Collection[str]) -> str:
    """What a unit's staff may register: an http(s) URL on the public internet, or on a host the
    office listed in YUQING_FEED_PRIVATE_HOSTS. One refusal for every other case, decided before
    anything is opened, so it tells nothing about which local files or ports exist."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise YuqingError("E_FEED_URL_NOT_ALLOWED") from None
    if parts.scheme not in ("http", "https") or not host:
        raise YuqingError("E_FEED_URL_NOT_ALLOWED")
    if host in private_hosts or _public_host(host):
        return text
    raise YuqingError("E_FEED_URL_NOT_ALLOWED")


def add_feed(
    writer: Writer,
    url: str,
    *,
    name: str | None = None,
    unit: str | None = None,
    timezone: str = "Asia/Shanghai",
    interval_s: int = 600,
    kind: str = "feed",
    private_hosts: Collection[str] | None = None,
) -> Feed:
    writer.require_writer("添加信息源")
    if kind != "import" and writer.actor.role != "admin":
        if private_hosts is None:
            from yuqing.settings import load_config

            private_hosts = load_config().feed_private_hosts
        url = check_staff_url(url, private_hosts)
    url = url if kind == "import" else check_url(url)
    if len(url) > 2000:
        raise YuqingError("E_FEED_URL_TOO_LONG", length=len(url), limit=2000)
    session = writer.session
    if office_feed(session, url) is not None:
        raise YuqingError("E_FEED_EXISTS", url=url)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise YuqingError("E_FEED_TIMEZONE", value=timezone) from exc
    if not MIN_INTERVAL <= interval_s <= MAX_INTERVAL:
        raise YuqingError("E_FEED_INTERVAL", low=MIN_INTERVAL, high=MAX_INTERVAL)
    if not unit and writer.actor.role == "staff":
        unit = writer.actor.unit_code  # a unit's staff monitor for their own unit
    unit_row = writer.unit(unit) if unit else None
    if kind != "import":
        # Monitoring sources are the office's, or a unit's own: staff may add feeds for their unit only.
        writer.require_unit({unit_row.code} if unit_row else set(), "添加信息源", code="E_FORBIDDEN_FEED")
    feed = Feed(
        url=url,
        kind=kind,
        name=((name or "").strip() or url)[:200],
        unit=unit_row,
        timezone=timezone,
        interval_s=interval_s,
        enabled=kind != "import",
        created_at=writer.now,
        error_count=0,
        next_poll_at=writer.now,
        public_only=kind != "import" and writer.actor.role != "admin",
    )
    session.add(feed)
    session.flush()
    writer.audit("feed", feed.id, "create", None, {"url": url, "name": feed.name, "unit": unit_row.code if unit_row else None})
    return feed


def office_feed(session: Session, url: str) -> Feed | None:
    """The session's office's feed of this address (another office may poll the same one)."""
    from yuqing.db.offices import current_office_id

    return session.scalar(select(Feed).where(Feed.office_id == current_office_id(session), Feed.url == url))


def _feed(session: Session, feed_id: int) -> Feed:
    feed = session.get(Feed, feed_id)
    if feed is None:
        raise YuqingError("E_FEED_MISSING", id=feed_id)
    return feed


def set_enabled(writer: Writer, feed_id: int, enabled: bool) -> Feed:
    feed = _feed(writer.session, feed_id)
    writer.require_unit({feed.unit.code} if feed.unit else set(), "修改信息源", code="E_FORBIDDEN_FEED")
    if feed.enabled != enabled:
        feed.enabled = enabled
        if enabled:
            feed.next_poll_at = writer.now
        writer.session.flush()
        writer.audit("feed", feed.id, "enable" if enabled else "disable", {"enabled": not enabled}, {"enabled": enabled})
    return feed


def remove_feed(writer: Writer, feed_id: int) -> None:
    """Remove a feed and its sightings; items it brought stay (they may be evidence of incidents)."""
    writer.require_admin("删除信息源")
    feed = _feed(writer.session, feed_id)
    session = writer.session
    session.execute(update(Item).where(Item.feed_id == feed.id).values(feed_id=None))
    session.query(ItemSighting).filter(ItemSighting.feed_id == feed.id).delete(synchronize_session=False)
    before = {"url": feed.url, "name": feed.name}
    session.delete(feed)
    session.flush()
    writer.audit("feed", feed_id, "remove", before, None)


def feed_is_stale(feed: Feed, now: datetime) -> bool:
    """A polled feed that used to publish and has gone silent far longer than its usual gap."""
    gap = timedelta(seconds=feed.typical_gap_s) if feed.typical_gap_s else None
    return feed.enabled and feed.kind == "feed" and is_stale(feed.last_item_at, gap, now)


def list_feeds(session: Session, *, now: datetime) -> list[FeedView]:
    since = now - timedelta(hours=24)
    # The day's items first (a range of ix_items_office_fetched), then their sightings (by item): a
    # join let SQLite walk every sighting of the year for the day's few.
    day = select(Item.id).where(Item.fetched_at >= since)
    recent: dict[int, int] = dict(
        session.execute(
            select(ItemSighting.feed_id, func.count())
            .where(ItemSighting.item_id.in_(day))
            .group_by(ItemSighting.feed_id)
        ).tuples().all()
    )
    views = []
    for feed in session.scalars(select(Feed).order_by(Feed.id)):
        views.append(
            FeedView(
                id=feed.id,
                url=feed.url,
                kind=feed.kind,
                name=feed.name,
                unit_code=feed.unit.code if feed.unit else None,
                unit_name=feed.unit.name if feed.unit else None,
                timezone=feed.timezone,
                interval_s=feed.interval_s,
                enabled=feed.enabled,
                last_fetch_at=feed.last_fetch_at,
                last_success_at=feed.last_success_at,
                last_error=feed.last_error,
                error_count=feed.error_count,
                failing_since=feed.failing_since,
                last_item_at=feed.last_item_at,
                items_24h=int(recent.get(feed.id, 0)),
                next_poll_at=feed.next_poll_at if feed.enabled else None,
                stale=feed_is_stale(feed, now),
                skipped_count=feed.skipped_count or 0,
                last_skip_reason=feed.last_skip_reason,
            )
        )
    # Failing and stale feeds first: they are what the office must look at.
    views.sort(key=lambda v: (not (v.error_count > 0), not v.stale, v.id))
    return views


def file_feed(writer: Writer, url: str, *, name: str) -> int:
    """The feed of a local file (`ingest file`): registered on first use; its id."""
    feed = office_feed(writer.session, url)
    if feed is None:
        feed = add_feed(writer, url, name=name)
    return feed.id
