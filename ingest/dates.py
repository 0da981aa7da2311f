"""Publication times as written in feeds → aware UTC datetimes, or None; never a guessed wrong date.

A regex fast path covers the forms Chinese feeds use (RFC 822, ISO 8601, 年月日, dashed/slashed);
dateparser handles the rest (昨天, 3小时前, 刚刚). Zone-less times are wall time in the feed's zone.
"""
from __future__ import annotations

import re
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from timeline.clock import BEIJING, require_aware

DEFAULT_TZ = "Asia/Shanghai"
FUTURE_TOLERANCE = timedelta(minutes=10)
# A yearless `11月24日` takes the latest year that does not put it more than this after `now`:
# a publisher's clock a few hours fast must not push today's item back a whole year.
NO_YEAR_SLACK = timedelta(days=1)
MIN_YEAR, MAX_YEAR = 1900, 2999
# dateparser is slow and reads meaning into prose; a date field longer than this is not a date.
FALLBACK_MAX_LEN = 64
FALLBACK_LANGUAGES = ("zh", "zh-Hant", "yue", "en")

_REJECT = object()  # the fast path recognised the shape and the values are impossible: no fallback

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}

# Named zones in minutes east of UTC. CST is China Standard Time here, not US Central (feedparser's
# and dateparser's reading): these are Chinese feeds. Other RFC 822 names keep their US meaning.
_ZONES = {
    "z": 0, "ut": 0, "utc": 0, "gmt": 0,
    "cst": 480, "bjt": 480, "hkt": 480,
    "est": -300, "edt": -240, "cdt": -300, "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
    "jst": 540, "kst": 540,
}

_WEEKDAY_CN = r"(?:星期|周|礼拜)[一二三四五六日天]"
_MARKERS = "凌晨|早上|早晨|清晨|上午|早|中午|下午|午后|傍晚|晚上|晚间|夜里|夜间|深夜|半夜|晚"
_OFFSET = r"(?:GMT|UTC)?[+-]\d{1,2}(?::?\d{2})?"
# After a numeric or 年月日 date only zones we know, so a trailing word (来源, Source) is not a zone.
_ZONE = rf"(?:{_OFFSET}|(?:Z|UTC|GMT|UT|CST|BJT|HKT)(?![A-Za-z]))"
# An RFC 822 line is anchored, so any name can be taken as its zone (unknown names are refused).
_ZONE_RFC = rf"(?:{_OFFSET}|[A-Za-z]{{1,5}})"


def _time_part(optional: bool) -> str:
    body = rf"""
        (?:\s*(?P<marker>{_MARKERS}))?\s*
        (?:
            (?P<h>\d{{1,2}}):(?P<mi>\d{{2}})(?::(?P<s>\d{{2}})(?:[.,]\d+)?)?
          | (?P<hc>\d{{1,2}})\s*[时点]\s*(?:(?P<half>半)|(?P<mic>\d{{1,2}})\s*分?(?:\s*(?P<sc>\d{{1,2}})\s*秒)?)?
        )
        (?:\s*(?P<zone>{_ZONE}))?
    """
    return f"(?:{body})?" if optional else body


_FLAGS = re.VERBOSE | re.IGNORECASE
# 2026年11月24日 09:15 · 2016年6月2911:30 · 11月24日 下午3点 · 2014年1月2日14时左右
_CN_DATE = re.compile(
    rf"(?<!\d)(?:(?P<y>\d{{4}})\s*年\s*)?(?P<mo>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*(?:日|号)?"
    rf"(?:\s*{_WEEKDAY_CN})?{_time_part(True)}(?![\d:])",
    _FLAGS,
)
# 2026-11-24 09:15[:00] · 2020-12-17T22:00:09+08:00 · 2007/12/07 · 2008.06.13 05:10:00
_NUM_DATE = re.compile(
    rf"(?<![\d./-])(?P<y>\d{{4}})(?P<sep>[-/.])(?P<mo>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}})"
    rf"(?:T|\s*{_WEEKDAY_CN}|\s+|(?=\d))?{_time_part(True)}(?![\d:])",
    _FLAGS,
)
# 25/07/2009 (day first; only when the day cannot be a month)
_DMY_DATE = re.compile(
    rf"(?<![\d/])(?P<d>\d{{1,2}})/(?P<mo>\d{{1,2}})/(?P<y>\d{{4}})(?:\s+{_time_part(False)})?(?![\d:/])",
    _FLAGS,
)
# 昨天 14:30 · 今天下午3点 (a bare 昨天 or 3小时前 goes to dateparser)
_DAY_WORD = re.compile(rf"(?P<word>今天|今日|昨天|昨日|前天)\s*{_time_part(False)}(?![\d:])", _FLAGS)
# Thu, 17 Dec 2020 22:00:09 +0800 (CST) · 17 Dec 20 22:00 GMT
_RFC822 = re.compile(
    rf"""^(?:[A-Za-z]{{3,9}}\.?,?\s*)?(?P<d>\d{{1,2}})[\s-]+(?P<mon>[A-Za-z]{{3,9}})\.?[\s-]+(?P<y>\d{{2}}|\d{{4}})
         \s+(?P<h>\d{{1,2}}):(?P<mi>\d{{2}})(?::(?P<s>\d{{2}})(?:\.\d+)?)?
         (?:\s*(?P<zone>{_ZONE_RFC}))?(?:\s*\([^)]*\))?$""",
    _FLAGS,
)
# Tue May 31 17:46:55 +0800 2011 (Weibo / asctime order)
_ASCTIME = re.compile(
    rf"""^(?:[A-Za-z]{{3,9}},?\s+)?(?P<mon>[A-Za-z]{{3,9}})\s+(?P<d>\d{{1,2}})\s+
         (?P<h>\d{{1,2}}):(?P<mi>\d{{2}})(?::(?P<s>\d{{2}}))?\s+(?:(?P<zone>{_ZONE_RFC})\s+)?(?P<y>\d{{4}})$""",
    _FLAGS,
)
_HAS_DIGIT = re.compile(r"\d")
# 2009年8月8日下午: a part of the day written after a date, without an hour (read at the match's end).
_DAY_PART = re.compile(rf"\s*(?:{_WEEKDAY_CN}\s*)?(?P<part>{_MARKERS})(?!\s*\d)")
_HAS_WORD = re.compile(r"[^\W\d_]")
_CST_WORD = re.compile(r"(?<![A-Za-z])CST(?![A-Za-z])", re.IGNORECASE)


@dataclass(frozen=True)
class DateReading:
    """What a date string says. `at` is aware UTC; when only the day is written (`date_only`:
    2016年2月5日, 2009年8月8日下午) it is the start of that day in the feed's zone — a sort key and
    the day, not a time anyone wrote. `day_part` keeps a 上午/下午/晚上 written without an hour."""

    at: datetime
    date_only: bool = False
    day_part: str | None = None


def parse_date(raw: str | None, *, now: datetime, tz: str | ZoneInfo = DEFAULT_TZ) -> datetime | None:
    """Read one date string; aware UTC, or None when it cannot be read with confidence.

    Zone-less times are wall time in `tz`; `now` (aware) resolves relative forms and yearless
    dates (the latest year that puts them at most NO_YEAR_SLACK after now). CST means China
    Standard Time, +08:00. Impossible values (2月30日, 25:00) and
    ambiguous ones (07/08/2009, 晚上12点, a bare 2005-12) give None, never a neighbouring date.
    A plain date gives the start of its day (as written: the day); a day with a part of the day but
    no hour (2009年8月8日下午) gives None, never midnight — read_date() keeps its day, flagged.
    """
    reading = read_date(raw, now=now, tz=tz)
    if reading is None or reading.day_part is not None:
        return None
    return reading.at


def read_date(raw: str | None, *, now: datetime, tz: str | ZoneInfo = DEFAULT_TZ) -> DateReading | None:
    """parse_date's reading with what it knows: the instant, or the day only (flagged, with the
    part of the day when one was written without an hour)."""
    require_aware(now, "now")
    if not raw:
        return None
    zone = _zone(tz)
    text = _normalise(raw)
    if not text:
        return None
    found = _fast_path(text, now=now, zone=zone)
    if found is _REJECT:
        return None
    if isinstance(found, DateReading):
        return found
    if found is not None:
        return DateReading(found)  # type: ignore[arg-type]  # a datetime: the fast path returns nothing else
    if len(text) > FALLBACK_MAX_LEN or not _HAS_WORD.search(text):
        # Digits and punctuation we did not read (2005-12, 13:430, 20201217) are guesses for
        # dateparser too; it earns its cost only on words (昨天, 3小时前, November).
        return None
    moment = _fallback(text, now=now, zone=zone)
    return DateReading(moment) if moment is not None else None


def clamp_future(
    published_at: datetime, fetched_at: datetime, tolerance: timedelta = FUTURE_TOLERANCE
) -> tuple[datetime, bool]:
    """An item dated more than `tolerance` after it was fetched gets the fetch time instead.

    Returns (time, clamped). Exactly `tolerance` ahead is kept: publishers' clocks drift a little,
    and an item cannot have been published after we saw it.
    """
    require_aware(published_at, "published_at")
    require_aware(fetched_at, "fetched_at")
    if published_at - fetched_at > tolerance:
        return fetched_at.astimezone(UTC), True
    return published_at.astimezone(UTC), False


# --- fast path -------------------------------------------------------------------------------


def _normalise(raw: str) -> str:
    # NFKC turns full-width digits and colons (０９：１５, common in Chinese CMS output) into ASCII.
    text = unicodedata.normalize("NFKC", raw)
    return " ".join(text.split())


@lru_cache(maxsize=64)
def _zone_by_name(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else _zone_by_name(tz)


def _fast_path(text: str, *, now: datetime, zone: ZoneInfo) -> object:
    """A datetime, _REJECT, or None (not a form we know: let dateparser try)."""
    match = _RFC822.match(text) or _ASCTIME.match(text)
    if match:
        return _from_rfc822(match, zone)
    for pattern in (_NUM_DATE, _CN_DATE, _DMY_DATE, _DAY_WORD):
        match = pattern.search(text)
        if match is None:
            continue
        rest = text[: match.start()] + text[match.end():]
        if _HAS_DIGIT.search(rest):
            # Other numbers around the date (a typo like 13:430, a second date): not sure what it is.
            return None
        if "北京时间" in rest:
            zone = BEIJING
        if pattern is _DAY_WORD:
            return _from_day_word(match, now=now, zone=zone)
        found = _from_numeric(match, now=now, zone=zone, day_first=pattern is _DMY_DATE)
        if isinstance(found, datetime) and match.groupdict().get("h") is None and match.groupdict().get("hc") is None:
            part = _DAY_PART.match(text, match.end())
            return DateReading(found, date_only=True, day_part=part["part"] if part else None)
        return found
    return None


def _from_rfc822(match: re.Match[str], zone: ZoneInfo) -> object:
    month = _MONTHS.get(match["mon"].lower())
    if month is None:
        return None
    year = int(match["y"])
    if len(match["y"]) == 2:
        year += 2000 if year < 50 else 1900  # RFC 2822 §4.3
    return _build(year, month, int(match["d"]), _clock(match), match["zone"], zone)


def _from_numeric(match: re.Match[str], *, now: datetime, zone: ZoneInfo, day_first: bool) -> object:
    month, day = int(match["mo"]), int(match["d"])
    if day_first and day <= 12 and month != day:
        if month <= 12:
            return _REJECT  # 07/08/2009: July or August? Guessing would be a wrong date half the time.
        month, day = day, month  # 07/25/2009 can only be month first
    clock = _clock(match)
    if clock is _REJECT:
        return _REJECT
    if match["y"] is not None:
        return _build(int(match["y"]), month, day, clock, match["zone"], zone)
    return _yearless(month, day, clock, match["zone"], now=now, zone=zone)


def _from_day_word(match: re.Match[str], *, now: datetime, zone: ZoneInfo) -> object:
    back = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}[match["word"]]
    day = now.astimezone(zone).date() - timedelta(days=back)
    return _build(day.year, day.month, day.day, _clock(match), match["zone"], zone)


def _yearless(
    month: int, day: int, clock: object, zone_text: str | None, *, now: datetime, zone: ZoneInfo
) -> object:
    """`11月24日`: the latest year whose date is not more than NO_YEAR_SLACK after now."""
    year = now.astimezone(zone).year
    possible = False
    for candidate_year in range(year, year - 8, -1):  # 2月29日 may need to reach back a few years
        found = _build(candidate_year, month, day, clock, zone_text, zone)
        if found is _REJECT:
            continue
        possible = True
        if found <= now + NO_YEAR_SLACK:  # type: ignore[operator]  # found is a datetime here (None returned above)
            return found
    return _REJECT if not possible else None


def _clock(match: re.Match[str]) -> time | object | None:
    """The time of day in the match (None: date only), honouring 上午/下午/晚 markers."""
    groups = match.groupdict()
    if groups.get("h") is not None:
        hour, minute, second = int(groups["h"]), int(groups["mi"]), int(groups["s"] or 0)
    elif groups.get("hc") is not None:
        hour = int(groups["hc"])
        minute = 30 if groups["half"] else int(groups["mic"] or 0)
        second = int(groups["sc"] or 0)
    else:
        return None
    marker = groups.get("marker")
    if marker:
        marked = _apply_marker(marker, hour)
        if marked is None:
            return _REJECT
        hour = marked
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
        return _REJECT
    return time(hour, minute, second)


def _apply_marker(marker: str, hour: int) -> int | None:
    if hour > 23:
        return None
    if marker in ("凌晨", "早上", "早晨", "清晨", "上午", "早"):
        if hour > 12:
            return None  # 上午15点 contradicts itself
        return 0 if (hour == 12 and marker == "凌晨") else hour
    if marker == "中午":
        return hour + 12 if hour <= 2 else hour
    if marker in ("夜里", "夜间", "深夜", "半夜"):
        if hour == 12:
            return None  # 半夜12点: midnight of which day?
        return hour if hour < 6 else (hour + 12 if hour < 12 else hour)
    # 下午, 午后, 傍晚, 晚上, 晚间, 晚
    if hour == 12:
        return 12 if marker in ("下午", "午后") else None
    return hour + 12 if hour < 12 else hour


def _offset(zone_text: str) -> timezone | None:
    key = zone_text.lower()
    if key in _ZONES:
        return timezone(timedelta(minutes=_ZONES[key]))
    match = re.fullmatch(r"(?:gmt|utc)?([+-])(\d{1,2})(?::?(\d{2}))?", key)
    if match is None:
        return None
    sign = -1 if match[1] == "-" else 1
    hours, minutes = int(match[2]), int(match[3] or 0)
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _build(
    year: int, month: int, day: int, clock: object, zone_text: str | None, zone: ZoneInfo
) -> object:
    if clock is _REJECT or not (MIN_YEAR <= year <= MAX_YEAR):
        return _REJECT
    try:
        day_value = date(year, month, day)
    except ValueError:
        return _REJECT  # 2月30日, 13月
    tzinfo: timezone | ZoneInfo = zone
    if zone_text:
        offset = _offset(zone_text)
        if offset is None:
            return _REJECT  # an unknown zone name (IST?): the instant cannot be known
        tzinfo = offset
    wall = datetime.combine(day_value, clock if isinstance(clock, time) else time(0, 0))
    return wall.replace(tzinfo=tzinfo).astimezone(UTC)


# --- fallback --------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _date_parser(base: datetime, zone_name: str) -> Any:
    from dateparser.date import DateDataParser

    settings = {
        "RELATIVE_BASE": base,  # naive wall time in the feed's zone, as dateparser expects
        "TIMEZONE": zone_name,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TO_TIMEZONE": "UTC",
        "PREFER_DATES_FROM": "past",
        # Without this `2005-12` becomes 2005-12-<today's day>: a wrong date, not a missing one.
        "REQUIRE_PARTS": ["day", "month", "year"],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return DateDataParser(languages=list(FALLBACK_LANGUAGES), settings=settings)


def _fallback(text: str, *, now: datetime, zone: ZoneInfo) -> datetime | None:
    text = _CST_WORD.sub("+0800", text)  # dateparser would read CST as US Central
    base = now.astimezone(zone).replace(tzinfo=None, microsecond=0)
    parser = _date_parser(base, zone.key)
    with warnings.catch_warnings():
        # dateparser still uses pytz / regex features that warn on some Python versions.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            found = parser.get_date_data(text).date_obj
        except (ValueError, OverflowError, TypeError):
            return None
    if found is None or found.tzinfo is None:
        return None
    moment: datetime = found.astimezone(UTC).replace(tzinfo=UTC)
    return moment
