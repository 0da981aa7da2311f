"""What `/metrics` reports about the store: open incidents' windows, overdue windows, feed health."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yuqing.db.incidents import list_incidents
from yuqing.db.models import Feed


@dataclass(frozen=True)
class StoreState:
    open_incidents: int
    windows: dict[tuple[str, str], int]  # (window key, state) → count, over open incidents
    overdue_windows: int
    failing_feeds: int
    last_poll_age_s: float | None


def store_state(session: Session, *, now: datetime) -> StoreState:
    views = list_incidents(session, open_only=True)
    windows: Counter[tuple[str, str]] = Counter()
    for view in views:
        for w in view.verdict(now).windows:
            if w.applicable:
                windows[(w.key, w.state)] += 1
    failing = session.scalar(select(func.count()).select_from(Feed).where(
        Feed.enabled.is_(True), Feed.kind != "import", Feed.error_count > 0)) or 0
    last = session.scalar(select(func.max(Feed.last_fetch_at)).where(Feed.kind != "import"))
    if last is not None and last.tzinfo is None:  # func.max bypasses the UTC TypeDecorator on SQLite
        from datetime import UTC

        last = datetime.fromisoformat(str(last)).replace(tzinfo=UTC)
    return StoreState(
        open_incidents=len(views),
        windows=dict(windows),
        overdue_windows=sum(n for (_, state), n in windows.items() if state == "overdue"),
        failing_feeds=int(failing),
        last_poll_age_s=(now - last).total_seconds() if last is not None else None,
    )
