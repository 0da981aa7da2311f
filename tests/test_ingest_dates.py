"""Feed dates: the fast-path forms, dateparser's own Chinese cases, real CEC report times, clamping."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.dates import NO_YEAR_SLACK, DateReading, clamp_future, parse_date, read_date

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dates"
BEIJING = ZoneInfo("Asia/Shanghai")
UTC = UTC
# 2026-11-24 10:00 Beijing
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def bj(*args: int) -> datetime:
    """Beijing wall time → the aware UTC value parse_date returns."""
    return datetime(*args, tzinfo=BEIJING).astimezone(UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def read_jsonl(name: str) -> list[dict]:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"shared data file missing: {path}")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- the fast-path forms -------------------------------------------------------------------------

FAST_FORMS = [
    # RFC 822: offsets, GMT, CST read as China (not US Central), two-digit year, comment, no weekday
    ("Thu, 17 Dec 2020 22:00:09 +0800", utc(2020, 12, 17, 14, 0, 9)),
    ("Thu, 17 Dec 2020 22:00:09 +08:00", utc(2020, 12, 17, 14, 0, 9)),
    ("Thu, 17 Dec 2020 22:00:09 CST", utc(2020, 12, 17, 14, 0, 9)),
    ("Thu, 17 Dec 2020 22:00:09 GMT", utc(2020, 12, 17, 22, 0, 9)),
    ("Thu, 17 Dec 2020 22:00:09 -0500", utc(2020, 12, 18, 3, 0, 9)),
    ("Thu, 17 Dec 2020 22:00:09 EST", utc(2020, 12, 18, 3, 0, 9)),
    ("Thu, 17 Dec 2020 22:00:09 +0800 (CST)", utc(2020, 12, 17, 14, 0, 9)),
    ("Fri, 17 Dec 2020 22:00:09 +0800", utc(2020, 12, 17, 14, 0, 9)),  # wrong weekday is ignored
    ("17 Dec 20 22:00 GMT", utc(2020, 12, 17, 22, 0)),
    ("Thu, 17 December 2020 22:00:09", bj(2020, 12, 17, 22, 0, 9)),  # no zone: the feed's zone
    ("Tue May 31 17:46:55 +0800 2011", utc(2011, 5, 31, 9, 46, 55)),  # Weibo order
    # ISO 8601
    ("2020-12-17T22:00:09Z", utc(2020, 12, 17, 22, 0, 9)),
    ("2020-12-17T22:00:09+08:00", utc(2020, 12, 17, 14, 0, 9)),
    ("2020-12-17T22:00:09.123456+0800", utc(2020, 12, 17, 14, 0, 9)),
    ("2020-12-17T22:00:09", bj(2020, 12, 17, 22, 0, 9)),
    # dashed, slashed, dotted
    ("2026-11-24 09:15", bj(2026, 11, 24, 9, 15)),
    ("2026-11-24 09:15:30", bj(2026, 11, 24, 9, 15, 30)),
    ("2008-4-15 13:47:03", bj(2008, 4, 15, 13, 47, 3)),
    ("2007-10-8", bj(2007, 10, 8)),
    ("2009/05/22", bj(2009, 5, 22)),
    ("2013/12/10 13:53:18", bj(2013, 12, 10, 13, 53, 18)),
    ("2008.06.13 05:10:00", bj(2008, 6, 13, 5, 10)),
    ("2014-04-19 08:33:21 星期六", bj(2014, 4, 19, 8, 33, 21)),
    ("时间：2014-03-29 05:54:45", bj(2014, 3, 29, 5, 54, 45)),
    ("2014-04-18 10:24环球网", bj(2014, 4, 18, 10, 24)),
    ("25/07/2009", bj(2009, 7, 25)),  # day first, unambiguous
    ("07/25/2009", bj(2009, 7, 25)),  # month first, unambiguous
    # 年月日
    ("2026年11月24日 09:15", bj(2026, 11, 24, 9, 15)),
    ("2026年11月24日09:15", bj(2026, 11, 24, 9, 15)),
    ("2026年11月24日 09:15:07", bj(2026, 11, 24, 9, 15, 7)),
    ("2016年6月2911:30", bj(2016, 6, 29, 11, 30)),
    ("2016年06月30日09时30分", bj(2016, 6, 30, 9, 30)),
    ("2015年04月08日10点05", bj(2015, 4, 8, 10, 5)),
    ("2014年1月2日14时左右", bj(2014, 1, 2, 14, 0)),
    ("2016年 2月 5日", bj(2016, 2, 5)),
    ("日期：2014年3月13日", bj(2014, 3, 13)),
    ("包头新闻网 发布时间： 2013年12月30日 10:24", bj(2013, 12, 30, 10, 24)),
    ("2014年01月30日16:45来源：新华网", bj(2014, 1, 30, 16, 45)),
    ("2014年03月31日 星期一", bj(2014, 3, 31)),
    ("２０２６年１１月２４日　０９：１５", bj(2026, 11, 24, 9, 15)),  # full-width
    ("北京时间2026年11月24日 09:15", bj(2026, 11, 24, 9, 15)),
    # 上午/下午/晚 markers
    ("2016年9月14日晚8:00", bj(2016, 9, 14, 20, 0)),
    ("2026年11月24日下午3点", bj(2026, 11, 24, 15, 0)),
    ("2026年11月24日下午3点半", bj(2026, 11, 24, 15, 30)),
    ("2026年11月24日 下午 15:20", bj(2026, 11, 24, 15, 20)),
    ("2026年11月24日下午12:10", bj(2026, 11, 24, 12, 10)),
    ("2026年11月24日上午9时", bj(2026, 11, 24, 9, 0)),
    ("2026年11月24日凌晨12点30分", bj(2026, 11, 24, 0, 30)),
    ("2026年11月24日中午1点", bj(2026, 11, 24, 13, 0)),
    ("2026年11月24日夜里2点", bj(2026, 11, 24, 2, 0)),
    ("2026年11月24日晚上11点59分59秒", bj(2026, 11, 24, 23, 59, 59)),
    # yearless, inferred so the date is not in the future (now = 2026-11-24 10:00 Beijing)
    ("11月24日 09:15", bj(2026, 11, 24, 9, 15)),
    ("11月24日", bj(2026, 11, 24)),
    ("11月25日 09:59", bj(2026, 11, 25, 9, 59)),  # within a day of now: a fast clock, same year
    ("11月25日 10:01", bj(2025, 11, 25, 10, 1)),  # more than a day ahead: last year's
    ("12月31日", bj(2025, 12, 31)),
    ("1月1日 00:00", bj(2026, 1, 1)),
    ("2月29日", bj(2024, 2, 29)),  # the latest 29 February that exists
    # day words with a clock time
    ("昨天 14:30", bj(2026, 11, 23, 14, 30)),
    ("昨天下午2点", bj(2026, 11, 23, 14, 0)),
    ("今天 08:00", bj(2026, 11, 24, 8, 0)),
    ("前天 23:59", bj(2026, 11, 22, 23, 59)),
]

FALLBACK_FORMS = [
    ("November 24, 2026", bj(2026, 11, 24)),
    ("Nov 24, 2026 9:15 AM", bj(2026, 11, 24, 9, 15)),
    ("Dec 17, 2020 10:00 PM CST", utc(2020, 12, 17, 14, 0)),  # CST is China here too
    ("2 hours ago", NOW - timedelta(hours=2)),
]


@pytest.mark.parametrize(("raw", "expected"), FALLBACK_FORMS)
def test_forms_left_to_dateparser_follow_the_same_zone_rules(raw: str, expected: datetime) -> None:
    assert parse_date(raw, now=NOW) == expected


@pytest.mark.parametrize(("raw", "expected"), FAST_FORMS)
def test_fast_path_form_parses_to_the_instant(raw: str, expected: datetime) -> None:
    found = parse_date(raw, now=NOW)
    assert found == expected
    assert found is not None and found.tzinfo is UTC


BOUNDARIES = [
    ("2026-11-24 00:00:00", bj(2026, 11, 24, 0, 0)),
    ("2026-11-24 23:59:59", bj(2026, 11, 24, 23, 59, 59)),
    ("2026-12-31 23:59:59", bj(2026, 12, 31, 23, 59, 59)),
    ("2024-02-29", bj(2024, 2, 29)),
    ("2000年2月29日", bj(2000, 2, 29)),
    ("2026年1月31日", bj(2026, 1, 31)),
    ("2026年4月30日", bj(2026, 4, 30)),
]


@pytest.mark.parametrize(("raw", "expected"), BOUNDARIES)
def test_last_valid_value_of_each_field_parses(raw: str, expected: datetime) -> None:
    assert parse_date(raw, now=NOW) == expected


IMPOSSIBLE = [
    "2026年2月30日",
    "2026年2月29日",  # not a leap year
    "1900-02-29",  # century rule
    "2026-02-29",
    "2026年4月31日",
    "2026年13月1日",
    "2026年0月10日",
    "2026年1月0日",
    "2026-01-32",
    "2026-01-01 24:00",
    "2026-01-01 25:00",
    "2026-01-01 23:60",
    "2026-01-01 23:59:60",
    "2026年11月24日 25:00",
    "2026年11月24日上午15点",  # contradicts itself
    "2026年11月24日晚上12点",  # midnight of which day?
    "2月30日",
    "Thu, 31 Feb 2026 10:00:00 +0800",
    "Thu, 17 Dec 2020 22:00:09 +2500",
    "Thu, 17 Dec 2020 22:00:09 IST",  # India, Israel or Ireland: unknown zone, no guess
    "Thu, 17 Foo 2020 22:00:09 +0800",
    "07/08/2009",  # July or August?
    "2005-12",  # which day?
    "2014-04-30 13:430",  # a typo in the source
    "0001-01-01",
    "",
    "   ",
    "当场",
    "目前",
    "not a date",
]


@pytest.mark.parametrize("raw", IMPOSSIBLE)
def test_impossible_or_ambiguous_date_gives_none_not_a_neighbour(raw: str) -> None:
    assert parse_date(raw, now=NOW) is None


RELATIVE = [
    ("刚刚", NOW),
    ("3小时前", NOW - timedelta(hours=3)),
    ("半小时前", NOW - timedelta(minutes=30)),
    ("10分钟前", NOW - timedelta(minutes=10)),
    ("昨天", NOW - timedelta(days=1)),
    ("前天", NOW - timedelta(days=2)),
]


@pytest.mark.parametrize(("raw", "expected"), RELATIVE)
def test_relative_forms_count_back_from_now(raw: str, expected: datetime) -> None:
    assert parse_date(raw, now=NOW) == expected


def test_zone_less_time_takes_the_given_zone() -> None:
    assert parse_date("2026-11-24 09:15", now=NOW, tz="UTC") == utc(2026, 11, 24, 9, 15)
    assert parse_date("2026-11-24 09:15", now=NOW, tz=ZoneInfo("Asia/Tokyo")) == utc(2026, 11, 24, 0, 15)


def test_explicit_offset_wins_over_the_given_zone() -> None:
    assert parse_date("2020-12-17T22:00:09+08:00", now=NOW, tz="UTC") == utc(2020, 12, 17, 14, 0, 9)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_date("2026-11-24", now=datetime(2026, 11, 24))


def test_none_input_gives_none() -> None:
    assert parse_date(None, now=NOW) is None


# --- the day only (issue 19 item 5) -------------------------------------------------------------
@pytest.mark.parametrize(("raw", "reading"), [
    ("2009年8月8日下午", DateReading(bj(2009, 8, 8), date_only=True, day_part="下午")),
    ("2009年8月8日 上午", DateReading(bj(2009, 8, 8), date_only=True, day_part="上午")),
    ("2009年8月8日晚上", DateReading(bj(2009, 8, 8), date_only=True, day_part="晚上")),
    ("2009年8月8日 星期六 下午", DateReading(bj(2009, 8, 8), date_only=True, day_part="下午")),
    ("2009-08-08 晚上", DateReading(bj(2009, 8, 8), date_only=True, day_part="晚上")),
    ("11月24日下午", DateReading(bj(2026, 11, 24), date_only=True, day_part="下午")),
    ("2009年8月8日", DateReading(bj(2009, 8, 8), date_only=True)),
    ("2009年8月8日下午3点", DateReading(bj(2009, 8, 8, 15, 0))),
    ("2009年8月8日下午15:20", DateReading(bj(2009, 8, 8, 15, 20))),
    ("Sat, 08 Aug 2009 15:00:00 +0800", DateReading(bj(2009, 8, 8, 15, 0))),
])
def test_a_day_part_without_an_hour_gives_the_day_flagged_never_midnight(raw: str, reading: DateReading) -> None:
    assert read_date(raw, now=NOW) == reading
    expected = None if reading.day_part else reading.at
    assert parse_date(raw, now=NOW) == expected


# --- dateparser's own Chinese cases ---------------------------------------------------------------

def _zh_cases(*, relative_only: bool = False) -> list:
    path = DATA / "zh.jsonl"
    if not path.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"shared data file missing: {path}"))]
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        # Single-date parse tests that state a datetime; search_dates cases are not parse cases.
        if record["expected"] is None or "test_search" in record["source"]:
            continue
        if relative_only and "now" not in record["settings"]:
            continue
        cases.append(pytest.param(record, id=f"{record['text']}@{record['source_line']}"))
    return cases


@pytest.mark.parametrize("record", _zh_cases())
def test_dateparser_chinese_case_gives_its_expected_value(record: dict) -> None:
    """Upstream's naive values are wall time in the test's zone.

    Relative cases run with TIMEZONE=utc and `now` = 2014-09-01 10:30 UTC, so their expected
    value is UTC; absolute cases have no zone, so we read them as Beijing wall time.
    """
    settings_ = record["settings"]
    zone = ZoneInfo("UTC") if str(settings_.get("TIMEZONE", "")).lower() == "utc" else BEIJING
    base = settings_.get("now") or settings_["RELATIVE_BASE"]
    now = datetime.fromisoformat(base).replace(tzinfo=zone)
    expected = datetime.fromisoformat(record["expected"]).replace(tzinfo=zone).astimezone(UTC)
    assert parse_date(record["text"], now=now, tz=zone) == expected


@pytest.mark.parametrize("record", _zh_cases(relative_only=True))
def test_relative_case_is_the_same_instant_from_a_beijing_feed(record: dict) -> None:
    """A duration back from the same instant does not depend on the feed's zone (no DST in China)."""
    now = datetime.fromisoformat(record["settings"]["now"]).replace(tzinfo=UTC)
    expected = datetime.fromisoformat(record["expected"]).replace(tzinfo=UTC)
    assert parse_date(record["text"], now=now, tz=BEIJING) == expected


def test_cec_report_times_are_almost_all_parsed() -> None:
    rows = read_jsonl("cec_report_times.jsonl")
    now = datetime(2026, 11, 24, tzinfo=UTC)
    parsed = [parse_date(row["text"], now=now) for row in rows]
    share = sum(value is not None for value in parsed) / len(rows)
    assert share >= 0.99, f"parsed {share:.1%} of {len(rows)}"
    # Report times are publication times: none after the clock, none before the corpus (2002).
    assert all(utc(2002, 1, 1) <= value <= now for value in parsed if value is not None)


# --- properties ---------------------------------------------------------------------------------

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)
).map(lambda value: value.replace(microsecond=0))


@settings(max_examples=300, deadline=None)
@given(instant=instants, offset=offsets)
def test_rfc822_in_any_offset_parses_back_to_the_same_instant(instant: datetime, offset: timezone) -> None:
    text = format_datetime(instant.astimezone(offset))
    assert parse_date(text, now=NOW) == instant


@settings(max_examples=300, deadline=None)
@given(instant=instants, offset=offsets, sep=st.sampled_from(["T", " "]))
def test_iso_in_any_offset_parses_back_to_the_same_instant(instant: datetime, offset: timezone, sep: str) -> None:
    text = instant.astimezone(offset).isoformat(sep=sep)
    assert parse_date(text, now=NOW) == instant


@settings(max_examples=300, deadline=None)
@given(instant=instants)
def test_chinese_wall_time_parses_back_to_the_same_instant(instant: datetime) -> None:
    wall = instant.astimezone(BEIJING)
    text = f"{wall.year}年{wall.month}月{wall.day}日 {wall.hour:02d}:{wall.minute:02d}:{wall.second:02d}"
    assert parse_date(text, now=NOW) == instant


@settings(max_examples=300, deadline=None)
@given(instant=instants, now=instants)
def test_yearless_date_is_never_more_than_the_slack_after_now(instant: datetime, now: datetime) -> None:
    wall = instant.astimezone(BEIJING)
    found = parse_date(f"{wall.month}月{wall.day}日 {wall.hour}:{wall.minute:02d}", now=now)
    assert found is not None
    assert found <= now + NO_YEAR_SLACK
    assert found > now + NO_YEAR_SLACK - timedelta(days=366 * 4 + 1)  # 2月29日 reaches back furthest


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_gives_a_utc_datetime_or_none(text: str) -> None:
    found = parse_date(text, now=NOW)
    assert found is None or found.tzinfo is UTC


# --- clamping items dated after their fetch --------------------------------------------------------

FETCHED = utc(2026, 11, 24, 2, 0)


@pytest.mark.parametrize(
    ("published", "expected", "clamped"),
    [
        (FETCHED - timedelta(days=1), FETCHED - timedelta(days=1), False),
        (FETCHED, FETCHED, False),
        (FETCHED + timedelta(minutes=10), FETCHED + timedelta(minutes=10), False),  # tolerance included
        (FETCHED + timedelta(minutes=10, seconds=1), FETCHED, True),
        (FETCHED + timedelta(days=365), FETCHED, True),
    ],
)
def test_item_dated_after_its_fetch_beyond_tolerance_is_clamped(
    published: datetime, expected: datetime, clamped: bool
) -> None:
    assert clamp_future(published, FETCHED) == (expected, clamped)


def test_clamp_returns_utc_and_accepts_other_offsets() -> None:
    value, clamped = clamp_future(bj(2026, 11, 24, 10, 5), FETCHED)
    assert (value, clamped) == (utc(2026, 11, 24, 2, 5), False)
    assert value.tzinfo is UTC


def test_clamp_tolerance_is_adjustable() -> None:
    assert clamp_future(FETCHED + timedelta(minutes=1), FETCHED, tolerance=timedelta(0)) == (FETCHED, True)
