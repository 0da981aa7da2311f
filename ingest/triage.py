"""Which items wait for a person, and which of them are about the same event (pure).

Items are grouped so staff decide once; items about different events — another place (unit) or
another kind (category or topic) — are never grouped, whatever their wording.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

SAME_EVENT_SPAN = timedelta(hours=48)
SIMILARITY = 0.2


@dataclass(frozen=True)
class ItemFacts:
    id: int
    title: str
    text: str
    published_at: datetime | None
    unit_code: str | None
    kind: str | None
    keywords: frozenset[str]

    @cached_property
    def bigrams(self) -> frozenset[str]:
        return frozenset(_bigrams(self.title + self.text[:120]))


def event_kind(classification: dict[str, Any] | None) -> str | None:
    """The kind of event: its category when it is an emergency, else its first opinion topic."""
    if not classification:
        return None
    if classification.get("sudden") and classification.get("category"):
        return str(classification["category"])
    if classification.get("category") and classification.get("flagged"):
        return str(classification["category"])
    topics = classification.get("topics") or []
    return f"topic:{topics[0]}" if topics else None


def needs_triage(classification: dict[str, Any] | None, unit_code: str | None) -> bool:
    """Flagged items and items with an opinion topic wait in the queue when they name a unit."""
    if not classification or unit_code is None:
        return False
    return bool(classification.get("flagged") or classification.get("topics"))


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text if not c.isspace()]
    return {a + b for a, b in zip(chars, chars[1:])}


def similarity(a: ItemFacts, b: ItemFacts) -> float:
    """Jaccard overlap of character bigrams of title + opening text, raised by shared trigger words."""
    sa, sb = a.bigrams, b.bigrams
    base = len(sa & sb) / len(sa | sb) if sa and sb else 0.0
    shared = len(a.keywords & b.keywords)
    return base + 0.15 * min(shared, 2)


def same_event(a: ItemFacts, b: ItemFacts) -> bool:
    if a.unit_code is None or a.unit_code != b.unit_code or a.kind is None or a.kind != b.kind:
        return False
    if a.published_at and b.published_at and abs(a.published_at - b.published_at) > SAME_EVENT_SPAN:
        return False
    return similarity(a, b) >= SIMILARITY


def group_key_for(item: ItemFacts, candidates: list[tuple[str, ItemFacts]]) -> str:
    """Join the group of the most similar pending item about the same event, or start a new one."""
    best: tuple[float, str] | None = None
    for key, other in candidates:
        if same_event(item, other):
            score = similarity(item, other)
            if best is None or score > best[0]:
                best = (score, key)
    if best is not None:
        return best[1]
    return f"{item.unit_code}|{item.kind}|{item.id}"


# --- where a stored item goes, and why -----------------------------------------------------------
# pending reasons: the row was chosen by a person (an import); flagged; an opinion topic; flagged but
# no unit named (the office chooses it at accept). ignored reasons: nothing flagged and no topic; a
# topic but no unit. A chosen row whose assigned-unit column did not resolve says so.
REASONS = ("chosen_row", "chosen_row_unit_unknown", "flagged", "topic", "flagged_no_unit", "no_topic", "no_unit")


def triage_decision(classification: dict[str, Any] | None, unit_code: str | None, *, chosen: bool = False,
                    unit_unresolved: bool = False) -> tuple[str, str]:
    """(state, reason) of a new item. Rows a person chose (vendor exports, 12345 lists, message
    boards, pushes) always wait in the queue; a flagged item with no unit waits for the office."""
    c = classification or {}
    if chosen:
        return "pending", "chosen_row_unit_unknown" if unit_unresolved else "chosen_row"
    if c.get("flagged"):
        return "pending", "flagged" if unit_code else "flagged_no_unit"
    if not c.get("topics"):
        return "ignored", "no_topic"
    if unit_code is None:
        return "ignored", "no_unit"
    return "pending", "topic"


# --- possible duplicates of an incident ----------------------------------------------------------
# rapidfuzz's token-set ratio over jieba tokens separated same-event pairs from other events of the
# same kind best on the CEC corpus (bench/similar_titles.py: F1 0.68 at 0.45, vs 0.61 for plain token
# overlap after jieba and 0.65 for a partial character ratio).
SIMILAR_INCIDENT = 0.45
SIMILAR_CLOSED_SPAN = timedelta(days=7)


def _squash(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def title_similarity(a: str, b: str) -> float:
    """0.0–1.0: rapidfuzz token_set_ratio over the jieba tokens of both titles (punctuation dropped),
    so a short hand-written title contained in a long headline scores high."""
    from rapidfuzz import fuzz

    from classify.segment import tokenizer_for

    x, y = _squash(a), _squash(b)
    if not x or not y:
        return 0.0
    tokenizer = tokenizer_for(())
    return float(fuzz.token_set_ratio(" ".join(tokenizer.lcut(x)), " ".join(tokenizer.lcut(y)))) / 100


def same_kind(classification: dict[str, Any] | None, category: str | None, topics: list[str] | None) -> bool:
    """An item and an incident are of the same kind when their categories agree, or — for an item
    with no category — when the incident has none either or shares an opinion topic."""
    c = classification or {}
    if c.get("category"):
        return category is None or category == c.get("category")
    item_topics = set(c.get("topics") or [])
    return category is None or bool(item_topics & set(topics or []))
