"""The opinion indicators computed from data (政务舆情监测处置, 附件2/附件3): deductions per unit.

One pass over the year's incidents and referrals; every amount comes from the scheme. An incident
counts in the Beijing year its clock started, for its lead unit (and co-units if the scheme says so).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from classify.units import UnitRef
from scoring.facts import ActionFact, AppealDecision, Referral, ScoredIncident
from scoring.keys import DeductionKey
from scoring.results import Deduction, round2
from scoring.scheme import TREE_OF_KIND, Scheme
from scoring.wallclock import duration, stamp
from timeline.clock import BEIJING
from timeline.engine import WindowVerdict
from timeline.model import CHANNELS, WINDOW_KEYS, WINDOW_NAMES
from timeline.words import YuqingError
from timeline.words import say as render

RESPONSE_KINDS = frozenset(("response", "release", "press_conference"))


@dataclass
class Ledger:
    """What one unit collected during the pass (mutable while scoring, internal)."""

    incidents: int = 0
    windows: dict[str, list[int]] = field(default_factory=lambda: {k: [0, 0, 0, 0, 0] for k in WINDOW_KEYS})
    referrals: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])
    deductions: dict[str, list[Deduction]] = field(default_factory=lambda: defaultdict(list))


# index into the count lists: applicable, met, late, overdue, open
_STATE_INDEX = {"met": 1, "late": 2, "overdue": 3, "open": 4}


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 Jan 00:00, next 1 Jan 00:00) Beijing time: the assessment year is a Beijing calendar year.
    Returned in UTC: comparing datetimes that share a tzinfo skips the zone lookups (hot loop)."""
    return (
        datetime(year, 1, 1, tzinfo=BEIJING).astimezone(UTC),
        datetime(year + 1, 1, 1, tzinfo=BEIJING).astimezone(UTC),
    )


def within(value: datetime, bounds: tuple[datetime, datetime]) -> bool:
    return bounds[0] <= value < bounds[1]


def deadline_state(done_at: datetime | None, due_at: datetime, now: datetime) -> str:
    """The one rule for anything due by an instant (a referral reply, a rectification): done at or
    before the due instant is on time (whole seconds); met | late | open (not done, not yet due) |
    overdue (not done, due passed). Something done after `now` is not yet known."""
    done = done_at if done_at is not None and done_at <= now else None
    if done is not None:
        return "met" if done.replace(microsecond=0) <= due_at else "late"
    return "open" if now.replace(microsecond=0) <= due_at else "overdue"


def referral_state(referral: Referral, now: datetime) -> str:
    """舆情函件处置及时: a reply at or before 23:59:59 of the due day is on time."""
    return deadline_state(referral.replied_at, referral.due_at, now)


def overturned_keys(appeals: Iterable[AppealDecision]) -> set[tuple[str, str]]:
    """(unit_code, deduction_key) pairs whose latest decision upheld the unit's appeal."""
    latest: dict[tuple[str, str], AppealDecision] = {}
    for appeal in appeals:
        slot = (appeal.unit_code, appeal.deduction_key)
        if slot not in latest or appeal.decided_at >= latest[slot].decided_at:
            latest[slot] = appeal
    return {slot for slot, appeal in latest.items() if appeal.overturned}


def attribution(incident: ScoredIncident, scheme: Scheme) -> list[tuple[str, float]]:
    """Units an incident counts for, with the share of each deduction they carry."""
    units = [(incident.unit_code, 1.0)]
    if scheme.co_units == "shared":
        seen = {incident.unit_code}
        for code in incident.co_unit_codes:
            if code not in seen:
                seen.add(code)
                units.append((code, scheme.co_unit_share))
    return units


def settled(incident: ScoredIncident) -> bool:
    """No applicable window is still open at `now`: only then are authority, coverage and
    continuity judged (an open window is counted as open, not judged)."""
    return not any(w.applicable and w.state == "open" for w in incident.verdict.windows)


class Collector:
    """Accumulates deductions for every unit; `run` does one pass over incidents and referrals."""

    def __init__(
        self,
        scheme: Scheme,
        units: Mapping[str, UnitRef],
        year: int,
        now: datetime,
        overturned: set[tuple[str, str]],
    ) -> None:
        self.scheme = scheme
        self.units = units
        self.bounds = year_bounds(year)
        self.now = now
        self.overturned = overturned
        self.ledgers: dict[str, Ledger] = defaultdict(Ledger)
        # per unit kind: source → indicator code (only the sources that kind's tree computes)
        self.sources: dict[str, dict[str, str]] = {
            kind: {i.source: i.code for i in tree.indicators if i.computed} for kind, tree in scheme.trees.items()
        }
        self.params = {
            kind: {i.source: i.params for i in tree.indicators if i.computed} for kind, tree in scheme.trees.items()
        }
        for kind, tree_kind in TREE_OF_KIND.items():  # towns and enterprises on the tree they share
            if kind not in self.sources:
                self.sources[kind], self.params[kind] = self.sources[tree_kind], self.params[tree_kind]

    # -- helpers ---------------------------------------------------------------------------
    def _unit(self, code: str, what: str) -> UnitRef:
        unit = self.units.get(code)
        if unit is None:
            raise YuqingError("E_SCORING_INPUT", problem=f"{what}的单位 {code!r} 不在参加考核的单位名单中")
        return unit

    def _add(self, unit: UnitRef, source: str, key: str, incident_id: int | None, window: str | None,
             rule: str, points: float, evidence: str, flagged: bool = False) -> None:
        self.ledgers[unit.code].deductions[source].append(
            Deduction(
                key=key,
                incident_id=incident_id,
                window=window,
                rule=rule,
                points=round2(points),
                evidence=evidence,
                flagged=flagged,
                overturned=(unit.code, key) in self.overturned,
            )
        )

    # -- the pass --------------------------------------------------------------------------
    def run(self, incidents: Sequence[ScoredIncident], referrals: Sequence[Referral]) -> dict[str, Ledger]:
        by_id = {i.id: i for i in incidents}
        for incident in incidents:
            if incident.voided or not within(incident.started_at, self.bounds):
                continue
            self._incident(incident)
            if incident.parent_id is not None:
                self._secondary(incident, by_id)
        for referral in referrals:
            if not within(referral.sent_at, self.bounds):
                continue
            parent = by_id.get(referral.incident_id)
            if parent is not None and parent.voided:
                continue
            self._referral(referral)
        return self.ledgers

    def _incident(self, incident: ScoredIncident) -> None:
        targets = [(self._unit(code, f"舆情 #{incident.id} "), share) for code, share in attribution(incident, self.scheme)]
        co_targets = targets[1:]
        is_settled = settled(incident)
        actions = [a for a in incident.actions if a.at <= self.now]
        counted: set[str] = set()
        # Each window counts for the unit that led at its due instant (or its satisfying action, if
        # earlier): a transfer does not move blame that had already fallen due. Co-units as before.
        for w in incident.verdict.windows:
            if not w.applicable:
                continue
            lead = self._unit(incident.window_unit(w), f"舆情 #{incident.id} ")
            for unit, share in [(lead, 1.0)] + [(u, s) for u, s in co_targets if u.code != lead.code]:
                ledger = self.ledgers[unit.code]
                if unit.code not in counted:
                    counted.add(unit.code)
                    ledger.incidents += 1
                counts = ledger.windows[w.key]
                counts[0] += 1
                index = _STATE_INDEX.get(w.state)
                if index is not None:
                    counts[index] += 1
                if w.state in ("late", "overdue") and "timeliness" in self.sources[unit.kind]:
                    self._timeliness(unit, share, incident, w, self.params[unit.kind]["timeliness"])
        for unit, share in targets:
            if unit.code not in counted:
                counted.add(unit.code)
                self.ledgers[unit.code].incidents += 1
            if not is_settled:
                continue
            sources = self.sources[unit.kind]
            params = self.params[unit.kind]
            if "authority" in sources and incident.flagged and not any(a.by_principal for a in actions):
                self._add(unit, "authority", DeductionKey.incident(incident.id, None, "no_principal").format(), incident.id, None, "no_principal",
                          params["authority"]["per_incident"] * share,
                          render("EV_NO_PRINCIPAL", title=incident.title), incident.flagged)
            if "coverage" in sources:
                self._coverage(unit, share, incident, actions, params["coverage"])
            if "continuity" in sources:
                self._follow_up(unit, share, incident, actions, params["continuity"])

    def _timeliness(self, unit: UnitRef, share: float, incident: ScoredIncident, w: WindowVerdict, p: Mapping[str, Any]) -> None:
        flagged = incident.flagged
        rule = w.state
        amount_flagged = flagged
        evidence_flag = render("EV_FLAGGED_SUFFIX") if flagged else ""
        if w.state == "late":
            evidence = render(
                "EV_WINDOW_LATE", window=WINDOW_NAMES[w.key], due=stamp(w.due_at),
                at=stamp(w.satisfied_at), duration=duration(w.overdue_seconds or 0), flag=evidence_flag,
            )
        else:
            evidence = render(
                "EV_WINDOW_OVERDUE", window=WINDOW_NAMES[w.key], due=stamp(w.due_at),
                now=stamp(self.now), duration=duration(w.overdue_seconds or 0), flag=evidence_flag,
            )
        treatment = self.scheme.past_due_at_reclassification
        if w.past_due_at_reclassification:
            evidence = evidence + "；" + render(
                "EV_PAST_DUE_RECLASSIFIED", window=WINDOW_NAMES[w.key], due=stamp(w.due_at),
                treatment=render(f"PAST_DUE_{treatment}"),
            )
            if treatment == "exempt":
                rule = "past_due_at_reclassification"
            elif treatment == "unflagged_rate":
                amount_flagged = False
        if rule == "past_due_at_reclassification":
            points = 0.0
        else:
            points = p[f"{w.state}_flagged"] if amount_flagged else p[w.state]
        self._add(unit, "timeliness", DeductionKey.incident(incident.id, w.key, rule).format(), incident.id, w.key, rule,
                  points * share, evidence, flagged)

    def _coverage(self, unit: UnitRef, share: float, incident: ScoredIncident, actions: Sequence[ActionFact], p: Mapping[str, Any]) -> None:
        if p["applies_to"] == "flagged" and not incident.flagged:
            return
        reached: list[str] = []
        for action in actions:
            for channel in action.channels:
                if channel not in CHANNELS:
                    raise YuqingError("E_SCORING_INPUT", problem=f"舆情 #{incident.id} 的处置渠道 {channel!r} 无效")
                if channel not in reached:
                    reached.append(channel)
        if len(reached) >= p["min_channels"]:
            return
        names = "、".join(CHANNELS[c] for c in reached) or "无"
        self._add(unit, "coverage", DeductionKey.incident(incident.id, None, "few_channels").format(), incident.id, None, "few_channels",
                  p["per_incident"] * share,
                  render("EV_FEW_CHANNELS", title=incident.title, count=len(reached), channels=names,
                         required=p["min_channels"]), incident.flagged)

    def _follow_up(self, unit: UnitRef, share: float, incident: ScoredIncident, actions: Sequence[ActionFact], p: Mapping[str, Any]) -> None:
        if p["applies_to"] == "flagged" and not incident.flagged:
            return
        responses = [a.at for a in actions if a.kind in RESPONSE_KINDS]
        if responses:
            first = min(responses)
            kinds = p["follow_up_kinds"]
            if any(a.at > first and a.kind in kinds for a in actions):
                return
            evidence = render("EV_NO_FOLLOW_UP", title=incident.title, first=stamp(first))
        else:
            evidence = render("EV_NO_RESPONSE_FOLLOW_UP", title=incident.title)
        self._add(unit, "continuity", DeductionKey.incident(incident.id, None, "no_follow_up").format(), incident.id, None, "no_follow_up",
                  p["per_missing_follow_up"] * share, evidence, incident.flagged)

    def _secondary(self, child: ScoredIncident, by_id: Mapping[int, ScoredIncident]) -> None:
        """A 次生舆情 counts against the continuity of the incident it grew from (附件3 持续有效),
        in the year the secondary incident started."""
        parent = by_id.get(child.parent_id)  # type: ignore[arg-type]  # only secondary incidents reach here, and they have a parent id
        if parent is None:
            raise YuqingError(
                "E_SCORING_INPUT", problem=f"次生舆情 #{child.id} 的上级舆情 #{child.parent_id} 不在评分数据中"
            )
        if parent.voided:
            return
        for code, share in attribution(parent, self.scheme):
            unit = self._unit(code, f"舆情 #{parent.id} ")
            if "continuity" not in self.sources[unit.kind]:
                continue
            p = self.params[unit.kind]["continuity"]
            self._add(unit, "continuity", DeductionKey.incident(parent.id, f"secondary-{child.id}", "secondary_incident").format(), parent.id, None,
                      "secondary_incident", p["per_secondary"] * share,
                      render("EV_SECONDARY", parent=parent.title, child=child.id, title=child.title,
                             at=stamp(child.started_at)), parent.flagged)

    def _referral(self, referral: Referral) -> None:
        unit = self._unit(referral.unit_code, f"函件 #{referral.id} ")
        counts = self.ledgers[unit.code].referrals
        counts[0] += 1
        state = referral_state(referral, self.now)
        counts[_STATE_INDEX[state]] += 1
        if state in ("met", "open") or "referrals" not in self.sources[unit.kind]:
            return
        p = self.params[unit.kind]["referrals"]
        common = {"id": referral.id, "sent": stamp(referral.sent_at), "due": stamp(referral.due_at)}
        if state == "late":
            rule, evidence = "referral_late", render("EV_REFERRAL_LATE", replied=stamp(referral.replied_at), **common)
        else:
            rule, evidence = "referral_overdue", render("EV_REFERRAL_OVERDUE", now=stamp(self.now), **common)
        self._add(unit, "referrals", DeductionKey.incident(referral.incident_id, f"referral-{referral.id}", rule).format(), referral.incident_id,
                  None, rule, p[state], evidence)
