"""Which items wait for a person, and which of them are about the same event (pure).

Items are grouped so staff decide once; items about different events — another place (unit) or
another kind (category or topic) — are never grouped, whatever their wording.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

SAME_EVENT_SPAN = timedelta(hours=48)
# A group's items span at most a week: a report further from the group's first (or last) item opens
# a group of its own, so the open groups near a time are read by a bounded range on their span.
GROUP_SPAN_LIMIT = timedelta(days=7)
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
    chars = [c for c in text if not c.isspace() and c != "\x00"]
    return {a + b for a, b in zip(chars, chars[1:])}


def _overlap(bigrams_a: frozenset[str], keywords_a: frozenset[str], bigrams_b: frozenset[str],
             keywords_b: frozenset[str]) -> float:
    base = len(bigrams_a & bigrams_b) / len(bigrams_a | bigrams_b) if bigrams_a and bigrams_b else 0.0
    return base + 0.15 * min(len(keywords_a & keywords_b), 2)


def similarity(a: ItemFacts, b: ItemFacts) -> float:
    """Jaccard overlap of character bigrams of title + opening text, raised by shared trigger words."""
    return _overlap(a.bigrams, a.keywords, b.bigrams, b.keywords)


def same_event(a: ItemFacts, b: ItemFacts) -> bool:
    if a.unit_code is None or a.unit_code != b.unit_code or a.kind is None or a.kind != b.kind:
        return False
    if a.published_at and b.published_at and abs(a.published_at - b.published_at) > SAME_EVENT_SPAN:
        return False
    return similarity(a, b) >= SIMILARITY


# --- grouping in linear time ---------------------------------------------------------------------
# A new item is compared with ONE representative per open group of its bucket (same unit, same kind,
# within SAME_EVENT_SPAN of one of the group's items: its span is kept with it), never with every
# pending item. The representative's bigrams and trigger
# words are computed once, when it is stored, and kept as its fingerprint (a text column), so a
# comparison costs two set operations. At most REPRESENTATIVES groups of a bucket are compared (the
# newest): the cost of an item is bounded whatever the size of the queue.
REPRESENTATIVES = 1000


def fingerprint(facts: ItemFacts) -> str:
    """The stored form of what grouping compares: trigger words (tab-separated), a newline, then the
    sorted bigrams concatenated (each exactly two characters; whitespace never occurs in them)."""
    words = "\t".join(sorted(" ".join(w.split()) for w in facts.keywords if w.strip()))
    return words + "\n" + "".join(sorted(facts.bigrams))


@dataclass(frozen=True)
class Representative:
    """An open group as grouping sees it: its key, its representative item's fingerprint and the
    group's time span (its items' earliest and latest publication; None when none is dated)."""

    key: str
    bigrams: frozenset[str]
    keywords: frozenset[str]
    first_at: datetime | None = None
    last_at: datetime | None = None

    @classmethod
    def stored(cls, key: str, text: str, first_at: datetime | None = None,
               last_at: datetime | None = None) -> Representative:
        words, _, pairs = text.partition("\n")
        return cls(key, frozenset(pairs[i:i + 2] for i in range(0, len(pairs) - 1, 2)),
                   frozenset(words.split("\t")) if words else frozenset(), first_at, last_at or first_at)

    def near(self, moment: datetime | None) -> bool:
        """Within SAME_EVENT_SPAN of one of the group's items' times, the group then spanning no more
        than GROUP_SPAN_LIMIT (undated: always)."""
        if moment is None or self.first_at is None or self.last_at is None:
            return True
        return (self.first_at - SAME_EVENT_SPAN <= moment <= self.last_at + SAME_EVENT_SPAN
                and max(self.last_at, moment) - min(self.first_at, moment) <= GROUP_SPAN_LIMIT)

    def spanning(self, moment: datetime | None) -> Representative:
        """The same group with an item of this time added."""
        if moment is None:
            return self
        first = moment if self.first_at is None else min(self.first_at, moment)
        last = moment if self.last_at is None else max(self.last_at, moment)
        return Representative(self.key, self.bigrams, self.keywords, first, last)


class GroupIndex:
    """Open groups by (unit, kind): where a new item goes, in time bounded by its bucket's groups."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], list[Representative]] = {}

    def add(self, unit_code: str, kind: str, representative: Representative) -> None:
        bucket = self._buckets.setdefault((unit_code, kind), [])
        bucket.append(representative)
        if len(bucket) > 2 * REPRESENTATIVES:
            del bucket[:len(bucket) - REPRESENTATIVES]

    def place(self, item: ItemFacts, new_key: str) -> str:
        """The key of the most similar open group about the same event (same unit and kind, within
        SAME_EVENT_SPAN of one of its items' times, similarity to its representative ≥ SIMILARITY),
        which then spans this item's time too; or `new_key`, which then opens a group with this item
        as its representative. No unit or no kind: always alone."""
        if item.unit_code is None or item.kind is None:
            return new_key
        bucket = self._buckets.setdefault((item.unit_code, item.kind), [])
        best: tuple[float, int] | None = None
        moment, bigrams, keywords = item.published_at, item.bigrams, item.keywords
        start = max(0, len(bucket) - REPRESENTATIVES)
        for at in range(start, len(bucket)):
            rep = bucket[at]
            if not rep.near(moment):
                continue
            score = _overlap(bigrams, keywords, rep.bigrams, rep.keywords)
            if score >= SIMILARITY and (best is None or score > best[0]):
                best = (score, at)
        if best is not None:
            joined = bucket[best[1]]
            bucket[best[1]] = joined.spanning(moment)
            return joined.key
        self.add(item.unit_code, item.kind, Representative(new_key, bigrams, keywords, moment, moment))
        return new_key


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
    return token_similarity(title_tokens(a), title_tokens(b))


def title_tokens(title: str) -> str:
    """A title's jieba tokens joined by spaces (punctuation dropped): compute once, compare many times."""
    from classify.segment import tokenizer_for

    x = _squash(title)
    return " ".join(tokenizer_for(()).lcut(x)) if x else ""


def token_similarity(x: str, y: str) -> float:
    """title_similarity of two titles already turned into tokens by title_tokens."""
    from rapidfuzz import fuzz

    if not x or not y:
        return 0.0
    return float(fuzz.token_set_ratio(x, y)) / 100


def kind_keys(category: str | None, topics: Iterable[str] | None) -> set[tuple[str, str | None]]:
    """What an incident of this category and these opinion topics is found under (see same_kind)."""
    return {("category", category), *(("topic", t) for t in topics or ())}


def kind_wanted(classification: dict[str, Any] | None) -> set[tuple[str, str | None]]:
    """The keys of kind_keys an item of this classification is compared under: with a category, the
    incidents of that category or none; without, those of no category or sharing an opinion topic."""
    c = classification or {}
    if c.get("category"):
        return {("category", None), ("category", c["category"])}
    return {("category", None), *(("topic", t) for t in c.get("topics") or ())}


def same_kind(classification: dict[str, Any] | None, category: str | None, topics: list[str] | None) -> bool:
    """An item and an incident are of the same kind when their categories agree, or — for an item
    with no category — when the incident has none either or shares an opinion topic. One rule for the
    single comparison and for an index of incidents by kind_keys (yuqing.db.triage's pools)."""
    return bool(kind_wanted(classification) & kind_keys(category, topics))
