"""Plain factories for the scoring tests: real presets, real `timeline.engine.evaluate`, no mocks.

(No tests here; the other test_scoring*.py modules import from this one.)
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from classify.units import UnitRef
from scoring.facts import ActionFact, DailyRecord, ManualScore, Referral, ScoredIncident
from scoring.scheme import Scheme, load_scheme
from timeline.clock import BEIJING
from timeline.engine import ActionAt, Case, Grading, Regrade, evaluate
from timeline.presets import load_preset

UTC = UTC
PRESET = load_preset("sanmenxia-2017")
PROPOSED = load_scheme("sanmenxia-2017")


def all_deduct(scheme):
    """The scheme with every indicator in mode deduct (full marks at the start): the totals, grade and
    rank arithmetic these tests check reads more plainly from 100; earn mode has its own tests."""
    from dataclasses import replace

    trees = {kind: replace(tree, indicators=tuple(replace(i, mode="deduct", params={**i.params, "start": i.points})
                                                  if i.mode == "earn" else i for i in tree.indicators))
             for kind, tree in scheme.trees.items()}
    return replace(scheme, trees=trees)


SCHEME = all_deduct(PROPOSED)
NOW = datetime(2026, 12, 31, 12, 0, tzinfo=BEIJING).astimezone(UTC)


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A Beijing wall time as an aware UTC datetime (how the core stores times)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING).astimezone(UTC)


def dept(code: str = "fgw", name: str | None = None, active: bool = True) -> UnitRef:
    return UnitRef(code=code, name=name or f"市{code}局", kind="department", active=active)


def county(code: str = "lbs", name: str | None = None) -> UnitRef:
    return UnitRef(code=code, name=name or f"{code}县", kind="county")


def act(kind: str, hours: float, channels: Iterable[str] = ("website",), principal: bool = False) -> tuple:
    """An action `hours` after the incident's start (resolved by `incident`)."""
    return (kind, hours, tuple(channels), principal)


def incident(
    id: int = 1,
    unit: str = "fgw",
    start: datetime | None = None,
    *,
    level: str | None = "一般",
    sudden: bool | None = False,
    actions: Iterable[tuple | ActionFact] = (),
    co_units: Iterable[str] = (),
    parent_id: int | None = None,
    voided: bool = False,
    regrade_at_hours: float | None = None,
    regrade_from: tuple[str | None, bool | None] = ("一般", False),
    now: datetime = NOW,
    title: str | None = None,
) -> ScoredIncident:
    start = start or bj(2026, 6, 10, 9)
    facts: list[ActionFact] = []
    for item in actions:
        if isinstance(item, ActionFact):
            facts.append(item)
        else:
            kind, hours, channels, principal = item
            facts.append(ActionFact(kind, start + timedelta(hours=hours), channels, principal))
    regrades: tuple[Regrade, ...] = ()
    if regrade_at_hours is not None:
        regrades = (
            Regrade(
                at=start + timedelta(hours=regrade_at_hours),
                before=Grading(regrade_from[0], regrade_from[1], None),
                after=Grading(level, sudden, None),
            ),
        )
    case = Case(
        started_at=start,
        grading=Grading(level, sudden, None),
        actions=tuple(ActionAt(f.kind, f.at) for f in facts),
        regrades=regrades,
        voided=voided,
    )
    return ScoredIncident(
        id=id,
        title=title or f"舆情{id}",
        unit_code=unit,
        started_at=start,
        verdict=evaluate(case, PRESET, now=now),
        actions=tuple(facts),
        co_unit_codes=tuple(co_units),
        parent_id=parent_id,
        voided=voided,
        level=level,
        sudden=sudden,
    )


def on_time(id: int = 1, unit: str = "fgw", **kw) -> ScoredIncident:
    """An ordinary incident answered after one hour on two channels."""
    return incident(id, unit, actions=[act("response", 1, ("website", "weibo"))], **kw)


def full_manual(scheme: Scheme, unit: UnitRef, fraction: float = 1.0) -> list[ManualScore]:
    """Manual scores for every manual indicator of the unit's tree at `fraction` of the maximum."""
    return [
        ManualScore(unit.code, i.code, round(i.points * fraction, 2))
        for i in scheme.tree(unit.kind).indicators
        if i.source == "manual"
    ]


def referral(id: int, incident_id: int, unit: str, sent: datetime, due: datetime, replied: datetime | None = None) -> Referral:
    return Referral(id=id, incident_id=incident_id, unit_code=unit, sent_at=sent, due_at=due, replied_at=replied)


def daily(unit: str, on: date, points: float, reason: str = "日常检查", indicator: str | None = None, id: int | None = None) -> DailyRecord:
    return DailyRecord(unit_code=unit, on=on, points=points, reason=reason, indicator=indicator, id=id)
