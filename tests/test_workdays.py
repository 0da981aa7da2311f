"""Working days for 舆情函件 (DESIGN.md §2.2) on the real 2024–2026 calendars of chinesecalendar."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.workdays import HOLIDAY_FILE, load_calendar, package_years, referral_due_at
from timeline.clock import BEIJING
from yuqing.errors import YuqingError

CALENDAR = load_calendar()
UTC = UTC


def sent(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=BEIJING).astimezone(UTC)


def due(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=BEIJING).astimezone(UTC)


def test_installed_chinesecalendar_knows_the_years_these_tests_use():
    first, last = package_years()
    assert first <= 2024 and last >= 2026


CASES = [
    # 2024 春节: 2/10–2/17 off; Sun 2/4 and Sun 2/18 are 调休 working days.
    ("2024 春节: Thursday letter, third day skips the holiday to Monday", sent(2024, 2, 8), 3, due(2024, 2, 19)),
    ("2024 春节: second day is the make-up Sunday 2/18", sent(2024, 2, 8), 2, due(2024, 2, 18)),
    ("2024 春节: letter on Saturday counts the make-up Sunday 2/4", sent(2024, 2, 3), 1, due(2024, 2, 4)),
    ("2024 春节: letter sent on a holiday counts from the next working day", sent(2024, 2, 13), 1, due(2024, 2, 18)),
    ("2024 春节: holiday letter, two days", sent(2024, 2, 13), 2, due(2024, 2, 19)),
    # 2025 春节: 1/28–2/4 off; Sun 1/26 and Sat 2/8 work.
    ("2025 春节: Friday letter, first day is make-up Sunday 1/26", sent(2025, 1, 24), 1, due(2025, 1, 26)),
    ("2025 春节: third day jumps the whole holiday", sent(2025, 1, 24), 3, due(2025, 2, 5)),
    ("2025 春节: make-up Saturday 2/8 is a working day", sent(2025, 2, 7), 1, due(2025, 2, 8)),
    # 2025 国庆+中秋: 10/1–10/8 off; Sun 9/28 and Sat 10/11 work.
    ("2025 国庆: Friday letter, first day is make-up Sunday 9/28", sent(2025, 9, 26), 1, due(2025, 9, 28)),
    ("2025 国庆: fourth day is 10/9 after the holiday", sent(2025, 9, 26), 4, due(2025, 10, 9)),
    ("2025 国庆: letter on National Day counts from 10/9", sent(2025, 10, 1), 1, due(2025, 10, 9)),
    ("2025 国庆: third day after National Day is make-up Saturday 10/11", sent(2025, 10, 1), 3, due(2025, 10, 11)),
    # 2024 国庆: 10/1–10/7 off; Sun 9/29 and Sat 10/12 work.
    ("2024 国庆: Friday letter, make-up Sunday 9/29", sent(2024, 9, 27), 1, due(2024, 9, 29)),
    ("2024 国庆: Thursday 10/10, second day is make-up Saturday 10/12", sent(2024, 10, 10), 2, due(2024, 10, 12)),
    # 2026 春节: 2/15–2/23 off; Sat 2/14 and Sat 2/28 work.
    ("2026 春节: Friday letter, make-up Saturday 2/14", sent(2026, 2, 13), 1, due(2026, 2, 14)),
    ("2026 春节: second day is after the nine-day holiday", sent(2026, 2, 13), 2, due(2026, 2, 24)),
    ("2026 春节: letter sent on the make-up Saturday counts from the next working day", sent(2026, 2, 14), 1, due(2026, 2, 24)),
    # 2026 中秋 9/25–9/27 and 国庆 10/1–10/7; Sat 10/10 works.
    ("2026 中秋: Thursday letter skips Friday 9/25 and the weekend", sent(2026, 9, 24), 1, due(2026, 9, 28)),
    ("2026 国庆: Friday 10/9 letter, make-up Saturday 10/10", sent(2026, 10, 9), 1, due(2026, 10, 10)),
    ("ordinary week: Monday letter, five working days is next Monday", sent(2026, 6, 1), 5, due(2026, 6, 8)),
]


@pytest.mark.parametrize(("sent_at", "workdays", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_referral_due_at_counts_working_days_with_holidays_and_make_up_days(sent_at, workdays, expected):
    assert referral_due_at(sent_at, workdays, CALENDAR) == expected


def test_due_instant_is_235959_beijing_returned_as_aware_utc():
    result = referral_due_at(sent(2026, 6, 1), 1, CALENDAR)
    assert result == datetime(2026, 6, 2, 15, 59, 59, tzinfo=UTC)
    assert result.utcoffset() == timedelta(0)


def test_letter_date_is_the_beijing_date_not_the_utc_date():
    # Thursday 17:00 UTC is already Friday 01:00 in Beijing: day one is Monday, not Friday.
    thursday_evening_utc = datetime(2026, 6, 11, 17, 0, tzinfo=UTC)
    assert referral_due_at(thursday_evening_utc, 1, CALENDAR) == due(2026, 6, 15)


def test_a_year_chinesecalendar_does_not_know_is_refused_not_treated_as_weekdays():
    last = package_years()[1]
    with pytest.raises(YuqingError) as caught:
        referral_due_at(sent(last, 12, 31), 1, CALENDAR)
    error = caught.value
    assert error.code == "E_WORKDAY_UNKNOWN"
    assert error.params["date"] == f"{last + 1}-01-01"
    assert str(HOLIDAY_FILE) not in str(error) and "holidays import" in str(error)  # no server paths


@pytest.mark.parametrize("workdays", [0, -1, True, 1.5])
def test_workday_count_must_be_a_positive_integer(workdays):
    with pytest.raises(YuqingError) as caught:
        referral_due_at(sent(2026, 6, 1), workdays, CALENDAR)
    assert caught.value.code == "E_WORKDAYS_COUNT"


def test_naive_sent_time_is_a_programming_error():
    with pytest.raises(ValueError):
        referral_due_at(datetime(2026, 6, 1, 10), 1, CALENDAR)


def test_holiday_file_year_schedule_covers_a_year_the_package_lacks(tmp_path):
    year = package_years()[1] + 1
    path = tmp_path / "holidays.toml"
    path.write_text(
        f"""
[[year]]
year = {year}
source = "测试通知"
holidays = ["{year}-01-01", {year}-01-04]
workdays = ["{year}-01-09"]
""",
        encoding="utf-8",
    )
    calendar = load_calendar(path)
    assert not calendar.is_workday(date(year, 1, 1))
    assert not calendar.is_workday(date(year, 1, 4))
    assert calendar.is_workday(date(year, 1, 9))
    assert calendar.is_workday(date(year, 1, 5)) == (date(year, 1, 5).weekday() < 5)
    # December of the last known year flows into the new year through the file.
    assert referral_due_at(sent(year - 1, 12, 31), 1, calendar).astimezone(BEIJING).date() > date(year, 1, 1)


def test_holiday_file_is_checked_before_the_package(tmp_path):
    path = tmp_path / "holidays.toml"
    path.write_text(
        """
[[day]]
date = 2026-06-02
kind = "holiday"
name = "本地临时放假"

[[day]]
date = "2026-06-06"
kind = "workday"
""",
        encoding="utf-8",
    )
    calendar = load_calendar(path)
    assert not calendar.is_workday(date(2026, 6, 2))  # a Tuesday
    assert calendar.is_workday(date(2026, 6, 6))  # a Saturday
    assert referral_due_at(sent(2026, 6, 1), 1, calendar) == due(2026, 6, 3)


def test_shipped_holiday_file_loads_and_adds_nothing_the_package_knows():
    assert CALENDAR.days == {} and CALENDAR.years == {}


HOLIDAY_FILE_ERRORS = [
    ("date of another year", '[[year]]\nyear = 2030\nholidays = ["2031-01-01"]\n', "year[0].holidays", "不属于 2030 年"),
    ("same day off and on", '[[year]]\nyear = 2030\nholidays = ["2030-01-01"]\nworkdays = ["2030-01-01"]\n', "year[0]", "同时"),
    ("unreadable date", '[[year]]\nyear = 2030\nholidays = ["1/1/2030"]\n', "year[0].holidays", "无法识别"),
    ("bad year", '[[year]]\nyear = "2030"\n', "year[0].year", "年份"),
    ("repeated year", "[[year]]\nyear = 2030\n[[year]]\nyear = 2030\n", "year[1].year", "重复"),
    ("bad day kind", '[[day]]\ndate = 2030-01-01\nkind = "rest"\n', "day[0].kind", "holiday 或 workday"),
    ("broken toml", "[[day]\n", "（文件）", ""),
]


@pytest.mark.parametrize(("text", "key", "problem"), [c[1:] for c in HOLIDAY_FILE_ERRORS], ids=[c[0] for c in HOLIDAY_FILE_ERRORS])
def test_holiday_file_errors_name_the_file_and_the_key(tmp_path, text, key, problem):
    path = tmp_path / "holidays.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(YuqingError) as caught:
        load_calendar(path)
    assert caught.value.code == "E_HOLIDAY_FILE"
    assert caught.value.params["key"] == key
    assert problem in caught.value.params["problem"]
    assert str(path) in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC)),
    workdays=st.integers(min_value=1, max_value=20),
)
def test_due_day_is_the_nth_working_day_after_the_beijing_send_date(moment, workdays):
    result = referral_due_at(moment, workdays, CALENDAR)
    local = result.astimezone(BEIJING)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    assert CALENDAR.is_workday(local.date())
    start = moment.astimezone(BEIJING).date()
    days = [start + timedelta(days=k) for k in range(1, (local.date() - start).days + 1)]
    assert sum(CALENDAR.is_workday(d) for d in days) == workdays
