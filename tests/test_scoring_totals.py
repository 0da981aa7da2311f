"""Totals, grades (第十二条), zeroing (第十六条), special items, daily records, ranks, the JSON contract."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_scoring_factories import NOW, SCHEME, act, bj, county, daily, dept, full_manual, incident

from classify.units import UnitRef
from scoring.assessment import rank, score_year
from scoring.facts import AppealDecision, ManualScore, SpecialItem, Zeroing
from scoring.results import UnitScore, as_json
from scoring.scheme import Scheme
from yuqing.errors import YuqingError


def manual_for_total(scheme: Scheme, unit: UnitRef, target: float) -> list[ManualScore]:
    """Manual scores that bring a unit with no incidents (opinion at full marks) to `target`."""
    tree = scheme.tree(unit.kind)
    manual = [i for i in tree.indicators if i.source == "manual"]
    opinion = sum(i.points for i in tree.indicators if i.source != "manual")
    missing = round((100 - target) * 100)  # in hundredths
    scores = []
    for indicator in manual:
        full = round(indicator.points * 100)
        cut = min(full, missing)
        missing -= cut
        scores.append(ManualScore(unit.code, indicator.code, (full - cut) / 100))
    assert missing == 0, f"{target} is below the opinion points {opinion}"
    return scores


def run(units, year=2026, scheme=SCHEME, **kw) -> dict[str, UnitScore]:
    return {s.unit.code: s for s in score_year(scheme, units, year, now=NOW, **kw)}


@pytest.mark.parametrize(
    ("total", "grade"),
    [(59.99, "不合格"), (60, "合格"), (79.99, "合格"), (80, "良好"), (89.99, "良好"), (90, "优秀"), (100, "优秀"), (15, "不合格")],
)
def test_grade_boundaries_of_article_12(total, grade):
    unit = dept()
    result = run([unit], manual=manual_for_total(SCHEME, unit, total))[unit.code]
    assert result.total == total
    assert result.grade == grade
    assert SCHEME.grade_for(total) == grade


def test_total_is_rounded_to_two_decimals_without_float_noise():
    unit = dept()
    manual = [ManualScore(unit.code, i.code, round(i.points - 0.1, 2)) for i in SCHEME.tree("department").indicators if i.source == "manual"]
    assert sum(m.points for m in manual) + 15 != 97.7  # plain float addition drifts
    result = run([unit], manual=manual)[unit.code]
    assert result.total == 97.7 and repr(result.total) == "97.7"


@pytest.mark.parametrize(("value", "rounded"), [(89.995, 90.0), (89.994999, 89.99), (-10.005, -10.01), (0.125, 0.13)])
def test_points_round_half_up_like_people_do(value, rounded):
    from scoring.results import round2

    assert round2(value) == rounded


def test_ties_share_a_rank_and_the_next_rank_skips():
    units = [dept("a"), dept("b"), dept("c"), dept("d")]
    manual = manual_for_total(SCHEME, units[0], 90) + manual_for_total(SCHEME, units[1], 85) + manual_for_total(SCHEME, units[2], 90)
    results = score_year(SCHEME, units, 2026, manual=manual, now=NOW)
    assert [(r.unit.code, r.rank) for r in results] == [("a", 1), ("c", 1), ("b", 3), ("d", None)]


def test_departments_and_counties_are_ranked_separately():
    units = [dept("a"), county("x"), dept("b"), county("y")]
    manual = [m for u, t in zip(units, (70, 95, 80, 60)) for m in manual_for_total(SCHEME, u, t)]
    results = score_year(SCHEME, units, 2026, manual=manual, now=NOW)
    assert [(r.unit.code, r.rank) for r in results] == [("b", 1), ("a", 2), ("x", 1), ("y", 2)]


def test_missing_manual_indicators_leave_total_grade_and_rank_null():
    unit = dept()
    partial = full_manual(SCHEME, unit)[:-1]
    result = run([unit], manual=partial)[unit.code]
    assert (result.total, result.grade, result.rank) == (None, None, None)
    assert result.missing_manual == ("participation.methods",)
    data = as_json([result])[0]
    assert data["total"] is None and data["grade"] is None and data["rank"] is None
    assert data["opinion_points"] == 15.0  # the computed part is still shown


def test_scheme_may_count_missing_manual_indicators_as_zero():
    unit = dept()
    result = run([unit], scheme=replace(SCHEME, missing_manual="zero"), manual=full_manual(SCHEME, unit)[:-1])[unit.code]
    assert result.total == 95.0 and result.grade == "优秀" and result.rank == 1


@pytest.mark.parametrize("manual_complete", [True, False], ids=["complete", "manual missing"])
def test_falsification_zeroes_the_total_and_grades_unqualified(manual_complete):
    unit, other = dept("a"), dept("b")
    manual = (full_manual(SCHEME, unit) if manual_complete else []) + manual_for_total(SCHEME, other, 50)
    zero = Zeroing(unit.code, 2026, "自查材料弄虚作假", date(2026, 9, 1))
    results = run([unit, other], manual=manual, zeroings=[zero])
    assert (results["a"].total, results["a"].grade, results["a"].zeroed) == (0.0, "不合格", True)
    assert results["a"].rank == 2 and results["b"].rank == 1
    assert as_json([results["a"]])[0]["zeroing_evidence"] == "自查材料弄虚作假"


def test_zeroing_of_another_year_does_not_apply():
    unit = dept()
    result = run([unit], manual=full_manual(SCHEME, unit), zeroings=[Zeroing(unit.code, 2025, "去年")])[unit.code]
    assert not result.zeroed and result.total == 100.0


SPECIALS = [
    ("bonus at the item's default points", [("bonus.media", None)], 1.0, 0.0),
    ("bonus with its own points", [("bonus.leader", 1.5)], 1.5, 0.0),
    ("item cap per year", [("bonus.leader", 1.5), ("bonus.leader", 1.5)], 2.0, 0.0),
    ("bonus group cap", [("bonus.media", 3), ("bonus.leader", 2), ("bonus.commendation", 2)], 5.0, 0.0),
    ("penalty subtracts", [("penalty.criticism", None)], 0.0, 2.0),
    ("penalty item cap", [("penalty.noncompliance", 3), ("penalty.noncompliance", 3)], 0.0, 4.0),
]


@pytest.mark.parametrize(("items", "bonus", "penalty"), [c[1:] for c in SPECIALS], ids=[c[0] for c in SPECIALS])
def test_special_items_sit_outside_the_hundred_with_caps(items, bonus, penalty):
    unit = dept()
    specials = [SpecialItem(unit.code, 2026, code, points, "报道", date(2026, 3, k + 1)) for k, (code, points) in enumerate(items)]
    result = run([unit], manual=manual_for_total(SCHEME, unit, 90), specials=specials)[unit.code]
    assert (result.bonus, result.penalty) == (bonus, penalty)
    assert result.total == round(90 + bonus - penalty, 2)


@pytest.mark.parametrize(
    ("item", "problem"),
    [(SpecialItem("fgw", 2026, "bonus.unknown", 1.0), "不在评分方案中"), (SpecialItem("fgw", 2026, "penalty.media", -2.0), "正数")],
    ids=["unknown item", "negative points"],
)
def test_bad_special_items_are_refused(item, problem):
    with pytest.raises(YuqingError) as caught:
        run([dept()], specials=[item])
    assert caught.value.code == "E_SCORING_INPUT" and problem in str(caught.value)


def test_total_has_a_floor_of_zero():
    unit = dept()
    zero_manual = [replace(m, points=0) for m in full_manual(SCHEME, unit)]
    specials = [SpecialItem(unit.code, 2026, code, 6) for code in ("penalty.media", "penalty.leader", "penalty.criticism")]
    result = run([unit], manual=zero_manual, specials=specials)[unit.code]
    assert result.penalty == 18.0 and result.total == 0.0 and result.grade == "不合格"


def test_daily_record_naming_an_indicator_adjusts_that_indicator_within_its_maximum():
    unit = dept()
    records = [
        daily(unit.code, date(2026, 3, 2), -1, "漏报舆情", indicator="opinion.monitoring.reports", id=1),
        daily(unit.code, date(2026, 4, 2), +5, "领导批示肯定", indicator="disclosure.proactive", id=2),
        daily(unit.code, date(2026, 5, 2), -0.5, "未按时报送材料", id=3),
    ]
    manual = [m if m.indicator != "disclosure.proactive" else replace(m, points=10) for m in full_manual(SCHEME, unit)]
    result = run([unit], manual=manual, daily=records)[unit.code]
    reports = next(i for i in result.indicators if i.code == "opinion.monitoring.reports")
    proactive = next(i for i in result.indicators if i.code == "disclosure.proactive")
    assert reports.points == 2.0 and [d.key for d in reports.deductions] == ["daily-1"]
    assert proactive.points == 12.0 and [a.key for a in proactive.additions] == ["daily-2"]
    assert result.daily_points == -0.5
    assert result.total == 100 - 1 - 0.5


def test_scheme_can_send_every_daily_record_to_the_total_or_nowhere():
    unit = dept()
    records = [daily(unit.code, date(2026, 3, 2), -1, "漏报", indicator="opinion.monitoring.reports")]
    to_total = run([unit], scheme=replace(SCHEME, daily="total"), manual=full_manual(SCHEME, unit), daily=records)[unit.code]
    nowhere = run([unit], scheme=replace(SCHEME, daily="none"), manual=full_manual(SCHEME, unit), daily=records)[unit.code]
    assert (to_total.daily_points, to_total.total) == (-1.0, 99.0)
    assert (nowhere.daily_points, nowhere.total) == (0.0, 100.0)
    assert nowhere.daily_records == tuple(records)  # still reported


def test_overturned_daily_record_stops_counting():
    unit = dept()
    records = [daily(unit.code, date(2026, 3, 2), -1, "漏报", id=9)]
    appeal = AppealDecision("daily-9", unit.code, True, bj(2026, 4, 1, 10))
    result = run([unit], manual=full_manual(SCHEME, unit), daily=records, appeals=[appeal])[unit.code]
    assert result.total == 100.0


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (ManualScore("fgw", "org.principal", 3.5), "超出"),
        (ManualScore("fgw", "opinion.hot.timeliness", 6), "由系统计算"),
        (ManualScore("fgw", "platform.gazette", 1), "不存在"),  # a county-only indicator
    ],
    ids=["above the maximum", "computed indicator", "indicator of the other tree"],
)
def test_bad_manual_scores_are_refused(entry, problem):
    with pytest.raises(YuqingError) as caught:
        run([dept("fgw")], manual=[entry])
    assert caught.value.code == "E_SCORING_INPUT" and problem in str(caught.value)


def test_merged_unit_without_records_is_left_out_but_with_records_is_scored():
    old = dept("gsj", active=False)
    assert "gsj" not in run([dept("fgw"), old])
    assert run([dept("fgw"), old], incidents=[incident(1, "gsj")])["gsj"].incidents == 1


def test_total_adds_indicators_specials_and_daily_records():
    unit = county("lbs")
    cases = [incident(1, "lbs")]  # one ordinary overdue: timeliness −1, coverage −0.5
    result = run([unit], incidents=cases, manual=full_manual(SCHEME, unit),
                 specials=[SpecialItem("lbs", 2026, "bonus.media")], daily=[daily("lbs", date(2026, 2, 1), -0.25)])["lbs"]
    assert result.opinion_points == 18.5 and result.opinion_max == 20.0
    assert result.total == 100 - 1.5 + 1 - 0.25


REQUIRED_UNIT_KEYS = {"unit", "incidents", "windows", "indicators", "opinion_points", "opinion_max", "total", "grade", "rank"}


def test_json_contract_keeps_the_required_keys_and_shapes():
    unit = dept()
    data = as_json(score_year(SCHEME, [unit], 2026, [incident(1, "fgw", level="重大")], manual=full_manual(SCHEME, unit), now=NOW))
    assert isinstance(data, list) and len(data) == 1
    row = data[0]
    assert REQUIRED_UNIT_KEYS <= set(row)
    assert set(row["unit"]) == {"code", "name", "kind"}
    assert set(row["windows"]) == {"response", "release", "press_conference"}
    for counts in row["windows"].values():
        assert set(counts) == {"applicable", "met", "late", "overdue", "open"}
        assert all(isinstance(v, int) for v in counts.values())
    for ind in row["indicators"]:
        assert {"code", "name", "points", "max", "deductions"} <= set(ind)
        for d in ind["deductions"]:
            assert {"key", "incident_id", "window", "rule", "points", "evidence", "overturned"} <= set(d)
    assert isinstance(row["incidents"], int) and row["total"] == 93.0 and row["grade"] == "优秀"
    import json

    json.dumps(data, ensure_ascii=False)  # plain JSON types only


@given(st.lists(st.one_of(st.none(), st.integers(0, 10_000).map(lambda c: c / 100)), max_size=12))
def test_rank_is_one_plus_the_number_of_strictly_higher_totals(totals):
    base = score_year(SCHEME, [dept("x")], 2026, now=NOW)[0]
    scores = [replace(base, unit=dept(f"u{k}"), total=t) for k, t in enumerate(totals)]
    for result in rank(scores):
        if result.total is None:
            assert result.rank is None
        else:
            assert result.rank == 1 + sum(1 for t in totals if t is not None and t > result.total)


def test_opinion_ranking_exists_before_manual_scores_and_ranks_within_kind():
    a, b, c, d = dept("a"), dept("b"), dept("c"), county("x")
    incidents = [
        incident(1, "a", start=bj(2026, 6, 1, 9), actions=[act("response", 30)]),  # late: fewer opinion points
        incident(2, "c", start=bj(2026, 6, 2, 9), actions=[act("response", 2)]),
    ]
    results = score_year(SCHEME, [a, b, c, d], 2026, incidents, now=NOW)
    by = {s.unit.code: s for s in results}
    assert all(s.total is None and s.rank is None for s in results)  # no manual scores yet
    assert by["a"].opinion_points < by["b"].opinion_points == by["c"].opinion_points
    assert (by["b"].opinion_rank, by["c"].opinion_rank, by["a"].opinion_rank) == (1, 1, 3)
    assert by["x"].opinion_rank == 1  # counties are ranked on their own
    assert [s.unit.code for s in results] == ["b", "c", "a", "x"]  # sorted by the ranking that exists
    row = as_json([by["a"]])[0]
    assert row["opinion"] == {"points": by["a"].opinion_points, "max": by["a"].opinion_max, "rank": 3}
