"""What scoring reads: frozen records the database layer (or a test) builds. Times are aware UTC."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from timeline.engine import Verdict, WindowVerdict


@dataclass(frozen=True)
class ActionFact:
    """One recorded response action. `channels` are codes of timeline.model.CHANNELS."""

    kind: str
    at: datetime
    channels: tuple[str, ...] = ()
    by_principal: bool = False


@dataclass(frozen=True)
class TransferFact:
    """转办: the lead moved from `from_code` to `to_code` at `at`."""

    at: datetime
    from_code: str
    to_code: str


@dataclass(frozen=True)
class ScoredIncident:
    """One incident with its verdict judged at the same `now` that scoring gets."""

    id: int
    title: str
    unit_code: str
    started_at: datetime
    verdict: Verdict
    actions: tuple[ActionFact, ...] = ()
    co_unit_codes: tuple[str, ...] = ()
    parent_id: int | None = None
    voided: bool = False
    level: str | None = None
    sudden: bool | None = None
    category: str | None = None
    transfers: tuple[TransferFact, ...] = ()  # in the order they happened

    @property
    def flagged(self) -> bool:
        return self.verdict.flagged

    def lead_at(self, moment: datetime) -> str:
        """The lead unit at `moment`: a transfer at the moment itself does not yet count, so a window
        due at that instant stays with the unit whose full time ran out."""
        lead = self.transfers[0].from_code if self.transfers else self.unit_code
        for transfer in self.transfers:
            if transfer.at < moment:
                lead = transfer.to_code
        return lead

    def window_unit(self, window: WindowVerdict) -> str:
        """The unit a window counts for: the lead at its due instant, or at its satisfying action if earlier."""
        if window.due_at is None:
            return self.unit_code
        moment = window.due_at
        if window.satisfied_at is not None and window.satisfied_at < moment:
            moment = window.satisfied_at
        return self.lead_at(moment)

    def lead_codes(self) -> set[str]:
        """Every unit that bears a window of this incident, and the current lead."""
        return {self.unit_code} | {self.window_unit(w) for w in self.verdict.windows if w.applicable}


@dataclass(frozen=True)
class Referral:
    """A 舆情函件: the office refers `incident_id` to `unit_code`; `due_at` from workdays.referral_due_at."""

    id: int
    incident_id: int
    unit_code: str
    sent_at: datetime
    due_at: datetime
    replied_at: datetime | None = None


@dataclass(frozen=True)
class ManualScore:
    """Points the assessment team gives a manual indicator (0 ≤ points ≤ the indicator's max)."""

    unit_code: str
    indicator: str
    points: float
    note: str = ""


@dataclass(frozen=True)
class SpecialItem:
    """A 特别加分项/特别减分项 record. `points` is a magnitude (≥ 0); None takes the scheme's default.
    The item's kind in the scheme decides whether it adds or subtracts."""

    unit_code: str
    year: int
    item: str
    points: float | None = None
    evidence: str = ""
    on: date | None = None
    id: int | None = None


@dataclass(frozen=True)
class Zeroing:
    """直接归零项 (第十六条): falsification found in daily work, self-inspection or assessment."""

    unit_code: str
    year: int
    evidence: str
    on: date | None = None


@dataclass(frozen=True)
class DailyRecord:
    """日常考核 record (第十条), signed: +2 adds, -1 deducts. `indicator` names the assessment item it
    adjusts (核减或核加相应考核项目分数); None means the total."""

    unit_code: str
    on: date
    points: float
    reason: str
    indicator: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class AppealDecision:
    """The decision on a unit's appeal against one deduction (named by its stable key)."""

    deduction_key: str
    unit_code: str
    overturned: bool
    decided_at: datetime
    reason: str = ""
