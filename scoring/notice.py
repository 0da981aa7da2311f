"""Reading 国务院办公厅关于YYYY年部分节假日安排的通知 as published into one year's schedule.

Each item line names a holiday (`二、春节：…`) and says which days are off (`1月28日…至2月4日…放假调休，
共8天`, `6月10日放假，与周末连休`) and which weekend days are worked (`1月26日（周日）、2月8日（周六）上班`).
Every day inside an announced range is a day off, weekends included; 鼓励… sentences are not holidays.
A line this cannot read is named and nothing is returned.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from scoring.workdays import YearSchedule
from timeline.words import YuqingError

MAX_LINES = 200  # a notice is about 15 lines; anything longer is not a notice
MAX_RANGE_DAYS = 15  # the longest holiday so far is 9 days

_ITEM = re.compile(r"^(?P<no>[一二三四五六七八九十]+)[、.．]\s*(?P<name>[^：:]{1,20})[：:](?P<body>.+)$")
_YEAR = re.compile(r"(\d{4})\s*年\s*(?:元旦|部分节假日)")
_WEEKDAY_CHARS = "一二三四五六日"
_DATE = r"(?:(?P<{p}y>\d{{4}})年)?(?:(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日(?:[（(](?P<{p}note>[^）)]*)[）)])?"
_RANGE = re.compile(
    "^" + _DATE.format(p="a") + "(?:至" + _DATE.format(p="b") + ")?"
    + r"放假(?:(?P<n1>\d{1,2})天)?(?:调休)?(?:[，,](?:共(?P<n2>\d{1,2})天|与周末连休|不调休))*$"
)
_ONE_DATE = re.compile("^" + _DATE.format(p="a") + "$")
_WEEKDAY_NOTE = re.compile(r"(?:周|星期)([一二三四五六日天])")


@dataclass(frozen=True)
class Notice:
    year: int
    holidays: tuple[date, ...]
    workdays: tuple[date, ...]
    items: tuple[tuple[str, tuple[date, ...], tuple[date, ...]], ...]  # (name, days off, days worked)

    def schedule(self, source: str = "") -> YearSchedule:
        return YearSchedule(self.year, frozenset(self.holidays), frozenset(self.workdays), source)

    def as_json(self) -> dict[str, Any]:
        return {"year": self.year, "holidays": [d.isoformat() for d in self.holidays],
                "workdays": [d.isoformat() for d in self.workdays]}


def _unreadable(number: int, line: str, problem: str) -> YuqingError:
    shown = line if len(line) <= 60 else line[:60] + "…"
    return YuqingError("E_NOTICE_LINE", line=number, text=shown, problem=problem)


def _strip(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\u3000", " "))


def _date(match: re.Match[str], prefix: str, year: int, month: int | None) -> tuple[date, int]:
    y = int(match[prefix + "y"]) if match[prefix + "y"] else year
    m = int(match[prefix + "m"]) if match[prefix + "m"] else month
    if m is None:
        raise ValueError("日期缺少月份")
    try:
        day = date(y, m, int(match[prefix + "d"]))
    except ValueError as exc:
        raise ValueError(f"{y}年{m}月{match[prefix + 'd']}日不是有效日期") from exc
    note = match[prefix + "note"] or ""
    weekday = _WEEKDAY_NOTE.search(note)
    if weekday:
        expected = _WEEKDAY_CHARS.index("日" if weekday[1] == "天" else weekday[1])
        if day.weekday() != expected:
            raise ValueError(f"{day.isoformat()} 不是周{weekday[1]}")
    return day, m


def _sentence(text: str, year: int) -> tuple[list[date], list[date]]:
    """One sentence of an item → (days off, days worked); ValueError if it says something else."""
    if text.startswith("鼓励"):
        return [], []  # 鼓励…安排职工在除夕休息: an encouragement, not a holiday
    ranged = _RANGE.match(text)
    if ranged:
        first, start_month = _date(ranged, "a", year, None)
        last = first
        if ranged["bd"]:
            last, _ = _date(ranged, "b", int(ranged["by"] or first.year), start_month)
        if last < first or (last - first).days >= MAX_RANGE_DAYS:
            raise ValueError("放假起止日期不合理")
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        for said in (ranged["n1"], ranged["n2"]):
            if said and int(said) != len(days):
                raise ValueError(f"写明共{said}天，起止日期却是 {len(days)} 天")
        return days, []
    if text.endswith("上班"):
        worked: list[date] = []
        month = None
        for part in re.split(r"[、，,和]", text[: -len("上班")]):
            one = _ONE_DATE.match(part)
            if not one:
                raise ValueError(f"无法识别上班日期“{part}”")
            day, month = _date(one, "a", year, month)
            if day.weekday() < 5:
                raise ValueError(f"{day.isoformat()} 本来就是工作日，不是调休上班的周末")
            worked.append(day)
        return [], worked
    raise ValueError("既不是放假安排，也不是调休上班安排")


def parse_notice(text: str) -> Notice:
    """The notice's text → its year, days off and weekend working days (sorted).

    The year comes from the title or the opening (`关于2025年部分节假日安排的通知`, `现将2025年元旦、…`);
    item lines are `一、元旦：…` to `七、国庆节：…`; other lines (addressees, closing, signature) are prose.
    """
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise YuqingError("E_NOTICE_TOO_LONG", limit=MAX_LINES)
    year: int | None = None
    items: list[tuple[str, tuple[date, ...], tuple[date, ...]]] = []
    pending: list[tuple[int, str, str, str]] = []
    for number, raw in enumerate(lines, start=1):
        line = _strip(raw)
        if not line:
            continue
        item = _ITEM.match(line)
        if item is None:
            found = _YEAR.search(line)
            if found and year is None:
                year = int(found[1])
            continue
        pending.append((number, raw.strip(), item["name"], item["body"]))
    if year is None:
        raise YuqingError("E_NOTICE_YEAR")
    if not pending:
        raise YuqingError("E_NOTICE_EMPTY")
    off: set[date] = set()
    on: set[date] = set()
    for number, raw, name, body in pending:
        item_off: list[date] = []
        item_on: list[date] = []
        for sentence in (s for s in re.split(r"[。；;]", body) if s):
            try:
                days_off, days_on = _sentence(sentence, year)
            except ValueError as exc:
                raise _unreadable(number, raw, str(exc)) from None
            item_off += days_off
            item_on += days_on
        if not item_off:
            raise _unreadable(number, raw, "没有写明放假日期")
        clash = (set(item_off) | off) & (set(item_on) | on)
        if clash:
            raise _unreadable(number, raw, f"{min(clash).isoformat()} 既放假又上班")
        outside = [d for d in item_off + item_on if d.year != year]
        if any(d.weekday() < 5 for d in outside):
            raise _unreadable(number, raw, f"放假安排跨到 {year} 年以外的工作日，请分年录入")
        off.update(d for d in item_off if d.year == year)
        on.update(d for d in item_on if d.year == year)
        items.append((name, tuple(sorted(item_off)), tuple(sorted(item_on))))
    return Notice(year, tuple(sorted(off)), tuple(sorted(on)), tuple(items))
