"""Alert runs against stored data: open incidents and feed health in, deliveries logged per channel.

Each (alert key, channel) is delivered once; a failed delivery is retried by the next run. The
network is never touched inside a database transaction.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yuqing.alerts import Alert, FeedHealth, IncidentClock, Routes, build_request, deliver, due_alerts, urllib_post
from yuqing.db import windows
from yuqing.db.feeds import feed_is_stale
from yuqing.db.incidents import iter_incidents
from yuqing.db.models import AlertDelivery, Feed, Incident
from yuqing.db.session import Database


@dataclass
class AlertRun:
    due: int = 0
    sent: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (key, channel, error)
    checkpoint_sent: list[str] = field(default_factory=list)  # office channels the daily checkpoint reached


@dataclass(frozen=True)
class DailyCheckpoint:
    """Post the audit chain's checkpoint to the office's robots once a Beijing day, so that a copy
    lives in a chat history no database administrator controls. `key_path` signs it (unsigned when
    the key is absent); `file` is the local checkpoint file, appended too."""

    key_path: Path
    file: Path | None = None


# A claimed checkpoint post that never reported back (a replica killed mid-post) may be retried after this.
CLAIM_TIMEOUT = timedelta(minutes=10)


def _clocks(session: Session, now: datetime) -> list[IncidentClock]:
    """The clocks of the open incidents an alert can be due for at `now` (a window unmet and past its
    amber instant, found in SQL over the stored open windows), judged by the engine; the others are
    not loaded. Newest first, the order `list_incidents` gives."""
    clocks = []
    for view in iter_incidents(session, windows.alerting_ids(session, now, select(Incident.id))):
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
    checkpoint: DailyCheckpoint | None = None,
) -> AlertRun:
    with database.session() as session:
        already, pairs = _sent_keys(session)
        alerts = due_alerts(_clocks(session, now), _feeds(session, now), already_sent=already, now=now,
                            quiet=routes.quiet)
    run = AlertRun(due=len(alerts))
    if checkpoint is not None:
        run.checkpoint_sent = _post_checkpoint(database, routes, checkpoint, now=now, post=post, sleep=sleep,
                                               clock=clock)
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


def _post_checkpoint(database: Database, routes: Routes, daily: DailyCheckpoint, *, now: datetime,
                     post: Callable[..., tuple[int, bytes]], sleep: Callable[[float], None],
                     clock: Callable[[], datetime] | None) -> list[str]:
    """The day's checkpoint to each office channel, once: each (day, channel) is claimed by inserting
    its delivery row first, so replicas running the same loop never post it twice. Quiet hours hold it."""
    from timeline.clock import to_beijing
    from yuqing.db import auditkey
    from yuqing.db.audit import count_and_head
    from yuqing.vocabulary import render

    if routes.quiet is not None and routes.quiet.contains(now):
        return []
    day = to_beijing(now).date().isoformat()
    key = f"checkpoint:{day}"
    sent: list[str] = []
    made: Any = None
    for name in routes.office:
        if not _claim(database, key, name, render("AL_CHECKPOINT_TITLE", day=day), now):
            continue
        if made is None:
            count, head = database.read(count_and_head)
            made = auditkey.make_checkpoint(count, head, now, auditkey.load_key(daily.key_path),
                                            what=render("CHECKPOINT_DAILY", day=day))
            if daily.file is not None:
                auditkey.append_checkpoint(daily.file, made)
        line = json.dumps(made.as_json(), ensure_ascii=False)
        alert = Alert(key=key, kind="checkpoint", unit_code=None, flagged=False,
                      title=render("AL_CHECKPOINT_TITLE", day=day),
                      text=render("AL_CHECKPOINT_TEXT", day=day, count=made.count, line=line))
        delivery = deliver(build_request(routes.channel(name), alert, now=now), post=post, sleep=sleep)
        _record(database, alert, name, delivery.ok, delivery.attempts, delivery.status, delivery.error,
                clock() if clock else now)
        if delivery.ok:
            sent.append(name)
    return sent


def _claim(database: Database, key: str, channel: str, title: str, now: datetime) -> bool:
    """Take (key, channel) for this process: a new row, or a failed (or long-stale) one. False when
    it was sent, or another process holds it."""
    retry = or_(AlertDelivery.status == "failed",
                and_(AlertDelivery.status == "sending", AlertDelivery.last_tried_at < now - CLAIM_TIMEOUT))
    try:
        with database.session() as session:
            taken = session.execute(
                update(AlertDelivery).where(AlertDelivery.key == key, AlertDelivery.channel == channel, retry)
                .values(status="sending", last_tried_at=now))
            if getattr(taken, "rowcount", 0):
                return True
            if session.scalar(select(AlertDelivery.id).where(AlertDelivery.key == key,
                                                             AlertDelivery.channel == channel)) is not None:
                return False
            session.add(AlertDelivery(key=key, channel=channel, kind="checkpoint", title=title, attempts=0,
                                      status="sending", first_tried_at=now, last_tried_at=now))
    except IntegrityError:  # another replica inserted the same (key, channel) first
        return False
    return True


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


def delivery_log(session: Session, *, limit: int | None = None) -> list[DeliveryView]:
    """Deliveries newest first: every one unless a `limit` is given."""
    stmt = select(AlertDelivery).order_by(AlertDelivery.last_tried_at.desc(), AlertDelivery.id.desc())
    rows = session.scalars(stmt if limit is None else stmt.limit(limit))
    return [DeliveryView(r.key, r.channel, r.kind, r.title, r.status, r.attempts, r.error, r.last_tried_at, r.sent_at) for r in rows]
