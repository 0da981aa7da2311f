"""Deadline windows of one incident, judged at `now` (DESIGN.md §2.1). Pure: no clock, no database."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from timeline.clock import require_aware
from timeline.presets import Preset, WindowRule


@dataclass(frozen=True)
class ActionAt:
    kind: str
    at: datetime


@dataclass(frozen=True)
class Grading:
    level: str | None
    sudden: bool | None
    category: str | None


@dataclass(frozen=True)
class Regrade:
    """A reclassification: at `at`, the grading changed from `before` to `after`."""

    at: datetime
    before: Grading
    after: Grading


@dataclass(frozen=True)
class Case:
    """Everything the engine needs about one incident."""

    started_at: datetime
    grading: Grading
    actions: tuple[ActionAt, ...] = ()
    regrades: tuple[Regrade, ...] = ()
    voided: bool = False


@dataclass(frozen=True)
class WindowVerdict:
    key: str
    hours: int
    applicable: bool
    due_at: datetime | None
    state: str
    satisfied_at: datetime | None
    remaining_seconds: int | None
    overdue_seconds: int | None
    at_risk: bool
    past_due_at_reclassification: bool


@dataclass(frozen=True)
class Verdict:
    flagged: bool
    preset: str
    windows: tuple[WindowVerdict, ...] = field(default_factory=tuple)

    def window(self, key: str) -> WindowVerdict:
        for verdict in self.windows:
            if verdict.key == key:
                return verdict
        raise KeyError(key)


def start_time(
    preset: Preset,
    *,
    first_post_at: datetime | None,
    detected_at: datetime | None,
    logged_at: datetime,
) -> datetime:
    """The clock anchor the preset names. `earliest_seen` is the first-seen time: the earliest of
    first publication online and detection (DESIGN.md §2.1); logged_at stands in for what is missing."""
    if preset.anchor == "first_post":
        return first_post_at or detected_at or logged_at
    if preset.anchor == "detected":
        return detected_at or logged_at
    if preset.anchor == "logged":
        return logged_at
    known = [t for t in (first_post_at, detected_at) if t is not None]
    return min(known) if known else logged_at


def _whole_seconds(delta_seconds: float) -> int:
    return int(math.floor(delta_seconds))


def _applies(rule: WindowRule, flagged: bool) -> bool:
    return rule.applies_to == "all" or flagged


def _became_applicable_after_due(rule: WindowRule, case: Case, preset: Preset, due: datetime) -> bool:
    """True when the latest reclassification that made this window applicable happened after its due
    time: the unit could not have known it owed this window before the deadline had passed."""
    result = False
    for regrade in sorted(case.regrades, key=lambda r: r.at):
        was = _applies(rule, preset.is_flagged(regrade.before.level, regrade.before.sudden))
        now_applies = _applies(rule, preset.is_flagged(regrade.after.level, regrade.after.sudden))
        if not was and now_applies:
            result = regrade.at > due
        elif was and not now_applies:
            result = False
    return result


def _judge(rule: WindowRule, case: Case, preset: Preset, flagged: bool, now: datetime) -> WindowVerdict:
    if case.voided or not _applies(rule, flagged):
        return WindowVerdict(rule.key, rule.hours, False, None, "not_applicable", None, None, None, False, False)
    due = case.started_at + rule.length
    satisfying = [a.at for a in case.actions if a.kind in rule.satisfied_by and a.at <= now]
    satisfied_at = min(satisfying) if satisfying else None
    remaining = overdue = None
    at_risk = False
    if satisfied_at is not None:
        # “within N hours” includes the end point: exactly start + N h is on time.
        state = "met" if satisfied_at <= due else "late"
        if state == "late":
            overdue = _whole_seconds((satisfied_at - due).total_seconds())
    elif now <= due:
        state = "open"
        remaining = _whole_seconds((due - now).total_seconds())
        at_risk = (due - now) <= rule.at_risk
    else:
        state = "overdue"
        overdue = _whole_seconds((now - due).total_seconds())
    past_due = state != "met" and _became_applicable_after_due(rule, case, preset, due)
    return WindowVerdict(rule.key, rule.hours, True, due, state, satisfied_at, remaining, overdue, at_risk, past_due)


def _utc_second(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def evaluate(case: Case, preset: Preset, *, now: datetime) -> Verdict:
    """Judge every window of `preset` for `case` at `now`.

    Windows run from the original start even after a reclassification. Only actions at or before
    `now` count. Voided incidents have no applicable window. Closing satisfies nothing.
    """
    require_aware(now, "now")
    require_aware(case.started_at, "started_at")
    # Arithmetic on UTC instants: Python adds hours to a zoned datetime in wall-clock time, which
    # would stretch or shrink a window across a daylight-saving change in the zone it was written in.
    # Deadlines are judged to the whole second (+24:00:00 on time, +24:00:01 late): fractions are
    # dropped so a verdict never disagrees with the times it prints.
    now = _utc_second(now)
    case = replace(
        case,
        started_at=_utc_second(case.started_at),
        actions=tuple(ActionAt(a.kind, _utc_second(a.at)) for a in case.actions),
        regrades=tuple(replace(r, at=_utc_second(r.at)) for r in case.regrades),
    )
    flagged = preset.is_flagged(case.grading.level, case.grading.sudden)
    windows = tuple(_judge(rule, case, preset, flagged, now) for rule in preset.windows)
    return Verdict(flagged=flagged, preset=preset.name, windows=windows)


def verdict_as_json(verdict: Verdict) -> dict[str, Any]:
    """The JSON shape of the command contract (times ISO 8601 with +08:00)."""
    from timeline.clock import iso_beijing

    return {
        "flagged": verdict.flagged,
        "preset": verdict.preset,
        "windows": [
            {
                "key": w.key,
                "hours": w.hours,
                "applicable": w.applicable,
                "due_at": iso_beijing(w.due_at),
                "state": w.state,
                "satisfied_at": iso_beijing(w.satisfied_at),
                "remaining_seconds": w.remaining_seconds,
                "overdue_seconds": w.overdue_seconds,
                "at_risk": w.at_risk,
                "past_due_at_reclassification": w.past_due_at_reclassification,
            }
            for w in verdict.windows
        ],
    }
