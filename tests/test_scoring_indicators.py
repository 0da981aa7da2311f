"""Opinion indicators computed from data: timeliness, authority, coverage, continuity, referrals.

Verdicts come from the real `timeline.engine.evaluate` with the real sanmenxia-2017 preset.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from test_scoring_factories import (
    NOW,
    SCHEME,
    act,
    bj,
    county,
    dept,
    incident,
    referral,
)

from scoring.assessment import score_year
from scoring.facts import AppealDecision
from scoring.results import IndicatorScore, UnitScore, as_json
from yuqing.errors import YuqingError

H = 1 / 3600  # one second, in hours


def score(incidents=(), units=None, scheme=SCHEME, year=2026, now=NOW, **kw) -> dict[str, UnitScore]:
    units = units or [dept("fgw"), county("lbs")]
    return {s.unit.code: s for s in score_year(scheme, units, year, incidents, now=now, **kw)}


def indicator(result: UnitScore, code: str) -> IndicatorScore:
    return next(i for i in result.indicators if i.code == code)


def lines(ind: IndicatorScore) -> list[tuple[str, float]]:
    return [(d.key, d.points) for d in ind.deductions]


TIMELINESS = [
    ("ordinary incident answered at exactly 24:00:00 is met", dict(actions=[act("response", 24)]), [], 6.0),
    ("ordinary incident answered at 24:00:01 is late", dict(actions=[act("response", 24 + H)]), [("1:response:late", 0.5)], 5.5),
    ("ordinary incident never answered is overdue", dict(), [("1:response:overdue", 1.0)], 5.0),
    (
        "flagged incident with release at 5:00:00 and press conference at 24:00:00 is met",
        dict(level="重大", actions=[act("release", 5), act("press_conference", 24)]),
        [],
        6.0,
    ),
    (
        "flagged incident: late release and missing press conference weigh double",
        dict(level="重大", actions=[act("release", 6)]),
        [("1:release:late", 1.0), ("1:press_conference:overdue", 2.0)],
        3.0,
    ),
    (
        "sudden ordinary incident is flagged; three overdue windows are capped at the indicator",
        dict(level="一般", sudden=True),
        [("1:response:overdue", 2.0), ("1:release:overdue", 2.0), ("1:press_conference:overdue", 2.0)],
        0.0,
    ),
    ("incident still inside its window is counted as open, not judged", dict(start=NOW - timedelta(hours=2)), [], 6.0),
]


@pytest.mark.parametrize(("kw", "expected", "points"), [c[1:] for c in TIMELINESS], ids=[c[0] for c in TIMELINESS])
def test_timeliness_deductions_per_window(kw, expected, points):
    result = score([incident(1, "fgw", **kw)])["fgw"]
    ind = indicator(result, "opinion.hot.timeliness")
    assert lines(ind) == expected
    assert ind.points == points


def test_timeliness_deductions_are_capped_at_the_indicator_points_but_all_listed():
    result = score([incident(i, "fgw") for i in range(1, 11)])["fgw"]
    ind = indicator(result, "opinion.hot.timeliness")
    assert len(ind.deductions) == 10 and ind.deducted == 10.0
    assert ind.points == 0.0


def test_open_windows_are_counted_in_the_window_table():
    result = score([incident(1, "fgw", start=NOW - timedelta(hours=2), level="重大")])["fgw"]
    windows = as_json([result])[0]["windows"]
    assert windows["response"] == {"applicable": 1, "met": 0, "late": 0, "overdue": 0, "open": 1}
    assert windows["release"]["open"] == 1 and windows["press_conference"]["open"] == 1


def _reclassified():
    # 一般 at the start, 重大 from hour 8: the 5-hour release window was already past due.
    return incident(1, "fgw", level="重大", regrade_at_hours=8,
                    actions=[act("response", 1), act("release", 9), act("press_conference", 10)])


@pytest.mark.parametrize(
    ("rule", "expected_rule", "points"),
    [("exempt", "past_due_at_reclassification", 0.0), ("count", "late", 1.0), ("unflagged_rate", "late", 0.5)],
)
def test_window_past_due_at_reclassification_follows_the_scheme_rule(rule, expected_rule, points):
    case = _reclassified()
    assert case.verdict.window("release").past_due_at_reclassification
    result = score([case], scheme=replace(SCHEME, past_due_at_reclassification=rule))["fgw"]
    (line,) = indicator(result, "opinion.hot.timeliness").deductions
    assert (line.key, line.rule, line.points) == (f"1:release:{expected_rule}", expected_rule, points)
    assert "改判前已过" in line.evidence


@pytest.mark.parametrize(
    ("kw", "deducted"),
    [
        (dict(level="重大", actions=[act("press_conference", 2)]), True),
        (dict(level="重大", actions=[act("press_conference", 2, principal=True)]), False),
        (dict(level="重大", start=NOW - timedelta(hours=3)), False),  # windows still open
        (dict(level="一般", actions=[act("response", 2)]), False),  # not flagged
    ],
    ids=["flagged without principal", "flagged with principal", "flagged still open", "ordinary incident"],
)
def test_authority_needs_a_principal_action_on_flagged_incidents(kw, deducted):
    ind = indicator(score([incident(1, "fgw", **kw)])["fgw"], "opinion.hot.authority")
    assert lines(ind) == ([("1:-:no_principal", 1.0)] if deducted else [])


@pytest.mark.parametrize(
    ("channels", "deducted"),
    [(("website",), True), (("website", "weibo"), False), (("weibo", "weibo"), True), ((), True)],
    ids=["one kind", "two kinds", "same kind twice", "no channel"],
)
def test_coverage_counts_channel_kinds_reached_on_county_incidents(channels, deducted):
    ind = indicator(score([incident(1, "lbs", actions=[act("response", 1, channels)])])["lbs"], "opinion.hot.coverage")
    assert lines(ind) == ([("1:-:few_channels", 0.5)] if deducted else [])


def test_coverage_and_continuity_are_county_indicators_only():
    result = score([incident(1, "fgw", level="重大", actions=[act("press_conference", 1)])])["fgw"]
    codes = {i.code for i in result.indicators}
    assert "opinion.hot.coverage" not in codes and "opinion.hot.continuity" not in codes


def test_unknown_channel_is_refused():
    with pytest.raises(YuqingError) as caught:
        score([incident(1, "lbs", actions=[act("response", 1, ("carrier_pigeon",))])])
    assert caught.value.code == "E_SCORING_INPUT"


CONTINUITY = [
    ("follow-up after the first response", [act("press_conference", 1), act("follow_up", 30)], []),
    ("no follow-up after the first response", [act("press_conference", 1)], [("1:-:no_follow_up", 1.0)]),
    ("no response at all", [], [("1:-:no_follow_up", 1.0)]),
]


@pytest.mark.parametrize(("actions", "expected"), [c[1:] for c in CONTINUITY], ids=[c[0] for c in CONTINUITY])
def test_continuity_wants_follow_up_on_flagged_incidents(actions, expected):
    ind = indicator(score([incident(1, "lbs", level="重大", actions=actions)])["lbs"], "opinion.hot.continuity")
    assert lines(ind) == expected


def test_secondary_incident_counts_against_the_parents_unit():
    parent = incident(1, "lbs", actions=[act("response", 1, ("website", "weibo"))])
    child = incident(2, "shz", parent_id=1, actions=[act("response", 1, ("website", "weibo"))])
    results = score([parent, child], units=[county("lbs"), county("shz")])
    assert lines(indicator(results["lbs"], "opinion.hot.continuity")) == [("1:secondary-2:secondary_incident", 1.0)]
    assert lines(indicator(results["shz"], "opinion.hot.continuity")) == []
    (line,) = indicator(results["lbs"], "opinion.hot.continuity").deductions
    assert line.incident_id == 1 and "次生舆情 #2" in line.evidence


def test_secondary_incident_counts_in_its_own_year_even_if_the_parent_is_older():
    parent = incident(1, "lbs", start=bj(2025, 12, 20, 9), actions=[act("response", 1, ("website", "weibo"))])
    child = incident(2, "lbs", start=bj(2026, 1, 5, 9), parent_id=1, actions=[act("response", 1, ("website", "weibo"))])
    assert lines(indicator(score([parent, child])["lbs"], "opinion.hot.continuity")) == [("1:secondary-2:secondary_incident", 1.0)]
    assert lines(indicator(score([parent, child], year=2025)["lbs"], "opinion.hot.continuity")) == []


def test_voided_secondary_incident_does_not_count():
    parent = incident(1, "lbs", actions=[act("response", 1, ("website", "weibo"))])
    child = incident(2, "lbs", parent_id=1, voided=True)
    assert lines(indicator(score([parent, child])["lbs"], "opinion.hot.continuity")) == []


def test_secondary_incident_without_its_parent_in_the_data_is_refused():
    with pytest.raises(YuqingError) as caught:
        score([incident(2, "lbs", parent_id=99)])
    assert caught.value.code == "E_SCORING_INPUT" and "#99" in str(caught.value)


REFERRALS = [
    ("reply at 23:59:59 of the due day is on time", bj(2026, 6, 15, 23, 59, 59), "met", []),
    ("reply within the last second is on time", bj(2026, 6, 15, 23, 59, 59) + timedelta(microseconds=500_000), "met", []),
    ("reply at 00:00:00 next day is late", bj(2026, 6, 16, 0, 0, 0), "late", [("1:referral-7:referral_late", 0.5)]),
    ("no reply after the due day is overdue", None, "overdue", [("1:referral-7:referral_overdue", 1.0)]),
    ("a reply after now is not known yet", NOW + timedelta(days=1), "overdue", [("1:referral-7:referral_overdue", 1.0)]),
]


@pytest.mark.parametrize(("replied", "state", "expected"), [c[1:] for c in REFERRALS], ids=[c[0] for c in REFERRALS])
def test_referrals_answered_by_their_due_date(replied, state, expected):
    letter = referral(7, 1, "fgw", bj(2026, 6, 10, 10), bj(2026, 6, 15, 23, 59, 59), replied)
    result = score([incident(1, "fgw", actions=[act("response", 1)])], referrals=[letter])["fgw"]
    ind = indicator(result, "opinion.monitoring.referrals")
    assert lines(ind) == expected
    assert getattr(result.referrals, state) == 1
    for line in ind.deductions:
        assert line.incident_id == 1 and line.window is None


def test_referral_not_yet_due_is_open():
    letter = referral(7, 1, "fgw", NOW - timedelta(hours=1), NOW + timedelta(days=3))
    result = score([incident(1, "fgw", actions=[act("response", 1)])], referrals=[letter])["fgw"]
    assert result.referrals.open == 1 and indicator(result, "opinion.monitoring.referrals").deductions == ()


def test_referral_about_a_voided_incident_does_not_count():
    letter = referral(7, 1, "fgw", bj(2026, 6, 10, 10), bj(2026, 6, 15, 23, 59, 59))
    result = score([incident(1, "fgw", voided=True)], referrals=[letter])["fgw"]
    assert result.referrals.applicable == 0


def test_voided_incidents_do_not_count():
    result = score([incident(1, "fgw", voided=True), incident(2, "fgw", voided=True, level="重大")])["fgw"]
    assert result.incidents == 0
    assert indicator(result, "opinion.hot.timeliness").deductions == ()
    assert result.windows["response"].applicable == 0


YEAR_BOUNDARY = [
    ("23:30 on 31 December Beijing counts in that year", bj(2026, 12, 31, 23, 30), 2026),
    ("00:30 on 1 January Beijing (still 31 Dec in UTC) counts in the new year", bj(2027, 1, 1, 0, 30), 2027),
    ("04:00 on 1 January Beijing (31 Dec 20:00 UTC) counts in the new year", bj(2026, 1, 1, 4), 2026),
]


@pytest.mark.parametrize(("start", "year"), [c[1:] for c in YEAR_BOUNDARY], ids=[c[0] for c in YEAR_BOUNDARY])
def test_an_incident_counts_in_the_beijing_year_its_clock_started(start, year):
    now = datetime(2027, 3, 1, tzinfo=start.tzinfo)
    case = incident(1, "fgw", start=start, actions=[act("response", 1)], now=now)
    assert score([case], year=year, now=now)["fgw"].incidents == 1
    other = 2026 if year == 2027 else (2025 if start.month == 1 else 2027)
    assert score([case], year=other, now=now)["fgw"].incidents == 0


def test_co_units_are_not_counted_when_the_scheme_counts_the_lead_only():
    results = score([incident(1, "fgw", co_units=["jyj"])], units=[dept("fgw"), dept("jyj")])
    assert results["fgw"].incidents == 1 and results["jyj"].incidents == 0


def test_shared_co_units_carry_their_share_of_each_deduction():
    scheme = replace(SCHEME, co_units="shared", co_unit_share=0.5)
    results = score([incident(1, "fgw", co_units=["jyj", "fgw"])], units=[dept("fgw"), dept("jyj")], scheme=scheme)
    assert results["jyj"].incidents == 1
    assert lines(indicator(results["fgw"], "opinion.hot.timeliness")) == [("1:response:overdue", 1.0)]
    assert lines(indicator(results["jyj"], "opinion.hot.timeliness")) == [("1:response:overdue", 0.5)]


def appeal(key: str, unit: str = "fgw", overturned: bool = True, day: int = 1) -> AppealDecision:
    return AppealDecision(key, unit, overturned, bj(2026, 7, day, 10), "证据表明已按时回应")


APPEALS = [
    ("upheld appeal overturns the deduction", [appeal("1:response:overdue")], True, 6.0),
    ("rejected appeal keeps the deduction", [appeal("1:response:overdue", overturned=False)], False, 5.0),
    ("appeal of another unit changes nothing", [appeal("1:response:overdue", unit="jyj")], False, 5.0),
    ("the latest decision wins", [appeal("1:response:overdue", day=1), appeal("1:response:overdue", overturned=False, day=2)], False, 5.0),
]


@pytest.mark.parametrize(("appeals", "overturned", "points"), [c[1:] for c in APPEALS], ids=[c[0] for c in APPEALS])
def test_overturned_deductions_stay_visible_but_stop_counting(appeals, overturned, points):
    result = score([incident(1, "fgw")], appeals=appeals)["fgw"]
    ind = indicator(result, "opinion.hot.timeliness")
    (line,) = ind.deductions
    assert line.overturned is overturned and line.points == 1.0
    assert ind.points == points
    (as_indicator,) = [i for i in as_json([result])[0]["indicators"] if i["code"] == ind.code]
    assert as_indicator["deductions"][0]["overturned"] is overturned


def test_incident_of_a_unit_not_in_the_list_is_refused():
    with pytest.raises(YuqingError) as caught:
        score([incident(1, "nowhere")])
    assert caught.value.code == "E_SCORING_INPUT" and "nowhere" in str(caught.value)


def test_deduction_keys_are_unique_per_unit():
    cases = [incident(1, "lbs", level="重大"), incident(2, "lbs", parent_id=1), incident(3, "lbs", parent_id=1)]
    letters = [referral(5, 1, "lbs", bj(2026, 6, 10, 10), bj(2026, 6, 15, 23, 59, 59))]
    result = score(cases, referrals=letters)["lbs"]
    keys = [d.key for i in result.indicators for d in i.deductions]
    assert len(keys) == len(set(keys)) > 5
