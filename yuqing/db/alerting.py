"""Alert runs against stored data: open incidents and feed health in, deliveries logged per channel.

Each (alert key, channel) is delivered once; a failed delivery is retried by the next run. The
network is never touched inside a database transaction.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.alerts import Alert, FeedHealth, IncidentClock, Routes, build_request, deliver, due_alerts, urllib_post
from yuqing.db.feeds import feed_is_stale
from yuqing.db.incidents import list_incidents
from yuqing.db.models import AlertDelivery, Feed
from yuqing.db.session import Database


@dataclass
class AlertRun:
    due: int = 0
    sent: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (key, channel, error)


def _clocks(session: Session, now: datetime) -> list[IncidentClock]:
    clocks = []
    for view in list_incidents(session, open_only=True):
        verdict = view.verdict(now)
        clocks.append(IncidentClock(view.id, view.title, view.unit.code, view.unit.name, verdict.flagged, verdict))
    return clocks


def _feeds(session: Session, now: datetime) -> list[FeedHealth]:
    out = []
    for feed in session.scalars(select(Feed).where(Feed.enabled.is_(True), Feed.kind == "feed")):
        out.append(
            FeedHealth(
                feed.id, feed.name, feed.url, feed.error_count, feed.last_error,
                feed_is_stale(feed, now), feed.failing_since, feed.last_item_at,
            )
        )
    return out


def _sent_keys(session: Session) -> tuple[set[str], set[tuple[str, str]]]:
    rows = session.execute(select(AlertDelivery.key, AlertDelivery.channel, AlertDelivery.status)).all()
    pairs = {(k, c) for k, c, s in rows if s == "sent"}
    failed_keys = {k for k, _, s in rows if s != "sent"}
    return {k for k, _ in pairs} - failed_keys, pairs


def run_alerts(
    database: Database,
    routes: Routes,
    *,
    now: datetime,
    post: Callable[..., tuple[int, bytes]] = urllib_post,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] | None = None,
) -> AlertRun:
    with database.session() as session:
        already, pairs = _sent_keys(session)
        alerts = due_alerts(_clocks(session, now), _feeds(session, now), already_sent=already, now=now,
                            quiet=routes.quiet)
    run = AlertRun(due=len(alerts))
    for alert in alerts:
        for channel in routes.channels_for(alert):
            if (alert.key, channel.name) in pairs:
                continue
            delivery = deliver(build_request(channel, alert, now=now), post=post, sleep=sleep)
            tried_at = clock() if clock else now
            _record(database, alert, channel.name, delivery.ok, delivery.attempts, delivery.status, delivery.error, tried_at)
            if delivery.ok:
                run.sent += 1
            else:
                run.failed.append((alert.key, channel.name, delivery.error or ""))
    return run


def _record(database: Database, alert: Alert, channel: str, ok: bool, attempts: int, status: int | None,
            error: str | None, at: datetime) -> None:
    with database.session() as session:
        row = session.scalar(select(AlertDelivery).where(AlertDelivery.key == alert.key, AlertDelivery.channel == channel))
        if row is None:
            row = AlertDelivery(key=alert.key, channel=channel, kind=alert.kind, incident_id=alert.incident_id,
                                feed_id=alert.feed_id, unit_code=alert.unit_code, title=alert.title, attempts=0,
                                first_tried_at=at, last_tried_at=at, status="failed")
            session.add(row)
        row.attempts = (row.attempts or 0) + attempts
        row.status = "sent" if ok else "failed"
        row.http_status = status
        row.error = None if ok else error
        row.last_tried_at = at
        if ok:
            row.sent_at = at


@dataclass(frozen=True)
class DeliveryView:
    key: str
    channel: str
    kind: str
    title: str
    status: str
    attempts: int
    error: str | None
    last_tried_at: datetime
    sent_at: datetime | None


def delivery_log(session: Session, *, limit: int = 200) -> list[DeliveryView]:
    rows = session.scalars(select(AlertDelivery).order_by(AlertDelivery.last_tried_at.desc(), AlertDelivery.id.desc()).limit(limit))
    return [DeliveryView(r.key, r.channel, r.kind, r.title, r.status, r.attempts, r.error, r.last_tried_at, r.sent_at) for r in rows]
