"""The key of a deduction: how an appeal, a rectification and a frozen snapshot name one deduction.

`INCIDENT:PART:RULE`, where PART is a window key, `-` (the incident as a whole), `secondary-N` (a
secondary incident N of the incident) or `referral-N` (舆情函件 N about it); or `daily-N` for a daily
record N (`daily-DATE-HASH` for a record not stored yet). Keys are formatted and parsed only here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_INCIDENT = re.compile(r"^(\d{1,19}):([a-z_]+|-|secondary-\d{1,19}|referral-\d{1,19}):([a-z_]+)$")
_DAILY = re.compile(r"^daily-(\d{1,19})$")


@dataclass(frozen=True)
class DeductionKey:
    incident_id: int | None = None
    part: str = "-"
    rule: str = ""
    daily_id: int | None = None

    @classmethod
    def incident(cls, incident_id: int, part: str | None, rule: str) -> DeductionKey:
        return cls(incident_id=incident_id, part=part or "-", rule=rule)

    @classmethod
    def daily(cls, record_id: int) -> DeductionKey:
        return cls(daily_id=record_id)

    def format(self) -> str:
        if self.daily_id is not None:
            return f"daily-{self.daily_id}"
        return f"{self.incident_id}:{self.part}:{self.rule}"

    @classmethod
    def parse(cls, text: str) -> DeductionKey | None:
        """The key, or None when `text` is not one (a typing mistake in `appeal add KEY`)."""
        daily = _DAILY.match(text)
        if daily:
            return cls(daily_id=int(daily[1]))
        found = _INCIDENT.match(text)
        if not found:
            return None
        return cls(incident_id=int(found[1]), part=found[2], rule=found[3])

    @property
    def secondary_id(self) -> int | None:
        return int(self.part[10:]) if self.part.startswith("secondary-") else None

    @property
    def referral_id(self) -> int | None:
        return int(self.part[9:]) if self.part.startswith("referral-") else None
