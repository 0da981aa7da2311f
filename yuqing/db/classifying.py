"""Glue between the pure classifier and stored data: one classifier per unit registry, per process."""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from classify import Classifier, classify_json
from classify.units import UnitRef
from timeline.presets import load_preset
from yuqing.db.service import Suggestion


@lru_cache(maxsize=4)
def classifier_for(units: tuple[UnitRef, ...]) -> Classifier:
    return Classifier.default(units=units)


def classify_text(classifier: Classifier, preset: str, title: str | None, text: str) -> dict[str, Any]:
    """The contract object of `yuqing classify` (id null), with `flagged` by the preset's predicate."""
    result = classifier.classify(text, title=title)
    flagged = load_preset(preset).is_flagged(result.level, result.sudden)
    return classify_json(result, None, flagged)


def suggester(classifier: Classifier, preset: str) -> Callable[[str, str | None], Suggestion]:
    """The write service's hook: fills level / sudden / category a person left empty."""

    def suggest(title: str, summary: str | None) -> Suggestion:
        data = classify_text(classifier, preset, title, summary or "")
        return Suggestion(
            level=data["level"],
            sudden=data["sudden"],
            category=data["category"],
            rules_version=data["rules_version"],
            details={"keywords": data["keywords"], "figures": data["figures"], "topics": data["topics"],
                     "unit": data["unit"]},
        )

    return suggest


@lru_cache(maxsize=1)
def topic_names() -> dict[str, str]:
    """Display names of the opinion-topic codes (谣言误读, 民生诉求, …) from the rule data."""
    from classify.ruleset import load_rules

    return {topic.code: topic.name for topic in load_rules().topics}


def keyword_text(keywords: list[str]) -> str:
    """Keywords for people: a leading `!` marks a context word that cancelled or weakened a trigger."""
    shown = [f"{k[1:]}（抵消）" if k.startswith("!") else k for k in keywords]
    return "、".join(shown) if shown else "无"
