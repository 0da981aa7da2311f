"""The responsible unit named by a text (DESIGN.md §2.4: 属地管理、分级负责、谁主管谁负责).

Place names (counties, zones, their short and former names) and department names (full names,
aliases, predecessors) come from the unit registry. The place where it happened outranks a
department that is mentioned; within each kind the first mention wins (the title is read first).
A merged unit's old names resolve to its successor.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from classify.segment import Segmenter
from classify.units import UnitRef

# Aliases this short (湖滨, 消防, 交警) must be whole tokens: 消防安全 is not the fire brigade.
SHORT_ALIAS = 2


@dataclass(frozen=True)
class UnitMention:
    unit: UnitRef
    name: str
    start: int


class UnitMatcher:
    def __init__(self, units: tuple[UnitRef, ...]) -> None:
        by_code = {u.code: u for u in units}
        owners: dict[str, set[str]] = {}
        for unit in units:
            target = unit
            hops = 0
            while not target.active and target.merged_into in by_code and hops < 5:
                target = by_code[target.merged_into]
                hops += 1
            if not target.active:
                continue
            # Codes are identifiers, not words that occur in news.
            for name in (unit.name, *unit.aliases, *unit.predecessors):
                owners.setdefault(name, set()).add(target.code)
        # A name shared by two units says nothing about which one is meant.
        self._owner = {name: by_code[next(iter(codes))] for name, codes in owners.items() if len(codes) == 1}
        names = sorted(self._owner, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, names))) if names else None

    def names(self) -> tuple[str, ...]:
        return tuple(self._owner)

    def mentions(self, text: str, segmenter: Segmenter) -> list[UnitMention]:
        if self._pattern is None:
            return []
        found: list[UnitMention] = []
        for match in self._pattern.finditer(text):
            name = match.group()
            if len(name) <= SHORT_ALIAS and not segmenter.is_whole(match.start(), match.end()):
                continue
            found.append(UnitMention(self._owner[name], name, match.start()))
        return found

    def responsible(self, text: str, segmenter: Segmenter) -> UnitRef | None:
        mentions = self.mentions(text, segmenter)
        for kind in ("county", "department"):
            for mention in mentions:
                if mention.unit.kind == kind:
                    return mention.unit
        return None
