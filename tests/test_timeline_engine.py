"""The deadline windows of DESIGN.md §2.1, boundary by boundary."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timeline.engine import ActionAt, Case, Grading, Regrade, evaluate, start_time, verdict_as_json
from timeline.presets import load_preset

START = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)  # 14:00 Beijing
S = timedelta(seconds=1)
H = timedelta(hours=1)
SMX = load_preset("sanmenxia-2017")
NAT = load_preset("national-2016")

FLAGGED = Grading("重大", True, "事故灾难")
ORDINARY = Grading("一般", False, None)


def judge(grading: Grading, actions: list[tuple[str, timedelta]], now: timedelta, preset=SMX, **kw):
    case = Case(START, grading, tuple(ActionAt(k, START + d) for k, d in actions), **kw)
    return evaluate(case, preset, now=START + now)


@pytest.mark.parametrize(
    "preset, window, kind, offset, state",
    [
        (SMX, "response", "response", 24 * H - S, "met"),
        (SMX, "response", "response", 24 * H, "met"),
        (SMX, "response", "response", 24 * H + S, "late"),
        (SMX, "release", "release", 5 * H - S, "met"),
        (SMX, "release", "release", 5 * H, "met"),
        (SMX, "release", "release", 5 * H + S, "late"),
        (SMX, "press_conference", "press_conference", 24 * H, "met"),
        (SMX, "press_conference", "press_conference", 24 * H + S, "late"),
        (NAT, "response", "response", 48 * H - S, "met"),
        (NAT, "response", "response", 48 * H, "met"),
        (NAT, "response", "response", 48 * H + S, "late"),
        (NAT, "release", "release", 5 * H, "met"),
        (NAT, "release", "release", 5 * H + S, "late"),
    ],
)
def test_action_on_each_side_of_the_deadline(preset, window, kind, offset, state):
    verdict = judge(FLAGGED, [(kind, offset)], now=72 * H, preset=preset)
    assert verdict.window(window).state == state


@pytest.mark.parametrize(
    "window, now, state, remaining, overdue",
    [
        ("release", 5 * H - S, "open", 1, None),
        ("release", 5 * H, "open", 0, None),
        ("release", 5 * H + S, "overdue", None, 1),
        ("response", 24 * H, "open", 0, None),
        ("response", 24 * H + S, "overdue", None, 1),
        ("press_conference", 23 * H, "open", 3600, None),
        ("press_conference", 25 * H, "overdue", None, 3600),
    ],
)
def test_unsatisfied_window_is_open_until_the_due_instant_then_overdue(window, now, state, remaining, overdue):
    w = judge(FLAGGED, [], now=now).window(window)
    assert (w.state, w.remaining_seconds, w.overdue_seconds) == (state, remaining, overdue)


def test_release_at_exactly_five_hours_is_met():
    assert judge(FLAGGED, [("release", 5 * H)], now=6 * H).window("release").state == "met"


def test_release_satisfies_response_but_response_does_not_satisfy_release():
    verdict = judge(FLAGGED, [("response", 1 * H)], now=6 * H)
    assert verdict.window("response").state == "met"
    assert verdict.window("release").state == "overdue"
    verdict = judge(FLAGGED, [("release", 1 * H)], now=6 * H)
    assert verdict.window("response").satisfied_at == START + 1 * H


def test_press_conference_satisfies_all_three_windows():
    verdict = judge(FLAGGED, [("press_conference", 4 * H)], now=6 * H)
    assert [w.state for w in verdict.windows] == ["met", "met", "met"]


def test_follow_up_satisfies_no_window():
    verdict = judge(FLAGGED, [("follow_up", 1 * H)], now=2 * H)
    assert [w.state for w in verdict.windows] == ["open", "open", "open"]


@pytest.mark.parametrize(
    "grading, preset, flagged",
    [
        (Grading("重大", False, None), SMX, True),
        (Grading("特别重大", None, None), SMX, True),
        (Grading("较大", True, None), SMX, True),
        (Grading("一般", False, None), SMX, False),
        (Grading(None, None, None), SMX, False),
        (Grading("较大", True, None), NAT, False),
        (Grading("重大", False, None), NAT, False),
        (Grading("重大", True, None), NAT, True),
        (Grading("特别重大", True, None), NAT, True),
    ],
)
def test_flagged_predicate_is_the_presets_choice(grading, preset, flagged):
    verdict = judge(grading, [], now=H, preset=preset)
    assert verdict.flagged is flagged
    assert verdict.window("release").applicable is flagged
    assert verdict.window("press_conference").applicable is flagged


def test_ordinary_incident_has_only_the_response_window():
    verdict = judge(ORDINARY, [], now=H)
    assert [(w.key, w.state) for w in verdict.windows] == [
        ("response", "open"),
        ("release", "not_applicable"),
        ("press_conference", "not_applicable"),
    ]


@pytest.mark.parametrize("left, at_risk", [(4 * H + S, False), (4 * H, True), (H, True), (0 * H, True)])
def test_response_turns_at_risk_four_hours_before_due(left, at_risk):
    assert judge(ORDINARY, [], now=24 * H - left).window("response").at_risk is at_risk


def test_actions_after_now_are_not_counted():
    assert judge(FLAGGED, [("release", 3 * H)], now=2 * H).window("release").state == "open"


def test_voided_incident_has_no_applicable_window():
    verdict = judge(FLAGGED, [], now=30 * H, voided=True)
    assert all(w.state == "not_applicable" for w in verdict.windows)


def test_reclassification_measures_new_windows_from_the_original_start():
    regrade = Regrade(START + 3 * H, ORDINARY, FLAGGED)
    w = judge(FLAGGED, [], now=4 * H, regrades=(regrade,)).window("release")
    assert w.due_at == START + 5 * H
    assert (w.state, w.remaining_seconds, w.past_due_at_reclassification) == ("open", 3600, False)


def test_window_already_past_due_at_reclassification_is_marked():
    regrade = Regrade(START + 6 * H, ORDINARY, FLAGGED)
    w = judge(FLAGGED, [("release", 7 * H)], now=8 * H, regrades=(regrade,)).window("release")
    assert (w.state, w.past_due_at_reclassification) == ("late", True)
    w = judge(FLAGGED, [], now=8 * H, regrades=(regrade,)).window("release")
    assert (w.state, w.past_due_at_reclassification) == ("overdue", True)
    # The 24-hour press-conference window was not yet due at hour 6.
    assert judge(FLAGGED, [], now=8 * H, regrades=(regrade,)).window("press_conference").past_due_at_reclassification is False


def test_downgrade_makes_flagged_windows_not_applicable():
    regrade = Regrade(START + 2 * H, FLAGGED, ORDINARY)
    verdict = judge(ORDINARY, [], now=8 * H, regrades=(regrade,))
    assert verdict.window("release").state == "not_applicable"


def test_met_window_is_not_marked_even_if_reclassified_late():
    regrade = Regrade(START + 6 * H, ORDINARY, FLAGGED)
    w = judge(FLAGGED, [("release", 2 * H)], now=8 * H, regrades=(regrade,)).window("release")
    assert (w.state, w.past_due_at_reclassification) == ("met", False)


def test_late_window_reports_how_late():
    w = judge(FLAGGED, [("release", 6 * H)], now=8 * H).window("release")
    assert w.overdue_seconds == 3600 and w.remaining_seconds is None


@pytest.mark.parametrize(
    "anchor_kw, expected",
    [
        ({"first_post_at": START, "detected_at": START + H}, START),
        ({"first_post_at": START + H, "detected_at": START}, START),
        ({"first_post_at": None, "detected_at": START + 2 * H}, START + 2 * H),
        ({"first_post_at": None, "detected_at": None}, START + 3 * H),
    ],
)
def test_clock_starts_at_first_seen_time(anchor_kw, expected):
    assert start_time(SMX, logged_at=START + 3 * H, **anchor_kw) == expected


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        evaluate(Case(START, ORDINARY), SMX, now=datetime(2026, 6, 10))


def test_contract_example_shape():
    data = verdict_as_json(judge(Grading("重大", True, None), [("response", 5 * H - S)], now=5 * H))
    assert data["windows"][1] == {
        "key": "release", "hours": 5, "applicable": True, "due_at": "2026-06-10T19:00:00+08:00",
        "state": "open", "satisfied_at": None, "remaining_seconds": 0, "overdue_seconds": None,
        "at_risk": True, "past_due_at_reclassification": False,
    }
    assert data["windows"][0]["satisfied_at"] == "2026-06-10T18:59:59+08:00"


ZONES = st.sampled_from(["UTC", "Asia/Shanghai", "America/Chicago", "Asia/Kolkata", "Pacific/Chatham", "Etc/GMT+12"])


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
    offsets=st.lists(st.integers(min_value=0, max_value=60 * 3600), max_size=4),
    kinds=st.lists(st.sampled_from(["response", "release", "press_conference", "follow_up"]), min_size=4, max_size=4),
    now_offset=st.integers(min_value=0, max_value=80 * 3600),
    flagged=st.booleans(),
    zone_a=ZONES,
    zone_b=ZONES,
)
def test_verdict_does_not_depend_on_the_offset_the_instants_are_written_in(start, offsets, kinds, now_offset, flagged, zone_a, zone_b):
    grading = FLAGGED if flagged else ORDINARY

    def build(zone: str):
        tz = ZoneInfo(zone)
        actions = tuple(ActionAt(k, (start + timedelta(seconds=o)).astimezone(tz)) for k, o in zip(kinds, offsets))
        case = Case(start.astimezone(tz), grading, actions)
        return evaluate(case, SMX, now=(start + timedelta(seconds=now_offset)).astimezone(tz))

    assert verdict_as_json(build(zone_a)) == verdict_as_json(build(zone_b))
