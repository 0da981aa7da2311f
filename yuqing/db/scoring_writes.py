"""Scoring records typed by the office: manual scores (one by one or a sheet), special items, zeroing,
daily records; audited, permission-checked writes (admin only), and unit name resolution."""
from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from classify.units import UnitRef, UnitResolver
from scoring import (
    Scheme,
)
from timeline.clock import BEIJING, iso_beijing
from yuqing.db.models import Unit
from yuqing.db.models_scoring import (
    DailyRecord as DailyRow,
)
from yuqing.db.models_scoring import (
    ManualScore as ManualRow,
)
from yuqing.db.models_scoring import (
    SpecialItem as SpecialRow,
)
from yuqing.db.models_scoring import (
    Zeroing as ZeroingRow,
)
from yuqing.db.office_rules import office_scheme
from yuqing.db.scoring_reads import POINTS_LIMIT, TEXT_LIMIT
from yuqing.db.service import FUTURE_TOLERANCE, Writer, unit_refs
from yuqing.errors import YuqingError
from yuqing.vocabulary import label


# --- writes: common checks -----------------------------------------------------------------------
def _text(value: str | None, what: str, flag: str) -> str:
    text = (value or "").strip()
    if not text:
        raise YuqingError("E_TEXT_REQUIRED", what=what, flag=flag)
    if len(text) > TEXT_LIMIT:
        raise YuqingError("E_TEXT_TOO_LONG", field=what, length=len(text), limit=TEXT_LIMIT)
    return text


def _points(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise YuqingError("E_POINTS_VALUE", what=what, value=value, problem="必须是数字")
    if value == 0 or abs(value) > POINTS_LIMIT:
        raise YuqingError("E_POINTS_VALUE", what=what, value=f"{value:g}", problem=f"不能为 0，绝对值不超过 {POINTS_LIMIT:g}")
    return float(value)


def _not_future(writer: Writer, value: datetime, what: str) -> None:
    if value > writer.now + FUTURE_TOLERANCE:
        raise YuqingError("E_TIME_IN_FUTURE", what=what, value=iso_beijing(value))


def _beijing_date(value: datetime) -> date:
    return value.astimezone(BEIJING).date()


def _day_in_year(writer: Writer, on: datetime | None, year: int) -> date | None:
    """The record's day: the one given (it must lie in `year`), else today when today is in `year`."""
    if on is None:
        today = _beijing_date(writer.now)
        return today if today.year == year else None
    day = _beijing_date(on)
    if day.year != year:
        raise YuqingError("E_DATE_NOT_IN_YEAR", date=day.isoformat(), year=year)
    return day


def _units_by_code(session: Session) -> dict[str, UnitRef]:
    return {u.code: u for u in unit_refs(session)}


def _kind_name(kind: str) -> str:
    return label("UNIT_KIND", kind)


def _manual_indicator(scheme: Scheme, unit: Unit, code: str) -> Any:
    tree = scheme.tree(unit.kind)
    key = (code or "").strip()
    # By code (org.principal) or by the Chinese name the score sheet shows (主要负责人亲自抓).
    indicator = tree.get(key) or next((i for i in tree.indicators if i.name == key), None)
    if indicator is None:
        choices = "、".join(i.code for i in tree.indicators if not i.computed)
        raise YuqingError("E_INDICATOR_UNKNOWN", value=code, unit=unit.name, kind=_kind_name(unit.kind),
                          scheme=scheme.name, choices=choices)
    if indicator.computed:
        raise YuqingError("E_INDICATOR_COMPUTED", indicator=indicator.code, name=indicator.name)
    return indicator


# --- manual scores -------------------------------------------------------------------------------
def _manual_check(scheme: Scheme, unit: Unit, indicator: str, points: float) -> Any:
    definition = _manual_indicator(scheme, unit, indicator)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points) \
            or not 0 <= points <= definition.points:
        raise YuqingError("E_POINTS_RANGE", unit=unit.name, name=definition.name, points=f"{points:g}"
                          if isinstance(points, (int, float)) else points, max=f"{definition.points:g}")
    return definition


def _upsert_manual(writer: Writer, unit: Unit, year: int, indicator: str, points: float, note: str,
                   existing: dict[tuple[int, str], ManualRow] | None = None) -> tuple[Any, Any]:
    """Insert or update one manual score; `existing` (unit id, indicator) → row saves a query per row."""
    if existing is None:
        row = writer.session.scalar(select(ManualRow).where(
            ManualRow.unit_id == unit.id, ManualRow.year == year, ManualRow.indicator == indicator))
    else:
        row = existing.get((unit.id, indicator))
    before = None if row is None else {"points": row.points, "note": row.note}
    if row is None:
        row = ManualRow(unit_id=unit.id, year=year, indicator=indicator)
        writer.session.add(row)
    row.points, row.note, row.updated_at, row.updated_by = float(points), note, writer.now, writer.actor.name
    return before, {"points": float(points), "note": note}


def set_manual_score(writer: Writer, unit: str, indicator: str, points: float, *, year: int, note: str) -> None:
    """Points for one manual indicator (0 ≤ points ≤ the indicator's max in the year's scheme)."""
    writer.require_admin("录入人工评分")
    scheme = office_scheme(writer.session, year)
    target = writer.unit(unit)
    definition = _manual_check(scheme, target, indicator, points)
    note = (note or "").strip()
    before, after = _upsert_manual(writer, target, year, definition.code, points, note)
    writer.session.flush()
    writer.audit("manual_score", f"{year}:{target.code}:{definition.code}", "set", before, after)


MANUAL_COLUMNS = {"unit": ("unit", "单位"), "indicator": ("indicator", "指标"), "points": ("points", "得分", "分数"),
                  "note": ("note", "说明", "备注")}


def import_score_sheets(writer: Writer, sheets: list[tuple[str, list[list[Any]]]], *, year: int, path: str) -> int:
    """The 考核组's workbook, a sheet per tree, in one transaction: a bad row in any sheet refuses the
    whole workbook (the message names the sheet and its rows); sheets with no points yet are passed over."""
    count = 0
    for name, rows in sheets:
        try:
            count += import_manual_scores(writer, rows, year=year, path=f"{path}（{name}）")
        except YuqingError as exc:
            if exc.code != "E_IMPORT_EMPTY":
                raise
    if not count:
        raise YuqingError("E_IMPORT_EMPTY", path=path)
    return count


def import_manual_scores(writer: Writer, rows: list[list[Any]], *, year: int, path: str) -> int:
    """All or nothing: every row is checked first; if any is bad, the whole file is refused naming every
    bad row (spreadsheet row numbers, the header is row 1) and nothing is written. One audit record."""
    writer.require_admin("导入人工评分")
    scheme = office_scheme(writer.session, year)
    if not rows:
        raise YuqingError("E_IMPORT_EMPTY", path=path)
    header = ["".join(str(h or "").split()).lower() for h in rows[0]]
    where: dict[str, int] = {}
    for field, names in MANUAL_COLUMNS.items():
        for name in names:
            if name in header:
                where[field] = header.index(name)
                break
    missing = [f for f in MANUAL_COLUMNS if f not in where]
    if missing:
        raise YuqingError("E_MANUAL_COLUMNS", path=path, columns="、".join(missing))

    def cell(row: list[Any], field: str) -> str:
        index = where[field]
        return str(row[index] if index < len(row) and row[index] is not None else "").strip()

    good: list[tuple[Unit, str, float, str]] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    units = {u.code: u for u in writer.session.scalars(select(Unit))}
    template = "满分" in header  # the 考核组's score sheet: a row left without points is not scored yet
    for number, row in enumerate(rows[1:], start=2):
        if not any(str(c or "").strip() for c in row):
            continue
        if template and not cell(row, "points"):
            continue
        try:
            target = units[writer.resolver().resolve(cell(row, "unit")).code]
            text = cell(row, "points")
            try:
                points = float(text)
            except ValueError:
                raise YuqingError("E_POINTS_VALUE", what="得分", value=text, problem="必须是数字") from None
            definition = _manual_check(scheme, target, cell(row, "indicator"), points)
            slot = (target.code, definition.code)
            if slot in seen:
                raise YuqingError("E_MANUAL_DUPLICATE", unit=target.name, indicator=definition.code, row=seen[slot])
            seen[slot] = number
            good.append((target, definition.code, points, cell(row, "note")))
        except YuqingError as exc:
            problems.append(f"第 {number} 行：{exc.message}")
    if problems:
        raise YuqingError("E_MANUAL_IMPORT_ROWS", path=path, count=len(problems), rows="；".join(problems))
    if not good:
        raise YuqingError("E_IMPORT_EMPTY", path=path)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    existing = {(r.unit_id, r.indicator): r for r in writer.session.scalars(select(ManualRow).where(ManualRow.year == year))}
    for target, indicator, points, note in good:
        key = f"{target.code}:{indicator}"
        old, new = _upsert_manual(writer, target, year, indicator, points, note, existing)
        if old is not None:
            before[key] = old
        after[key] = new
    writer.session.flush()
    writer.audit("manual_score", f"{year}:import", "import", before or None, after, Path(path).name)
    return len(good)


# --- special items, zeroings, daily records ------------------------------------------------------
def add_special(writer: Writer, unit: str, *, year: int, item: str, points: float, evidence: str,
                on: datetime | None = None) -> SpecialRow:
    """特别加分项 (+) / 特别减分项 (−): the sign must match the item's kind in the year's scheme."""
    writer.require_admin("登记特别加减分")
    scheme = office_scheme(writer.session, year)
    definition = scheme.special((item or "").strip())
    if definition is None:
        raise YuqingError("E_SPECIAL_UNKNOWN", value=item, scheme=scheme.name,
                          choices="、".join(f"{s.code}（{'+' if s.kind == 'bonus' else '−'}）" for s in scheme.specials))
    points = _points(points, "特别项分值")
    if (points > 0) != (definition.kind == "bonus"):
        raise YuqingError("E_SPECIAL_SIGN", item=definition.code, name=definition.name,
                          kind="加分" if definition.kind == "bonus" else "减分",
                          sign="正" if definition.kind == "bonus" else "负", points=f"{points:+g}")
    target = writer.unit(unit)
    evidence = _text(evidence, "依据", "--evidence")
    row = SpecialRow(unit_id=target.id, year=year, item=definition.code, points=points, evidence=evidence,
                     on_date=_day_in_year(writer, on, year), created_at=writer.now, created_by=writer.actor.name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("special_item", row.id, "create", None, {
        "unit": target.code, "year": year, "item": row.item, "points": points, "evidence": evidence,
        "on": row.on_date.isoformat() if row.on_date else None,
    })
    return row


def add_zeroing(writer: Writer, unit: str, *, year: int, evidence: str, on: datetime | None = None) -> ZeroingRow:
    """直接归零项 (第十六条): the unit's total becomes 0 and its grade 不合格 for `year`."""
    writer.require_admin("登记直接归零项")
    office_scheme(writer.session, year)
    target = writer.unit(unit)
    evidence = _text(evidence, "依据", "--evidence")
    row = ZeroingRow(unit_id=target.id, year=year, evidence=evidence, on_date=_day_in_year(writer, on, year),
                     created_at=writer.now, created_by=writer.actor.name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("zeroing", row.id, "create", None, {
        "unit": target.code, "year": year, "evidence": evidence, "on": row.on_date.isoformat() if row.on_date else None,
    })
    return row


def add_daily(writer: Writer, unit: str, *, on: datetime, points: float, reason: str,
              indicator: str | None = None) -> DailyRow:
    """日常考核 record (第十条), signed; with `indicator` it adjusts that item, else the total."""
    writer.require_admin("登记日常考核记录")
    day = _beijing_date(on)
    _not_future(writer, on, "日常考核日期")
    scheme = office_scheme(writer.session, day.year)
    target = writer.unit(unit)
    points = _points(points, "日常考核分值")
    reason = _text(reason, "事由", "--reason")
    code = None
    if indicator:
        definition = scheme.tree(target.kind).get(indicator.strip())
        if definition is None:
            raise YuqingError("E_INDICATOR_UNKNOWN", value=indicator, unit=target.name, kind=_kind_name(target.kind),
                              scheme=scheme.name, choices="、".join(i.code for i in scheme.tree(target.kind).indicators))
        code = definition.code
    row = DailyRow(unit_id=target.id, on_date=day, points=points, reason=reason, indicator=code,
                   created_at=writer.now, created_by=writer.actor.name)
    writer.session.add(row)
    writer.session.flush()
    writer.audit("daily_record", row.id, "create", None, {
        "unit": target.code, "on": day.isoformat(), "points": points, "reason": reason, "indicator": code,
    })
    return row


def resolve_unit(session: Session, text: str) -> UnitRef:
    from yuqing.db.offices import office_place

    return UnitResolver(unit_refs(session), place=office_place(session)).resolve(text)
