"""Which alerts are due at `now`: windows turning amber or overdue, feeds failing or gone quiet.

Pure: the caller passes the verdicts, the feed health and the keys already sent; nothing here reads the
clock, the database or the network. Each alert has a stable key, so a key sent once is never sent again.
"""
from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import UTC, datetime, time

from timeline.clock import display_beijing, require_aware, to_beijing
from timeline.engine import Verdict, WindowVerdict
from timeline.model import WINDOW_NAMES
from yuqing.board import window_status
from yuqing.vocabulary import render

KINDS: tuple[str, ...] = ("at_risk", "overdue", "feed_failing", "feed_stale")
INCIDENT_KINDS: tuple[str, ...] = ("at_risk", "overdue")
FEED_KINDS: tuple[str, ...] = ("feed_failing", "feed_stale")
LAST_ERROR_LIMIT = 200


@dataclass(frozen=True)
class IncidentClock:
    """One open incident as the alert rules see it: who owns it and its verdict at `now`."""

    incident_id: int
    title: str
    unit_code: str
    unit_name: str
    flagged: bool
    verdict: Verdict


@dataclass(frozen=True)
class FeedHealth:
    """One feed's health as the ingest worker records it (Miniflux style: errors are data on the feed).

    `failing_since` (first error of the current run of errors) and `last_item_at` (newest item) mark
    the episode: a feed that recovers and fails again later gets a new alert. Without them a feed
    alerts once per kind for good, unless the caller forgets the key when the feed recovers.
    """

    feed_id: int
    name: str
    url: str
    error_count: int
    last_error: str | None
    stale: bool
    failing_since: datetime | None = None
    last_item_at: datetime | None = None


@dataclass(frozen=True)
class Alert:
    """One message to send. `key` is stable across runs: the caller records it once delivered."""

    key: str
    kind: str  # one of KINDS
    unit_code: str | None  # None for feed alerts (they go to the office)
    flagged: bool
    title: str  # one line, no markup: notification preview, card header
    text: str  # Chinese, lines joined by "\n", only **bold** as markup
    incident_id: int | None = None
    window: str | None = None
    unit_name: str | None = None
    due_at: datetime | None = None
    feed_id: int | None = None


@dataclass(frozen=True)
class QuietHours:
    """Beijing wall-clock span [start, end) in which ordinary incidents do not alert.

    `start` is quiet, `end` is not: 22:00–07:00 holds 22:00:00 … 06:59:59. A span with start > end
    wraps midnight. start == end is refused: it could mean “never” or “always”.
    """

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are Beijing wall-clock times without tzinfo")
        if self.start == self.end:
            raise ValueError("quiet hours must not start and end at the same time")

    def contains(self, now: datetime) -> bool:
        wall = to_beijing(now).time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end


def due_alerts(
    clocks: Iterable[IncidentClock],
    feeds: Iterable[FeedHealth],
    *,
    already_sent: Set[str],
    now: datetime,
    quiet: QuietHours | None = None,
    feed_error_threshold: int = 3,
) -> list[Alert]:
    """Alerts to send now, most urgent first, none whose key is in `already_sent`.

    Per applicable window: `at_risk` while it is open inside the preset's at-risk span (at_risk_hours
    before the due instant, the due instant itself included), `overdue` once it is past due and unmet.
    A window is either open or overdue at `now`, so an overdue window never yields its at-risk alert:
    one held back (quiet hours) or missed (no run in time) is superseded by the overdue one.
    Quiet hours hold ordinary incidents only; flagged incidents and feed problems always alert. A held
    alert is simply not returned, so it goes out at the first run after quiet hours if still due.
    Feeds: `feed_failing` after `feed_error_threshold` consecutive errors; `feed_stale` when the
    worker judged the feed stale and it is not failing (a failing feed goes quiet because it fails).
    """
    require_aware(now, "now")
    if feed_error_threshold < 1:
        raise ValueError(f"feed_error_threshold must be at least 1, got {feed_error_threshold!r}")
    quiet_now = quiet is not None and quiet.contains(now)
    incident_alerts: list[Alert] = []
    for clock in clocks:
        if quiet_now and not clock.flagged:
            continue
        for window in clock.verdict.windows:
            alert = _window_alert(clock, window)
            if alert is not None and alert.key not in already_sent:
                incident_alerts.append(alert)
    # Python's sort is stable: equal alerts keep the caller's order.
    incident_alerts.sort(key=lambda a: (not a.flagged, a.kind != "overdue", a.due_at or now))
    feed_alerts = [
        alert
        for feed in feeds
        for alert in _feed_alerts(feed, feed_error_threshold)
        if alert.key not in already_sent
    ]
    return incident_alerts + feed_alerts


def incident_key(incident_id: int, window: str, kind: str) -> str:
    return f"incident:{incident_id}:{window}:{kind}"


def feed_key(feed_id: int, kind: str, since: datetime | None) -> str:
    base = f"feed:{feed_id}:{kind.removeprefix('feed_')}"
    if since is None:
        return base
    return f"{base}:{require_aware(since).astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _window_alert(clock: IncidentClock, window: WindowVerdict) -> Alert | None:
    if not window.applicable or window.due_at is None:
        return None
    name = WINDOW_NAMES.get(window.key, window.key)
    flag = render("EV_FLAGGED_SUFFIX") if clock.flagged else ""
    if window.state == "open" and window.at_risk:
        kind = "at_risk"
        headline = render("AL_AT_RISK", window=name, status=window_status(window), flag=flag)
    elif window.state == "overdue":
        kind = "overdue"
        # DESIGN.md §2.1: a window already past due when the incident was reclassified is shown as such.
        code = "AL_OVERDUE_RECLASSIFIED" if window.past_due_at_reclassification else "AL_OVERDUE"
        headline = render(code, window=name, status=window_status(window).removesuffix(render("WINDOW_PAST_DUE_SUFFIX")), flag=flag)
    else:
        return None
    details = render(
        "AL_INCIDENT_DETAILS",
        unit=clock.unit_name,
        id=clock.incident_id,
        title=_one_line(clock.title),
        due=display_beijing(window.due_at),
    )
    return Alert(
        key=incident_key(clock.incident_id, window.key, kind),
        kind=kind,
        unit_code=clock.unit_code,
        flagged=clock.flagged,
        title=render(f"AL_TITLE_{kind.upper()}", window=name, unit=clock.unit_name),
        text=f"{headline}\n{details}",
        incident_id=clock.incident_id,
        window=window.key,
        unit_name=clock.unit_name,
        due_at=window.due_at,
    )


def _feed_alerts(feed: FeedHealth, threshold: int) -> list[Alert]:
    failing = feed.error_count >= threshold
    alerts: list[Alert] = []
    if failing:
        error = _one_line(feed.last_error or "—")
        if len(error) > LAST_ERROR_LIMIT:
            error = error[: LAST_ERROR_LIMIT - 1] + "…"
        alerts.append(
            _feed_alert(
                feed,
                "feed_failing",
                feed.failing_since,
                render("AL_FEED_FAILING", name=feed.name, count=feed.error_count, url=feed.url, error=error),
            )
        )
    elif feed.stale:
        alerts.append(
            _feed_alert(
                feed,
                "feed_stale",
                feed.last_item_at,
                render("AL_FEED_STALE", name=feed.name, url=feed.url, last=display_beijing(feed.last_item_at)),
            )
        )
    return alerts


def _feed_alert(feed: FeedHealth, kind: str, since: datetime | None, text: str) -> Alert:
    return Alert(
        key=feed_key(feed.feed_id, kind, since),
        kind=kind,
        unit_code=None,
        flagged=False,
        title=render(f"AL_TITLE_{kind.upper()}", name=feed.name),
        text=text,
        feed_id=feed.feed_id,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())
