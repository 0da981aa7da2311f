"""Polling: claim a due feed, fetch, parse, store — each poll one transaction.

On PostgreSQL the claim is a row lock (`FOR UPDATE SKIP LOCKED`) held for the whole poll, so several
worker processes share the feeds, none is fetched twice at once, and a worker killed mid-poll leaves
nothing behind (its transaction rolls back and the feed is due again). SQLite runs one worker; there
the network fetch happens outside the write transaction so the database is not locked meanwhile.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ingest.fetch import FetchResult, HostPolicy, fetch
from ingest.parse import parse_feed
from yuqing.db.classifying import classifier_for, classify_text
from yuqing.db.items import StoreStats, record_failure, record_skipped, record_success, store_items
from yuqing.db.models import Feed
from yuqing.db.service import unit_refs
from yuqing.db.session import Database
from yuqing.errors import YuqingError

Fetcher = Callable[..., FetchResult]


@dataclass
class PollReport:
    feeds: int = 0
    stats: StoreStats = field(default_factory=StoreStats)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (source, message)
    died: int = 0  # worker processes that exited abnormally (ingest --workers N)
    unchanged: int = 0  # feeds that answered 304, or the same bytes as last time (not parsed again)

    def merge(self, other: PollReport) -> None:
        self.feeds += other.feeds
        self.unchanged += other.unchanged
        self.stats.add(other.stats)
        self.errors.extend(other.errors)
        self.died += other.died


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _due(cutoff: datetime) -> Any:
    """Feeds due at the start of the run (`cutoff`) and not fetched since: one run polls each feed
    at most once, however long it takes (a run longer than a feed's interval used to poll it again)."""
    return select(Feed).where(
        Feed.enabled.is_(True),
        Feed.kind != "import",
        or_(Feed.next_poll_at.is_(None), Feed.next_poll_at <= cutoff),
        or_(Feed.last_fetch_at.is_(None), Feed.last_fetch_at < cutoff),
    ).order_by(Feed.next_poll_at, Feed.id)


class Poller:
    """Polls feeds of one database with one classifier (built once per process)."""

    def __init__(self, database: Database, *, preset: str, fetcher: Fetcher = fetch,
                 clock: Callable[[], datetime] = _utcnow, private_hosts: Collection[str] | None = None) -> None:
        if private_hosts is None:
            from yuqing.settings import load_config

            private_hosts = load_config().feed_private_hosts
        # Read when the poller starts: hosts the office takes off the list are refused from then on.
        self.private_hosts = frozenset(private_hosts)
        self.database = database
        self.preset = preset
        self.fetcher = fetcher
        self.clock = clock
        self._classify: dict[int, Callable[[str, str], dict[str, Any]]] = {}
        self.postgres = database.engine.dialect.name == "postgresql"

    def classify(self, session: Session, office_id: int | None = None) -> Callable[[str, str], dict[str, Any]]:
        """The classifier of an office's registry (default: the session's office), built once per office:
        a feed of 灵宝's office names 灵宝's units, whichever session the worker polls it in."""
        from yuqing.db.offices import current_office_id

        office = current_office_id(session) if office_id is None else office_id
        if office not in self._classify:
            if office == current_office_id(session):
                refs = unit_refs(session)
            else:
                refs = self.database.for_office(office).read(unit_refs)
            classifier = classifier_for(refs)
            preset = self.preset
            self._classify[office] = lambda title, text: classify_text(classifier, preset, title, text)
        return self._classify[office]

    def _apply(self, session: Session, feed: Feed, result: FetchResult, now: datetime) -> PollReport:
        report = PollReport(feeds=1)
        if result.status == "error":
            record_failure(feed, code=result.error_code or "E_FETCH", message=result.error_message or "",
                           retry_after=result.retry_after_seconds, now=now)
            report.errors.append((feed.url, result.error_message or ""))
            return report
        if result.status == "not_modified":
            report.unchanged = 1
        if result.status == "ok" and result.body is not None:
            digest = hashlib.sha256(result.body).hexdigest()
            if digest == feed.body_sha256:  # a server without validators sent the same bytes again
                report.unchanged = 1
                record_success(session, feed, replace(result, status="not_modified"), now=now)
                return report
            try:
                parsed = parse_feed(result.body, headers=result.headers, fetched_at=now, feed_tz=feed.timezone)
            except YuqingError as exc:
                record_failure(feed, code=exc.code, message=exc.message, retry_after=None, now=now)
                report.errors.append((feed.url, exc.message))
                return report
            if feed.name == feed.url and parsed.title:
                feed.name = parsed.title[:200]
            report.stats = store_items(session, feed, parsed.items, now=now, classify=self.classify(session, feed.office_id))
            record_skipped(feed, report.stats, now=now)
            feed.body_sha256 = digest
        record_success(session, feed, result, now=now)
        return report

    def _fetch(self, url: str, etag: str | None, modified: str | None, public_only: bool) -> FetchResult:
        # Every fetch re-checks where it may connect (HostPolicy), redirect hops included.
        policy = HostPolicy(public_only=public_only, private_hosts=self.private_hosts)
        return self.fetcher(url, etag=etag, last_modified=modified, policy=policy)

    def poll_next(self, *, feed_ids: list[int] | None = None, cutoff: datetime | None = None) -> PollReport | None:
        """Claim and poll one feed due at `cutoff` (default: now); None when nothing (more) is due.

        An unexpected exception while polling one feed rolls that poll back and is stored on the
        feed as a failure (so it is shown, counted, and the feed backs off); the run goes on.
        """
        claimed: list[int] = []
        try:
            return self._poll_next(feed_ids, claimed, cutoff or self.clock())
        except YuqingError:
            raise
        except Exception as exc:  # noqa: BLE001 - one feed's bug must not stop the others
            if not claimed:
                raise
            return self._record_crash(claimed[0], exc)

    def _record_crash(self, feed_id: int, exc: Exception) -> PollReport:
        from timeline.words import say

        message = say("E_POLL_CRASHED", kind=type(exc).__name__)
        with self.database.session() as session:
            feed = session.get(Feed, feed_id)
            if feed is not None:
                record_failure(feed, code="E_POLL_CRASHED", message=message, retry_after=None, now=self.clock())
                url = feed.url
            else:
                url = str(feed_id)
        report = PollReport(feeds=1)
        report.errors.append((url, message))
        return report

    def _poll_next(self, feed_ids: list[int] | None, claimed: list[int], now: datetime) -> PollReport | None:
        if self.postgres:
            with self.database.session() as session:
                stmt = _due(now) if feed_ids is None else select(Feed).where(Feed.id.in_(feed_ids)).order_by(Feed.id)
                feed = session.scalar(stmt.limit(1).with_for_update(skip_locked=True, of=Feed))
                if feed is None:
                    return None
                claimed.append(feed.id)
                result = self._fetch(feed.url, feed.etag, feed.last_modified, bool(feed.public_only))
                return self._apply(session, feed, result, self.clock())
        with self.database.session() as session:
            stmt = _due(now) if feed_ids is None else select(Feed).where(Feed.id.in_(feed_ids)).order_by(Feed.id)
            feed = session.scalar(stmt.limit(1))
            if feed is None:
                return None
            feed_id, url, etag, modified = feed.id, feed.url, feed.etag, feed.last_modified
            public_only = bool(feed.public_only)
            claimed.append(feed_id)
        result = self._fetch(url, etag, modified, public_only)
        with self.database.session() as session:
            feed = session.get(Feed, feed_id)
            if feed is None:  # removed meanwhile
                return PollReport()
            return self._apply(session, feed, result, self.clock())

    def poll_due(self, *, progress: Callable[[PollReport], None] | None = None,
                 cutoff: datetime | None = None) -> PollReport:
        """One pass: every feed due when the run starts (or at `cutoff`), each polled once."""
        cutoff = cutoff or self.clock()
        total = PollReport()
        while (report := self.poll_next(cutoff=cutoff)) is not None:
            total.merge(report)
            if progress:
                progress(total)
        return total

    def poll_feeds(self, feed_ids: list[int]) -> PollReport:
        """Poll exactly these feeds once each, due or not (`yuqing ingest file`)."""
        total = PollReport()
        for feed_id in feed_ids:
            report = self.poll_next(feed_ids=[feed_id])
            if report is not None:
                total.merge(report)
        return total


def _worker(url: str, preset: str, queue: multiprocessing.Queue[tuple[int, int, int, list, int]], cutoff: datetime) -> None:
    """One worker process. It never prints a traceback: what failed is on the feed rows, and a
    worker that could not go on exits non-zero, which the parent counts."""
    import sys

    try:
        database = Database(url)
        try:
            report = Poller(database, preset=preset).poll_due(cutoff=cutoff)
            queue.put((report.feeds, report.stats.new, report.stats.duplicate, report.errors, report.unchanged))
        finally:
            database.dispose()
    except BaseException as exc:  # noqa: BLE001 - reported by exit status, not by a traceback
        message = exc.message if isinstance(exc, YuqingError) else type(exc).__name__
        queue.put((0, 0, 0, [("", message)], 0))
        sys.exit(3)


def run_workers(url: str, preset: str, workers: int) -> PollReport:
    """One cycle with `workers` processes sharing the feeds due when it starts (PostgreSQL)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    cutoff = _utcnow()
    processes = [context.Process(target=_worker, args=(url, preset, queue, cutoff)) for _ in range(workers)]
    for process in processes:
        process.start()
    total = PollReport()
    results = 0
    import queue as queue_module

    while results < len(processes):
        try:
            feeds, new, duplicate, errors, unchanged = queue.get(timeout=1.0)
        except queue_module.Empty:
            if all(not p.is_alive() for p in processes) and queue.empty():
                break  # a worker died without reporting; what it committed is in the database
            continue
        results += 1
        total.feeds += feeds
        total.stats.new += new
        total.stats.duplicate += duplicate
        total.errors.extend(errors)
        total.unchanged += unchanged
    for process in processes:
        process.join()
    total.died = sum(1 for p in processes if p.exitcode != 0)
    return total


def sleep_until_next(interval: float) -> None:
    time.sleep(interval)
