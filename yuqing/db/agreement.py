"""The classifier's stored suggestions against what people decided (`yuqing classify report`, the
规则与方案 page): which records count, what the suggestion and the decision of each were.

What counts (figures in classify.agreement):
- incidents that carry a stored suggestion (logged with the classifier, or accepted from an item,
  whose classification became the suggestion) and are not voided: category, level and unit, and —
  when no item was accepted into it — sudden. The decision is the incident's value now: what the
  person gave at logging, a suggestion that stood, or what a reclassification made of it; the unit
  is the lead unit now (after transfers). A voided incident (误报, 重复) settles nothing and is left out.
- decided items: sudden only. Accepted or merged: the sudden of the incident it went into (left
  out when that incident is voided); dismissed: not sudden.
The year is that of the record's logged time in Beijing (an incident's logged_at, an item's
fetched_at, when it was stored).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from classify.agreement import FIELDS, FieldAgreement, agreement, sudden_value
from timeline.clock import BEIJING
from yuqing.db.models import Incident, Item, Unit
from yuqing.errors import YuqingError
from yuqing.vocabulary import label, render

FIRST_YEAR, LAST_YEAR = 2000, 2099
DECIDED = ("accepted", "merged", "dismissed")


@dataclass(frozen=True)
class ClassifyReport:
    rules_version: str  # the rules the classifier runs now
    year: int | None
    fields: dict[str, FieldAgreement]
    other_versions: int  # records whose suggestion came from other rules than rules_version

    def as_json(self) -> dict[str, Any]:
        return {
            "rules_version": self.rules_version,
            "fields": {
                name: {"precision": _ratio(f.precision), "recall": _ratio(f.recall), "n": f.n}
                for name, f in self.fields.items()
            },
        }


def table_rows(report: ClassifyReport) -> list[dict[str, str]]:
    """The report as people read it (terminal and 规则与方案 page): one row per field, headed in
    Chinese, ratios as percentages, — where a ratio is undefined."""
    head = {c: label("REPORT_COLUMN", c) for c in ("field", "precision", "recall", "n")}
    return [
        {head["field"]: label("REPORT_FIELD", name), head["precision"]: percent(f.precision),
         head["recall"]: percent(f.recall), head["n"]: str(f.n)}
        for name, f in report.fields.items()
    ]


def report_title(report: ClassifyReport) -> str:
    scope = render("REPORT_YEAR", year=report.year) if report.year is not None else render("REPORT_ALL_YEARS")
    return render("REPORT_TITLE", scope=scope, version=report.rules_version)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def report_year(text: str | None) -> int | None:
    """`--year` as typed: a year from 2000 to 2099, or None for every year; anything else is refused."""
    if text is None:
        return None
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not FIRST_YEAR <= int(value) <= LAST_YEAR:
        raise YuqingError("E_REPORT_YEAR", value=text, first=FIRST_YEAR, last=LAST_YEAR)
    return int(value)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January 00:00, next 1 January 00:00) of a Beijing year, as UTC instants."""
    return (datetime(year, 1, 1, tzinfo=BEIJING).astimezone(UTC),
            datetime(year + 1, 1, 1, tzinfo=BEIJING).astimezone(UTC))


def classify_report(session: Session, *, rules_version: str, year: int | None = None) -> ClassifyReport:
    """Precision and recall of the stored suggestions per field (classify.agreement), over the
    records of `year` (every year when None)."""
    other = 0

    def decisions() -> Iterator[tuple[str, str | None, str | None]]:
        nonlocal other
        for version, pairs in _incident_decisions(session, year):
            other += version != rules_version
            yield from pairs
        for version, pairs in _item_decisions(session, year):
            other += version != rules_version
            yield from pairs

    fields = agreement(decisions())
    return ClassifyReport(rules_version, year, {name: fields[name] for name in FIELDS}, other)


def _incident_decisions(session: Session, year: int | None) -> Iterator[tuple[str, list[tuple[str, str | None, str | None]]]]:
    accepted_into = select(Item.incident_id).where(Item.triage_status == "accepted", Item.incident_id.is_not(None))
    stmt = (
        select(Incident.suggestion, Incident.rules_version, Incident.sudden, Incident.category, Incident.level,
               Unit.code, Incident.id.in_(accepted_into))
        .join(Unit, Unit.id == Incident.unit_id)
        .where(Incident.rules_version.is_not(None), Incident.status != "voided")
        .order_by(Incident.id)
    )
    if year is not None:
        start, end = _year_bounds(year)
        stmt = stmt.where(Incident.logged_at >= start, Incident.logged_at < end)
    for suggestion, version, sudden, category, level, unit_code, from_item in session.execute(stmt):
        if not isinstance(suggestion, dict):
            continue
        unit = suggestion.get("unit")
        pairs: list[tuple[str, str | None, str | None]] = [
            ("category", suggestion.get("category"), category),
            ("level", suggestion.get("level"), level),
            ("unit", unit.get("code") if isinstance(unit, dict) else None, unit_code),
        ]
        if not from_item:  # an accepted item's suggestion is counted once, as the item's
            pairs.insert(0, ("sudden", sudden_value(suggestion.get("sudden")), sudden_value(sudden)))
        yield version or "", pairs


def _item_decisions(session: Session, year: int | None) -> Iterator[tuple[str, list[tuple[str, str | None, str | None]]]]:
    target = aliased(Incident)
    stmt = (
        select(Item.classification, Item.triage_status, target.sudden, target.status)
        .outerjoin(target, target.id == Item.incident_id)
        .where(Item.triage_status.in_(DECIDED))
        .order_by(Item.id)
    )
    if year is not None:
        start, end = _year_bounds(year)
        stmt = stmt.where(Item.fetched_at >= start, Item.fetched_at < end)
    for classification, status, sudden, incident_status in session.execute(stmt):
        if not isinstance(classification, dict):
            continue
        if status == "dismissed":
            decided = None
        elif incident_status is None or incident_status == "voided":
            continue
        else:
            decided = sudden_value(sudden)
        yield str(classification.get("rules_version") or ""), [
            ("sudden", sudden_value(classification.get("sudden")), decided)
        ]
