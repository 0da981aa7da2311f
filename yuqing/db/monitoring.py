"""What `/metrics` reports about the store: open incidents' windows, overdue windows, feed health."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuqing.db import windows as stored_windows
from yuqing.db.models import Feed, Incident


@dataclass(frozen=True)
class StoreState:
    open_incidents: int
    windows: dict[tuple[str, str], int]  # (window key, state) → count, over open incidents
    overdue_windows: int
    failing_feeds: int
    last_poll_age_s: float | None


def store_state(session: Session, *, now: datetime) -> StoreState:
    # From the stored open windows (yuqing/db/windows.py), in SQL: a scrape costs two aggregate
    # queries, not a judgement of every open incident.
    open_incidents = session.scalar(select(func.count()).select_from(Incident).where(Incident.status == "open")) or 0
    windows = stored_windows.state_counts(session, now, select(Incident.id))
    failing = session.scalar(select(func.count()).select_from(Feed).where(
        Feed.enabled.is_(True), Feed.kind != "import", Feed.error_count > 0)) or 0
    last = session.scalar(select(func.max(Feed.last_fetch_at)).where(Feed.kind != "import"))
    if last is not None and last.tzinfo is None:  # func.max bypasses the UTC TypeDecorator on SQLite
        from datetime import UTC

        last = datetime.fromisoformat(str(last)).replace(tzinfo=UTC)
    return StoreState(
        open_incidents=int(open_incidents),
        windows=dict(windows),
        overdue_windows=sum(n for (_, state), n in windows.items() if state == "overdue"),
        failing_feeds=int(failing),
        last_poll_age_s=(now - last).total_seconds() if last is not None else None,
    )
