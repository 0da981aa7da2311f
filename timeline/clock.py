"""Reading times typed by people and writing them for people: UTC inside, Asia/Shanghai outside."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from timeline.words import YuqingError, say

BEIJING = ZoneInfo("Asia/Shanghai")
EARLIEST = datetime(2000, 1, 1, tzinfo=BEIJING)
LATEST = datetime(2100, 1, 1, tzinfo=BEIJING)

_DATE_ONLY = re.compile(r"^\d{4}-?\d{1,2}-?\d{1,2}$")
_SPACE_FORM = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_user_time(text: str, *, date_only: str | None = None) -> datetime:
    """ISO 8601 with or without offset, or `YYYY-MM-DD HH:MM[:SS]`; no offset means Beijing time.

    Returns an aware UTC datetime, to the whole second (deadlines are judged to the second).
    `date_only` (e.g. "00:00:00" or "23:59:59") lets a field that is a day accept a bare date.
    Times before 2000 or from 2100 on are refused (a typo, not an incident).
    """
    raw = (text or "").strip()
    if not raw:
        raise YuqingError("E_TIME_FORMAT", value=text)
    value: datetime | None = None
    if _DATE_ONLY.match(raw):
        # For a moment (an action, a post) a bare date would silently mean midnight and can turn a
        # late response into an on-time one; fields that are days (`date_only`) take a clock time.
        if date_only is None:
            raise YuqingError("E_TIME_NO_CLOCK", value=text)
        raw = f"{raw} {date_only}"
    candidate = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        match = _SPACE_FORM.match(raw)
        if match:
            y, mo, d, h, mi, s = match.groups()
            try:
                value = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0))
            except ValueError:
                value = None
    if value is None:
        raise YuqingError("E_TIME_FORMAT", value=text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=BEIJING)
    try:
        if value < EARLIEST:
            raise YuqingError("E_TIME_TOO_EARLY", value=text)
        if value >= LATEST:
            raise YuqingError("E_TIME_TOO_LATE", value=text)
        return value.astimezone(UTC).replace(microsecond=0)
    except OverflowError:  # an offset pushing year 9999 past the calendar's end
        raise YuqingError("E_TIME_TOO_LATE", value=text) from None


def require_aware(value: datetime, what: str = "time") -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value!r}")
    return value


def to_beijing(value: datetime) -> datetime:
    return require_aware(value).astimezone(BEIJING)


def iso_beijing(value: datetime | None) -> str | None:
    """ISO 8601 to the second with +08:00 (DESIGN.md §4), or None."""
    if value is None:
        return None
    return to_beijing(value).replace(microsecond=0).isoformat()


def display_beijing(value: datetime | None) -> str:
    """`2026-06-10 18:59` for tables and boards; '—' for none."""
    if value is None:
        return "—"
    return to_beijing(value).strftime("%Y-%m-%d %H:%M")


def display_seconds(value: datetime) -> str:
    """`2026-06-10 18:59:59` (Beijing) for messages where the second matters."""
    return to_beijing(value).strftime("%Y-%m-%d %H:%M:%S")


def naive_beijing(value: datetime | None) -> datetime | None:
    """Naive Beijing wall time for spreadsheet cells (openpyxl refuses aware datetimes)."""
    if value is None:
        return None
    return to_beijing(value).replace(tzinfo=None, microsecond=0)


def format_duration(seconds: int, precision: str = "minutes") -> str:
    """`3 小时 05 分` (minutes) or `3 小时 05 分 12 秒` (seconds, for a live countdown); days named when
    there are any. The one duration text of the product (words from the vocabulary)."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if precision == "seconds":
        text = say("DURATION_SECONDS", hours=hours, minutes=f"{minutes:02d}", seconds=f"{secs:02d}")
    else:
        text = say("DURATION_MINUTES", hours=hours, minutes=f"{minutes:02d}")
    return say("DURATION_DAYS", days=days, rest=text) if days else text
