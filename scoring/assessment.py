"""The annual assessment of every unit: indicators, special items, daily records, total, grade, rank.

第三章/第五章 of 三政办〔2017〕34号: 百分制; 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, else 不合格 (第十二条);
falsification → 0 and 不合格 (第十六条); departments and counties are ranked separately.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from classify.units import UnitRef
from scoring.facts import AppealDecision, DailyRecord, ManualScore, Referral, ScoredIncident, SpecialItem, Zeroing
from scoring.indicators import Collector, Ledger, overturned_keys
from scoring.keys import DeductionKey
from scoring.results import Deduction, IndicatorScore, SpecialScore, StateCounts, UnitScore, round2
from scoring.scheme import IndicatorDef, Scheme
from scoring.snapshots import scored_data_hash
from timeline.clock import require_aware
from timeline.model import WINDOW_KEYS
from timeline.words import YuqingError
from timeline.words import say as render


def score_year(
    scheme: Scheme,
    units: Sequence[UnitRef],
    year: int,
    incidents: Sequence[ScoredIncident] = (),
    referrals: Sequence[Referral] = (),
    manual: Sequence[ManualScore] = (),
    specials: Sequence[SpecialItem] = (),
    zeroings: Sequence[Zeroing] = (),
    daily: Sequence[DailyRecord] = (),
    appeals: Sequence[AppealDecision] = (),
    *,
    now: datetime,
) -> list[UnitScore]:
    """Score every unit for `year` as of `now`, ranked within departments and within counties.

    `incidents` may hold other years (they are skipped) and must hold the parent of every secondary
    incident of the year. Verdicts must be judged at the same `now`. Inactive (merged) units without
    any record that year are left out. Data naming a unit missing from `units` is refused.
    """
    require_aware(now, "now")
    by_code = {u.code: u for u in units}
    overturned = overturned_keys(appeals)
    ledgers = Collector(scheme, by_code, year, now, overturned).run(incidents, referrals)

    manual_by_unit: dict[str, dict[str, ManualScore]] = defaultdict(dict)
    for entry in manual:
        unit = _known(by_code, entry.unit_code, "人工评分")
        indicator = scheme.tree(unit.kind).get(entry.indicator)
        if indicator is None or indicator.computed:
            problem = "不存在" if indicator is None else f"由系统计算（{indicator.source}），不能人工录入"
            raise YuqingError("E_SCORING_INPUT", problem=f"{unit.name} 的指标 {entry.indicator!r} {problem}")
        if not 0 <= entry.points <= indicator.points:
            raise YuqingError(
                "E_SCORING_INPUT",
                problem=f"{unit.name} 的指标 {indicator.name} 得分 {entry.points:g} 超出 0–{indicator.points:g}",
            )
        manual_by_unit[unit.code][entry.indicator] = entry

    specials_by_unit: dict[str, list[SpecialItem]] = defaultdict(list)
    for item in specials:
        if item.year != year:
            continue
        _known(by_code, item.unit_code, "特别项")
        if scheme.special(item.item) is None:
            choices = "、".join(s.code for s in scheme.specials)
            raise YuqingError("E_SCORING_INPUT", problem=f"特别项 {item.item!r} 不在评分方案中（可选：{choices}）")
        if item.points is not None and item.points < 0:
            raise YuqingError("E_SCORING_INPUT", problem=f"特别项 {item.item} 的分值应填正数，加减由项目决定")
        specials_by_unit[item.unit_code].append(item)

    zeroed: dict[str, list[Zeroing]] = defaultdict(list)
    for zeroing in zeroings:
        if zeroing.year == year:
            _known(by_code, zeroing.unit_code, "直接归零项")
            zeroed[zeroing.unit_code].append(zeroing)

    daily_by_unit: dict[str, list[DailyRecord]] = defaultdict(list)
    for record in daily:
        if record.on.year != year:
            continue
        unit = _known(by_code, record.unit_code, "日常考核记录")
        if record.indicator is not None and scheme.daily == "indicator" and scheme.tree(unit.kind).get(record.indicator) is None:
            raise YuqingError("E_SCORING_INPUT", problem=f"日常考核记录注明的指标 {record.indicator!r} 不在 {unit.name} 的指标树中")
        daily_by_unit[record.unit_code].append(record)

    scores: list[UnitScore] = []
    for unit in units:
        has_data = unit.code in ledgers or unit.code in manual_by_unit or unit.code in specials_by_unit \
            or unit.code in zeroed or unit.code in daily_by_unit
        if not unit.active and not has_data:
            continue
        scores.append(
            _unit_score(
                scheme, unit, year, ledgers.get(unit.code) or Ledger(), manual_by_unit.get(unit.code, {}),
                specials_by_unit.get(unit.code, []), zeroed.get(unit.code, []), daily_by_unit.get(unit.code, []),
                overturned,
            )
        )
    return rank(scores)


def _known(by_code: dict[str, UnitRef], code: str, what: str) -> UnitRef:
    unit = by_code.get(code)
    if unit is None:
        raise YuqingError("E_SCORING_INPUT", problem=f"{what}的单位 {code!r} 不在参加考核的单位名单中")
    return unit


def daily_key(record: DailyRecord) -> str:
    """Stable key of a daily record for appeals: its id, or (without one) its date and content."""
    if record.id is not None:
        return DeductionKey.daily(record.id).format()
    content = f"{record.points!r}|{record.indicator}|{record.reason}".encode()
    return f"daily-{record.on.isoformat()}-{hashlib.sha256(content).hexdigest()[:8]}"


def _daily_line(record: DailyRecord, unit_code: str, overturned: set[tuple[str, str]]) -> Deduction:
    key = daily_key(record)
    return Deduction(
        key=key,
        incident_id=None,
        window=None,
        rule="daily_record",
        points=round2(abs(record.points)),
        evidence=render("EV_DAILY", on=record.on.isoformat(), reason=record.reason),
        overturned=(unit_code, key) in overturned,
    )


def _indicator(
    definition: IndicatorDef,
    ledger: Ledger,
    entry: ManualScore | None,
    adjustments: list[DailyRecord],
    scheme: Scheme,
    unit_code: str,
    overturned: set[tuple[str, str]],
) -> IndicatorScore:
    """Computed, mode deduct: max − deductions (capped at the indicator's points), then daily
    adjustments, kept within [0, max]. Mode earn: 0 + credits − deductions, kept within [0, max]. Manual: the entered points, then daily adjustments; missing per the scheme."""
    deductions = list(ledger.deductions.get(definition.source, ())) if definition.computed else []
    additions: list[Deduction] = []
    for record in adjustments:
        line = _daily_line(record, unit_code, overturned)
        (additions if record.points > 0 else deductions).append(line)
    net_daily = sum(a.points for a in additions if not a.overturned) - sum(
        d.points for d in deductions if d.rule == "daily_record" and not d.overturned
    )
    missing = False
    if definition.source == "manual":
        if entry is None:
            missing = True
            base: float | None = 0.0 if scheme.missing_manual == "zero" else None
        else:
            base = entry.points
    elif definition.mode == "earn":
        # Starts at 0: credits earn it, computed deductions and − records take it back, within [0, max].
        counted = sum(d.points for d in deductions if d.rule != "daily_record" and not d.overturned)
        base = -counted
    elif definition.source == "daily_monitoring":
        base = definition.params["start"]
    else:
        counted = sum(d.points for d in deductions if d.rule != "daily_record" and not d.overturned)
        base = max(0.0, definition.points - counted)
    points = None if base is None else round2(min(definition.points, max(0.0, base + net_daily)))
    return IndicatorScore(
        code=definition.code,
        name=definition.name,
        section=definition.section,
        group=definition.group,
        source=definition.source,
        max=definition.points,
        points=points,
        deductions=tuple(deductions),
        additions=tuple(additions),
        missing=missing,
        note=entry.note if entry is not None else "",
    )


def _specials(scheme: Scheme, items: list[SpecialItem]) -> tuple[float, float, tuple[SpecialScore, ...]]:
    """特别加分项/特别减分项: each record at its points (or the item's default), each item capped per
    year, then each kind capped as a whole; outside the 100 but added to / subtracted from the total."""
    used: dict[str, float] = defaultdict(float)
    lines: list[SpecialScore] = []
    for item in sorted(items, key=lambda i: (i.on or date.max, i.id or 0)):
        definition = scheme.special(item.item)
        assert definition is not None
        wanted = definition.points if item.points is None else item.points
        room = wanted if definition.cap is None else max(0.0, min(wanted, definition.cap - used[item.item]))
        used[item.item] += room
        lines.append(SpecialScore(item, definition.kind, definition.name, round2(room)))
    bonus = sum(line.points for line in lines if line.kind == "bonus")
    penalty = sum(line.points for line in lines if line.kind == "penalty")
    if scheme.bonus_cap is not None:
        bonus = min(bonus, scheme.bonus_cap)
    if scheme.penalty_cap is not None:
        penalty = min(penalty, scheme.penalty_cap)
    return round2(bonus), round2(penalty), tuple(lines)


def _unit_score(
    scheme: Scheme,
    unit: UnitRef,
    year: int,
    ledger: Ledger,
    manual: dict[str, ManualScore],
    specials: list[SpecialItem],
    zeroings: list[Zeroing],
    daily: list[DailyRecord],
    overturned: set[tuple[str, str]],
) -> UnitScore:
    tree = scheme.tree(unit.kind)
    by_indicator: dict[str | None, list[DailyRecord]] = defaultdict(list)
    for record in daily:
        target = record.indicator if scheme.daily == "indicator" else None
        by_indicator[target].append(record)
    indicators = tuple(
        _indicator(d, ledger, manual.get(d.code), by_indicator.get(d.code, []), scheme, unit.code, overturned)
        for d in tree.indicators
    )
    opinion = scheme_opinion_codes(scheme, unit.kind)
    opinion_items = [i for i in indicators if i.code in opinion]
    opinion_points = None if any(i.points is None for i in opinion_items) else round2(sum(i.points or 0 for i in opinion_items))
    opinion_max = round2(sum(i.max for i in opinion_items))

    bonus, penalty, special_lines = _specials(scheme, specials)
    daily_total = 0.0
    if scheme.daily != "none":
        daily_total = sum(
            record.points for record in by_indicator.get(None, [])
            if (unit.code, daily_key(record)) not in overturned
        )
    daily_total = round2(daily_total)

    missing = tuple(i.code for i in indicators if i.missing)
    total: float | None
    grade: str | None
    if zeroings:
        total, grade = 0.0, scheme.zeroing.grade
    elif any(i.points is None for i in indicators):
        total, grade = None, None
    else:
        raw = sum(i.points or 0 for i in indicators) + bonus - penalty + daily_total
        if scheme.total_floor is not None:
            raw = max(scheme.total_floor, raw)
        if scheme.total_cap is not None:
            raw = min(scheme.total_cap, raw)
        total = round2(raw)
        grade = scheme.grade_for(total)
    return UnitScore(
        unit=unit,
        year=year,
        scheme=scheme.name,
        incidents=ledger.incidents,
        windows={k: StateCounts(*ledger.windows[k]) for k in WINDOW_KEYS},
        referrals=StateCounts(*ledger.referrals),
        indicators=indicators,
        opinion_points=opinion_points,
        opinion_max=opinion_max,
        bonus=bonus,
        penalty=penalty,
        specials=special_lines,
        daily_points=daily_total,
        daily_records=tuple(daily),
        zeroed=bool(zeroings),
        zeroing_evidence="；".join(z.evidence for z in zeroings) or None,
        missing_manual=missing,
        total=total,
        grade=grade,
    )


def scheme_opinion_codes(scheme: Scheme, kind: str) -> set[str]:
    opinion_sections = {s.code for s in scheme.sections if s.opinion}
    return {i.code for i in scheme.tree(kind).indicators if i.section in opinion_sections}


def _competition(values: list[tuple[int, float]]) -> dict[int, int]:
    """Standard competition ranking of (index, value), highest first: 1, 1, 3."""
    ranks: dict[int, int] = {}
    previous: float | None = None
    current = 0
    for position, (index, value) in enumerate(sorted(values, key=lambda x: -x[1]), start=1):
        if value != previous:
            current, previous = position, value
        ranks[index] = current
    return ranks


UNIT_KINDS = ("department", "county", "town", "enterprise")


def rank(scores: Iterable[UnitScore]) -> list[UnitScore]:
    """Rank within departments and within counties separately by total, highest first; equal totals
    share a rank and the next rank skips (1, 1, 3). Units without a total get no rank and come last.
    Order: departments then counties, each by rank, ties in the order given.
    The 舆情回应 ranking (opinion_rank) is the same rule on opinion_points, the part this product
    computes, so a ranking exists before the manual indicators are entered."""
    ordered: list[UnitScore] = []
    scores = list(scores)
    for kind in UNIT_KINDS:
        group = [s for s in scores if s.unit.kind == kind]
        totals = _competition([(n, s.total) for n, s in enumerate(group) if s.total is not None])
        opinion = _competition([(n, s.opinion_points) for n, s in enumerate(group) if s.opinion_points is not None])
        ranked = [replace(s, rank=totals.get(n), opinion_rank=opinion.get(n)) for n, s in enumerate(group)]
        ordered.extend(sorted((s for s in ranked if s.rank is not None), key=lambda s: s.rank or 0))
        ordered.extend(sorted((s for s in ranked if s.rank is None),
                              key=lambda s: (s.opinion_rank is None, s.opinion_rank or 0)))
    ordered.extend(s for s in scores if s.unit.kind not in UNIT_KINDS)
    return ordered


@dataclass(frozen=True)
class ScoringData:
    """Everything one `score_year` run reads (the store fills it), with verdicts judged at `now`."""

    scheme: Scheme
    year: int
    now: datetime
    units: tuple[UnitRef, ...]
    incidents: tuple[ScoredIncident, ...] = ()
    referrals: tuple[Referral, ...] = ()
    manual: tuple[ManualScore, ...] = ()
    specials: tuple[SpecialItem, ...] = ()
    zeroings: tuple[Zeroing, ...] = ()
    daily: tuple[DailyRecord, ...] = ()
    appeals: tuple[AppealDecision, ...] = ()

    def score(self) -> list[UnitScore]:
        return score_year(self.scheme, self.units, self.year, self.incidents, self.referrals, self.manual,
                          self.specials, self.zeroings, self.daily, self.appeals, now=self.now)

    def data_hash(self) -> str:
        return scored_data_hash(self.scheme, self.year, self.units, self.incidents, self.referrals, self.manual,
                                self.specials, self.zeroings, self.daily, self.appeals)
