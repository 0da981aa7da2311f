"""Which alerts are due: at-risk and overdue windows, quiet hours, feeds, sent-once keys.

Verdicts come from the real engine and the real sanmenxia-2017 preset (response 24 h, at risk from 4 h
before; release 5 h, at risk from 1 h before; press conference 24 h, at risk from 4 h before).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timeline.clock import BEIJING, display_beijing, format_duration
from timeline.engine import ActionAt, Case, Grading, Regrade, evaluate
from timeline.presets import load_preset
from yuqing.alerts.rules import Alert, FeedHealth, IncidentClock, QuietHours, due_alerts, feed_key
from yuqing.vocabulary import render

SMX = load_preset("sanmenxia-2017")
START = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)  # 14:00 Beijing
S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
FLAGGED = Grading("重大", True, "事故灾难")
ORDINARY = Grading("一般", False, None)
NIGHT = QuietHours(time(22, 0), time(7, 0))
UNITS = {"yjglj": "三门峡市应急管理局", "lingbao": "灵宝市"}


def clock(
    at: timedelta,
    *,
    incident_id: int = 1,
    grading: Grading = ORDINARY,
    actions: tuple[tuple[str, timedelta], ...] = (),
    start: datetime = START,
    unit: str = "yjglj",
    title: str = "某小区燃气泄漏引发关注",
    **case: object,
) -> IncidentClock:
    """An incident started at `start`, judged by the real engine `at` after its start."""
    verdict = evaluate(
        Case(start, grading, tuple(ActionAt(kind, start + offset) for kind, offset in actions), **case),  # type: ignore[arg-type]  # tests pass case fields by keyword
        SMX,
        now=start + at,
    )
    return IncidentClock(incident_id, title, unit, UNITS[unit], verdict.flagged, verdict)


def feed(feed_id: int = 3, *, errors: int = 0, stale: bool = False, last_error: str | None = "HTTP 503",
         failing_since: datetime | None = None, last_item_at: datetime | None = None) -> FeedHealth:
    return FeedHealth(feed_id, "三门峡日报", "https://news.example.cn/rss.xml", errors, last_error, stale,
                      failing_since, last_item_at)


def run(clocks: Sequence[IncidentClock], feeds: Sequence[FeedHealth] = (), *, now: datetime,
        sent: set[str] | None = None, quiet: QuietHours | None = None, feed_error_threshold: int = 3) -> list[Alert]:
    return due_alerts(clocks, feeds, already_sent=sent or set(), now=now, quiet=quiet,
                      feed_error_threshold=feed_error_threshold)


def keys(alerts: list[Alert]) -> list[str]:
    return [alert.key for alert in alerts]


def beijing(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


# --- windows ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "at, expected",
    [
        (20 * H - S, []),  # 4 h 00 min 01 s left: not yet inside the at-risk span
        (20 * H, ["incident:1:response:at_risk"]),  # exactly 4 h left: at risk
        (24 * H, ["incident:1:response:at_risk"]),  # the due instant itself is still open
        (24 * H + S, ["incident:1:response:overdue"]),
    ],
)
def test_ordinary_response_window_on_each_side_of_the_at_risk_and_due_instants(at, expected):
    assert keys(run([clock(at)], now=START + at)) == expected


@pytest.mark.parametrize(
    "at, expected",
    [
        (4 * H - S, []),
        (4 * H, ["incident:1:release:at_risk"]),
        (5 * H, ["incident:1:release:at_risk"]),
        (5 * H + S, ["incident:1:release:overdue"]),
        (20 * H, ["incident:1:release:overdue", "incident:1:response:at_risk", "incident:1:press_conference:at_risk"]),
        (24 * H + S, ["incident:1:release:overdue", "incident:1:response:overdue", "incident:1:press_conference:overdue"]),
    ],
)
def test_flagged_incident_alerts_per_window_overdue_first(at, expected):
    assert keys(run([clock(at, grading=FLAGGED)], now=START + at)) == expected


@pytest.mark.parametrize(
    "actions, at",
    [
        ((("response", 1 * H),), 30 * H),  # met on time
        ((("response", 25 * H),), 30 * H),  # late: judged, but nothing left to chase
    ],
)
def test_satisfied_windows_do_not_alert(actions, at):
    assert run([clock(at, actions=actions)], now=START + at) == []


def test_voided_incident_does_not_alert():
    assert run([clock(30 * H, grading=FLAGGED, voided=True)], now=START + 30 * H) == []


def test_action_recorded_before_the_run_stops_the_at_risk_alert():
    assert run([clock(21 * H, actions=(("release", 20 * H + 30 * M),))], now=START + 21 * H) == []


def test_overdue_supersedes_an_unsent_at_risk_alert_for_the_same_window():
    # No run happened while the window was at risk; the first run sees it overdue and sends only that.
    alerts = run([clock(26 * H)], now=START + 26 * H)
    assert keys(alerts) == ["incident:1:response:overdue"]


def test_overdue_is_sent_after_the_at_risk_alert_was_sent():
    sent = {"incident:1:response:at_risk"}
    assert keys(run([clock(26 * H)], now=START + 26 * H, sent=sent)) == ["incident:1:response:overdue"]


def test_alert_carries_incident_unit_window_and_due_time():
    [alert] = run([clock(21 * H, incident_id=12, unit="lingbao")], now=START + 21 * H)
    assert (alert.kind, alert.unit_code, alert.unit_name, alert.incident_id, alert.window, alert.flagged) == (
        "at_risk", "lingbao", "灵宝市", 12, "response", False,
    )
    assert alert.due_at == START + 24 * H
    assert alert.text.startswith(render("AL_AT_RISK", window="回应", status="剩余 " + format_duration(3 * 3600), flag=""))
    assert display_beijing(START + 24 * H) in alert.text and "#12《某小区燃气泄漏引发关注》" in alert.text
    assert alert.title == render("AL_TITLE_AT_RISK", window="回应", unit="灵宝市")


def test_flagged_alert_says_so():
    [alert] = run([clock(5 * H + M, grading=FLAGGED)], now=START + 5 * H + M)
    assert alert.flagged
    assert alert.text.startswith(render("AL_OVERDUE", window="发布权威信息", status="已超时 0 小时 01 分", flag=render("EV_FLAGGED_SUFFIX")))


def test_window_past_due_before_reclassification_is_reported_as_such():
    # Logged as 一般 at hour 0, regraded 重大 at hour 6: the 5-hour release window was already past.
    regrade = Regrade(START + 6 * H, ORDINARY, FLAGGED)
    c = clock(7 * H, grading=FLAGGED, regrades=(regrade,))
    [alert] = [a for a in run([c], now=START + 7 * H) if a.window == "release"]
    assert alert.kind == "overdue"
    flag = render("EV_FLAGGED_SUFFIX")
    assert alert.text.startswith(render("AL_OVERDUE_RECLASSIFIED", window="发布权威信息", status="已超时 2 小时 00 分", flag=flag))


def test_multiline_title_stays_on_one_line():
    [alert] = run([clock(21 * H, title="标题\n第二行 **粗**")], now=START + 21 * H)
    assert "《标题 第二行 **粗**》" in alert.text


# --- sent once -------------------------------------------------------------------------------------


def test_keys_fed_back_as_already_sent_are_not_sent_again():
    now = START + 30 * H
    clocks = [clock(30 * H, grading=FLAGGED), clock(30 * H, incident_id=2)]
    first = run(clocks, now=now)
    assert len(first) == 4
    assert run(clocks, now=now, sent=set(keys(first))) == []


def test_simulated_day_and_a_half_sends_each_alert_exactly_once():
    """Runs every 15 minutes for 40 h under 22:00–07:00 quiet hours, feeding sent keys back."""
    start = beijing("2026-06-10 14:00")
    incidents = [
        dict(incident_id=1, grading=FLAGGED),  # nothing done
        dict(incident_id=2, grading=FLAGGED, actions=(("release", 3 * H),)),  # release met, no press conference
        dict(incident_id=3),  # ordinary, nothing done
        dict(incident_id=4, actions=(("response", 22 * H),)),  # ordinary, answered at 12:00 next day
    ]
    sent: list[str] = []
    for step in range(0, 40 * 4 + 1):
        now = start + step * 15 * M
        clocks = [clock(now - start, start=start, **spec) for spec in incidents]  # type: ignore[arg-type]  # tests pass clock fields by keyword
        alerts = run(clocks, now=now, sent=set(sent), quiet=NIGHT)
        if NIGHT.contains(now):
            assert all(alert.flagged for alert in alerts), now
        sent.extend(keys(alerts))
    assert len(sent) == len(set(sent))
    assert set(sent) == {
        "incident:1:release:at_risk", "incident:1:release:overdue",
        "incident:1:response:at_risk", "incident:1:response:overdue",
        "incident:1:press_conference:at_risk", "incident:1:press_conference:overdue",
        "incident:2:press_conference:at_risk", "incident:2:press_conference:overdue",
        "incident:3:response:at_risk", "incident:3:response:overdue",
        "incident:4:response:at_risk",
    }


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=50 * 3600), min_size=1, max_size=12),
    flagged=st.booleans(),
    action=st.one_of(st.none(), st.tuples(st.sampled_from(["response", "release", "press_conference"]),
                                          st.integers(min_value=0, max_value=50 * 3600))),
)
def test_no_key_is_ever_returned_twice_whatever_the_run_times(offsets, flagged, action):
    actions = () if action is None else ((action[0], timedelta(seconds=action[1])),)
    sent: set[str] = set()
    for offset in sorted(offsets):
        at = timedelta(seconds=offset)
        alerts = run([clock(at, grading=FLAGGED if flagged else ORDINARY, actions=actions)], now=START + at, sent=sent)
        assert not sent & set(keys(alerts))
        assert len(set(keys(alerts))) == len(alerts)
        sent |= set(keys(alerts))


# --- quiet hours -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, wall, quiet",
    [
        ("22:00", "07:00", "2026-06-10 21:59:59", False),
        ("22:00", "07:00", "2026-06-10 22:00:00", True),
        ("22:00", "07:00", "2026-06-10 23:59:59", True),
        ("22:00", "07:00", "2026-06-11 00:00:00", True),
        ("22:00", "07:00", "2026-06-11 06:59:59", True),
        ("22:00", "07:00", "2026-06-11 07:00:00", False),
        ("12:00", "14:00", "2026-06-10 11:59:59", False),  # a span that does not wrap (午休)
        ("12:00", "14:00", "2026-06-10 12:00:00", True),
        ("12:00", "14:00", "2026-06-10 13:59:59", True),
        ("12:00", "14:00", "2026-06-10 14:00:00", False),
        ("00:00", "06:00", "2026-06-10 00:00:00", True),
        ("00:00", "06:00", "2026-06-10 23:59:59", False),
    ],
)
def test_quiet_hours_include_start_exclude_end_in_beijing_time(start, end, wall, quiet):
    hours = QuietHours(time.fromisoformat(start), time.fromisoformat(end))
    assert hours.contains(beijing(wall)) is quiet


def test_quiet_hours_read_utc_instants_as_beijing_wall_time():
    # 14:00 UTC is 22:00 in Beijing: quiet, whatever zone `now` comes in.
    assert NIGHT.contains(datetime(2026, 6, 10, 14, 0, tzinfo=UTC))
    assert not NIGHT.contains(datetime(2026, 6, 10, 13, 59, 59, tzinfo=UTC))


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, 1439),
    end=st.integers(0, 1439),
    instant=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from(
        [UTC, BEIJING, ZoneInfo("America/New_York"), timezone(timedelta(hours=-3, minutes=-30))])),
)
def test_quiet_hours_match_minute_of_day_membership_in_any_zone(start, end, instant):
    if start == end:
        return
    hours = QuietHours(time(start // 60, start % 60), time(end // 60, end % 60))
    local = instant.astimezone(BEIJING)
    minute = local.hour * 60 + local.minute
    # Written as the complement for wrapping spans, so it is not the implementation restated.
    expected = start <= minute < end if start < end else not (end <= minute < start)
    assert hours.contains(instant) is expected


def test_quiet_hours_that_start_and_end_together_are_refused():
    with pytest.raises(ValueError):
        QuietHours(time(7, 0), time(7, 0))


def night_clocks(now: datetime) -> list[IncidentClock]:
    """An ordinary and a flagged incident both 21 h old at `now`: response at risk (3 h left)."""
    start = now - 21 * H
    return [clock(21 * H, incident_id=1, start=start), clock(21 * H, incident_id=2, start=start, grading=FLAGGED)]


def test_quiet_hours_hold_ordinary_incidents_and_let_flagged_ones_through():
    now = beijing("2026-06-10 23:30")
    alerts = run(night_clocks(now), now=now, quiet=NIGHT)
    assert {a.incident_id for a in alerts} == {2}
    assert "incident:2:response:at_risk" in keys(alerts)


def test_without_quiet_hours_the_same_night_alerts_everyone():
    now = beijing("2026-06-10 23:30")
    assert {a.incident_id for a in run(night_clocks(now), now=now, quiet=None)} == {1, 2}


@pytest.mark.parametrize(
    "wall, held",
    [("2026-06-11 06:59", True), ("2026-06-11 07:00", False)],
)
def test_ordinary_alert_held_overnight_goes_out_when_quiet_hours_end(wall, held):
    start = beijing("2026-06-10 05:00")  # response due 05:00 next day, at risk from 01:00
    now = beijing(wall)
    alerts = run([clock(now - start, start=start)], now=now, quiet=NIGHT)
    assert keys(alerts) == ([] if held else ["incident:1:response:overdue"])


def test_held_at_risk_alert_still_relevant_after_quiet_hours_is_sent_then():
    start = beijing("2026-06-10 09:30")  # response due 09:30 next day, at risk from 05:30
    for wall, expected in [("2026-06-11 06:00", []), ("2026-06-11 07:00", ["incident:1:response:at_risk"])]:
        now = beijing(wall)
        assert keys(run([clock(now - start, start=start)], now=now, quiet=NIGHT)) == expected


def test_held_alert_for_a_window_met_overnight_never_goes_out():
    start = beijing("2026-06-10 09:30")
    now = beijing("2026-06-11 07:00")
    c = clock(now - start, start=start, actions=(("response", beijing("2026-06-11 06:00") - start),))
    assert run([c], now=now, quiet=NIGHT) == []


# --- feeds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "errors, stale, threshold, expected",
    [
        (0, False, 3, []),
        (2, False, 3, []),
        (3, False, 3, ["feed:3:failing"]),
        (1, False, 1, ["feed:3:failing"]),
        (0, True, 3, ["feed:3:stale"]),
        (2, True, 3, ["feed:3:stale"]),
        (5, True, 3, ["feed:3:failing"]),  # it is quiet because it fails: one alert, the cause
    ],
)
def test_feed_alerts_by_error_count_and_staleness(errors, stale, threshold, expected):
    alerts = run([], [feed(errors=errors, stale=stale)], now=START, feed_error_threshold=threshold)
    assert keys(alerts) == expected
    assert all(a.unit_code is None and a.feed_id == 3 and not a.flagged for a in alerts)


def test_failing_feed_alert_names_the_feed_and_its_last_error():
    [alert] = run([], [feed(errors=4, last_error="抓取超时\n（10 秒）")], now=START)
    assert alert.kind == "feed_failing"
    assert alert.text == render("AL_FEED_FAILING", name="三门峡日报", count=4, url="https://news.example.cn/rss.xml",
                                error="抓取超时 （10 秒）")


def test_feed_that_fails_again_after_recovering_alerts_again():
    first = feed(errors=3, failing_since=START)
    again = feed(errors=3, failing_since=START + 48 * H)
    [alert] = run([], [first], now=START + H)
    assert alert.key == "feed:3:failing:20260610T060000Z"
    assert keys(run([], [again], now=START + 49 * H, sent={alert.key})) == [feed_key(3, "feed_failing", START + 48 * H)]


def test_stale_episode_is_keyed_by_the_last_item():
    alerts = run([], [feed(stale=True, last_item_at=beijing("2026-06-01 08:00"))], now=START)
    assert keys(alerts) == ["feed:3:stale:20260601T000000Z"]


def test_feed_alerts_ignore_quiet_hours():
    now = beijing("2026-06-11 02:00")
    assert keys(run([], [feed(errors=3)], now=now, quiet=NIGHT)) == ["feed:3:failing"]


def test_feed_alerts_follow_incident_alerts():
    alerts = run([clock(26 * H)], [feed(errors=3)], now=START + 26 * H)
    assert [a.kind for a in alerts] == ["overdue", "feed_failing"]


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        due_alerts([], [], already_sent=set(), now=datetime(2026, 6, 10, 14, 0), quiet=None)
