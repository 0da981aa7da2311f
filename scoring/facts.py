"""What scoring reads: frozen records the database layer (or a test) builds. Times are aware UTC."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from timeline.engine import Verdict


@dataclass(frozen=True)
class ActionFact:
    """One recorded response action. `channels` are codes of timeline.model.CHANNELS."""

    kind: str
    at: datetime
    channels: tuple[str, ...] = ()
    by_principal: bool = False


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

    @property
    def flagged(self) -> bool:
        return self.verdict.flagged


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
