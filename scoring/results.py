"""What scoring returns, and its JSON shape (the `score --format json` contract, DESIGN.md §4)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from classify.units import UnitRef
from scoring.facts import DailyRecord, SpecialItem
from timeline.model import WINDOW_KEYS


def round2(value: float) -> float:
    """Half-up to two decimals (89.995 → 90.0), the way people round scores by hand."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Deduction:
    """One line against an indicator. `points` is a magnitude; an overturned one stays listed but
    no longer counts. Daily records that add points use the same shape (see IndicatorScore.additions)."""

    key: str
    incident_id: int | None
    window: str | None
    rule: str
    points: float
    evidence: str
    flagged: bool = False
    overturned: bool = False


@dataclass(frozen=True)
class IndicatorScore:
    code: str
    name: str
    section: str
    group: str | None
    source: str
    max: float
    points: float | None  # None: manual indicator not entered (scheme missing_manual = "null")
    deductions: tuple[Deduction, ...] = ()
    additions: tuple[Deduction, ...] = ()
    missing: bool = False
    note: str = ""

    @property
    def deducted(self) -> float:
        return round2(sum(d.points for d in self.deductions if not d.overturned))


@dataclass(frozen=True)
class StateCounts:
    """Counts of windows (or referrals) by state."""

    applicable: int = 0
    met: int = 0
    late: int = 0
    overdue: int = 0
    open: int = 0


@dataclass(frozen=True)
class SpecialScore:
    item: SpecialItem
    kind: str  # bonus | penalty
    name: str
    points: float  # magnitude actually applied before the group caps


@dataclass(frozen=True)
class UnitScore:
    unit: UnitRef
    year: int
    scheme: str
    incidents: int
    windows: dict[str, StateCounts]
    referrals: StateCounts
    indicators: tuple[IndicatorScore, ...]
    opinion_points: float | None
    opinion_max: float
    bonus: float
    penalty: float
    specials: tuple[SpecialScore, ...]
    daily_points: float
    daily_records: tuple[DailyRecord, ...]
    zeroed: bool
    zeroing_evidence: str | None
    missing_manual: tuple[str, ...]
    total: float | None
    grade: str | None
    rank: int | None = None
    opinion_rank: int | None = None  # rank by opinion_points within the unit's kind (the 舆情回应 ranking)


def deduction_json(d: Deduction) -> dict[str, Any]:
    return {
        "key": d.key,
        "incident_id": d.incident_id,
        "window": d.window,
        "rule": d.rule,
        "points": d.points,
        "evidence": d.evidence,
        "flagged": d.flagged,
        "overturned": d.overturned,
    }


def _counts(c: StateCounts) -> dict[str, int]:
    return {"applicable": c.applicable, "met": c.met, "late": c.late, "overdue": c.overdue, "open": c.open}


def unit_json(score: UnitScore) -> dict[str, Any]:
    return {
        "unit": {"code": score.unit.code, "name": score.unit.name, "kind": score.unit.kind},
        "year": score.year,
        "scheme": score.scheme,
        "incidents": score.incidents,
        "windows": {key: _counts(score.windows[key]) for key in WINDOW_KEYS},
        "referrals": _counts(score.referrals),
        "indicators": [
            {
                "code": i.code,
                "name": i.name,
                "section": i.section,
                "group": i.group,
                "source": i.source,
                "points": i.points,
                "max": i.max,
                "missing": i.missing,
                "deductions": [deduction_json(d) for d in i.deductions],
                "additions": [deduction_json(d) for d in i.additions],
            }
            for i in score.indicators
        ],
        "opinion_points": score.opinion_points,
        "opinion_max": score.opinion_max,
        "opinion": {"points": score.opinion_points, "max": score.opinion_max, "rank": score.opinion_rank},
        "special": {
            "bonus": score.bonus,
            "penalty": score.penalty,
            "items": [
                {
                    "item": s.item.item,
                    "kind": s.kind,
                    "name": s.name,
                    "points": s.points,
                    "evidence": s.item.evidence,
                    "on": s.item.on.isoformat() if s.item.on else None,
                }
                for s in score.specials
            ],
        },
        "daily": {
            "points": score.daily_points,
            "records": [
                {
                    "on": r.on.isoformat(),
                    "points": r.points,
                    "reason": r.reason,
                    "indicator": r.indicator,
                }
                for r in score.daily_records
            ],
        },
        "zeroed": score.zeroed,
        "zeroing_evidence": score.zeroing_evidence,
        "missing_manual": list(score.missing_manual),
        "total": score.total,
        "grade": score.grade,
        "rank": score.rank,
    }


def as_json(scores: list[UnitScore] | tuple[UnitScore, ...]) -> list[dict[str, Any]]:
    """The `score --format json` list: one object per unit, in the order given (ranked order)."""
    return [unit_json(s) for s in scores]

