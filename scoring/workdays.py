"""Working days for 舆情函件 due dates (DESIGN.md §2.2): statutory holidays and 调休 make-up days.

The admin-editable holiday file is checked first, then the `chinesecalendar` package; a date neither
knows is refused, never guessed as a plain weekday.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import chinese_calendar

from timeline.clock import BEIJING, require_aware
from timeline.words import YuqingError

HOLIDAY_FILE = Path(__file__).with_name("holidays.toml")


@lru_cache(maxsize=1)
def package_years() -> tuple[int, int]:
    """First and last year the installed chinesecalendar has an official schedule for."""
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return min(years), max(years)


@dataclass(frozen=True)
class YearSchedule:
    """One year's 国务院办公厅 notice: its days off and its make-up working days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str = ""


@dataclass(frozen=True)
class WorkdayCalendar:
    days: Mapping[date, bool] = field(default_factory=dict)  # single-day overrides: True = working day
    years: Mapping[int, YearSchedule] = field(default_factory=dict)
    path: str = str(HOLIDAY_FILE)
    use_package: bool = True

    def is_workday(self, day: date) -> bool:
        """Override day → year schedule from the file → chinesecalendar → refused."""
        if day in self.days:
            return self.days[day]
        schedule = self.years.get(day.year)
        if schedule is not None:
            if day in schedule.holidays:
                return False
            if day in schedule.workdays:
                return True
            return day.weekday() < 5
        if self.use_package:
            first, last = package_years()
            if first <= day.year <= last:
                try:
                    return bool(chinese_calendar.is_workday(day))
                except NotImplementedError:
                    pass
        raise YuqingError(
            "E_WORKDAY_UNKNOWN", date=day.isoformat(), year=day.year, path=self.path, years=self.known_years()
        )

    def known_years(self) -> str:
        first, last = package_years() if self.use_package else (0, -1)
        parts = [f"{first}–{last}"] if first <= last else []
        parts += [str(y) for y in sorted(self.years) if not first <= y <= last]
        return "、".join(parts) or "无"

    def nth_workday_after(self, day: date, n: int) -> date:
        """The n-th working day strictly after `day` (n ≥ 1)."""
        count = 0
        while count < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return day


def referral_due_at(sent_at: datetime, workdays: int, calendar: WorkdayCalendar) -> datetime:
    """Reply due for a letter sent at `sent_at` with `workdays` working days (aware UTC).

    Counting starts on the first working day after the day the letter is sent (Beijing date), so a
    letter sent on a holiday or a weekend counts from the next working day; the reply is due by
    23:59:59 Beijing time of the `workdays`-th working day.
    """
    require_aware(sent_at, "sent_at")
    if isinstance(workdays, bool) or not isinstance(workdays, int) or workdays < 1:
        raise YuqingError("E_WORKDAYS_COUNT", value=workdays)
    sent_day = sent_at.astimezone(BEIJING).date()
    due_day = calendar.nth_workday_after(sent_day, workdays)
    return datetime.combine(due_day, time(23, 59, 59), tzinfo=BEIJING).astimezone(UTC)


def load_calendar(path: Path | None = None, use_package: bool = True) -> WorkdayCalendar:
    """Read and validate the holiday file; errors name the file, the key and the problem."""
    path = path or HOLIDAY_FILE

    def fail(key: str, problem: str) -> YuqingError:
        return YuqingError("E_HOLIDAY_FILE", path=str(path), key=key, problem=problem)

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise fail("（文件）", str(exc)) from exc

    years: dict[int, YearSchedule] = {}
    for index, entry in enumerate(data.get("year", [])):
        where = f"year[{index}]"
        year = entry.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
            raise fail(f"{where}.year", "必须是 2000–2100 之间的年份")
        if year in years:
            raise fail(f"{where}.year", f"{year} 年重复出现")
        off = _dates(entry.get("holidays", []), f"{where}.holidays", year, fail)
        on = _dates(entry.get("workdays", []), f"{where}.workdays", year, fail)
        both = off & on
        if both:
            raise fail(where, f"{min(both).isoformat()} 同时列为放假日和上班日")
        years[year] = YearSchedule(year, off, on, str(entry.get("source", "")))

    days: dict[date, bool] = {}
    for index, entry in enumerate(data.get("day", [])):
        where = f"day[{index}]"
        (day,) = _dates([entry.get("date")], f"{where}.date", None, fail)
        if day in days:
            raise fail(f"{where}.date", f"{day.isoformat()} 重复出现")
        kind = entry.get("kind")
        if kind not in ("holiday", "workday"):
            raise fail(f"{where}.kind", "必须是 holiday 或 workday")
        days[day] = kind == "workday"
    return WorkdayCalendar(days=days, years=years, path=str(path), use_package=use_package)


def _dates(values: Any, key: str, year: int | None, fail: Any) -> frozenset[date]:
    if not isinstance(values, list):
        raise fail(key, "必须是日期列表")
    result: set[date] = set()
    for value in values:
        if isinstance(value, date) and not isinstance(value, datetime):
            day = value
        elif isinstance(value, str):
            try:
                day = date.fromisoformat(value.strip())
            except ValueError:
                raise fail(key, f"无法识别的日期 {value!r}，请写成 2027-01-01") from None
        else:
            raise fail(key, f"无法识别的日期 {value!r}，请写成 2027-01-01")
        if year is not None and day.year != year:
            raise fail(key, f"{day.isoformat()} 不属于 {year} 年")
        result.add(day)
    return frozenset(result)
