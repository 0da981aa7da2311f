"""How far to trust the classifier: its stored suggestions against what people decided, per field.

A decision is one record a person settled, given as (field, suggested, decided), where None means
"no value" — for `sudden`, True is the value "sudden" and False or unknown is None, so the figures of
`sudden` are those of the sudden class. For every field:

    correct   = decisions where a value was suggested and it equals the decided value
    precision = correct / suggestions made   (decisions whose suggestion is not None)
    recall    = correct / decisions with a truth   (decisions whose decided value is not None)
    n         = decisions compared

A ratio with an empty denominator is undefined (None, shown as —), never 0 or 1.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FIELDS = ("sudden", "category", "level", "unit")


@dataclass(frozen=True)
class FieldAgreement:
    n: int = 0
    made: int = 0
    truths: int = 0
    correct: int = 0

    @property
    def precision(self) -> float | None:
        return self.correct / self.made if self.made else None

    @property
    def recall(self) -> float | None:
        return self.correct / self.truths if self.truths else None

    def add(self, suggested: str | None, decided: str | None) -> FieldAgreement:
        return FieldAgreement(
            n=self.n + 1,
            made=self.made + (suggested is not None),
            truths=self.truths + (decided is not None),
            correct=self.correct + (suggested is not None and suggested == decided),
        )


def sudden_value(value: bool | None) -> str | None:
    """`sudden` as a value of the sudden class: True → "sudden", False or unknown → None."""
    return "sudden" if value is True else None


def agreement(decisions: Iterable[tuple[str, str | None, str | None]]) -> dict[str, FieldAgreement]:
    """The figures of every field in FIELDS (a field with no decision has n 0 and undefined ratios)."""
    result = dict.fromkeys(FIELDS, FieldAgreement())
    for field, suggested, decided in decisions:
        result[field] = result[field].add(suggested, decided)  # a field outside FIELDS is a bug: KeyError
    return result
