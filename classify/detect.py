"""Event and topic detection: rule words found as whole tokens, weighed, and cancelled by context.

A trigger's weight is multiplied by the smallest factor of the contexts that reach it (演练 in its
sentence, 讲座 in its clause, 辟谣 in the title …); each distinct word counts once, at its best mention.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from classify.ruleset import Context, EventType, Rules
from classify.segment import Segmenter

CLAUSE_BREAKS = re.compile(r"[，。；：！？,;:!?\n]")
SENTENCE_BREAKS = re.compile(r"[。！？!?\n]")
OPEN_QUOTES = "“‘「『\"'《"
CLOSE_QUOTES = "”’」』\"'》"
QUOTE_REACH = 6  # a quotation this short around a trigger is a figure of speech: 房价“地震”, “车祸现场”


def trie_pattern(words: Iterable[str]) -> str:
    """One regex alternation shaped as a prefix tree: at each position the engine tests only the
    branches that start with the character there (fast with many hundred words)."""
    root: dict[str, dict[str, Any]] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict[str, Any]]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


class Spans:
    """Clause and sentence spans of one text, found by position."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        self._clauses = [m.start() for m in CLAUSE_BREAKS.finditer(text)]
        self._sentences = [m.start() for m in SENTENCE_BREAKS.finditer(text)]

    def _around(self, breaks: list[int], pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(breaks, pos)
        start = breaks[i - 1] + 1 if i > 0 else 0
        end = breaks[i] if i < len(breaks) else self.length
        if i > 0 and breaks[i - 1] == pos:  # pos is itself a break character
            start = pos
        return start, end

    def clause(self, pos: int) -> tuple[int, int]:
        return self._around(self._clauses, pos)

    def sentence(self, pos: int) -> tuple[int, int]:
        return self._around(self._sentences, pos)

    def lead(self) -> tuple[int, int]:
        return self.sentence(0)

    def scope(self, scope: str, pos: int) -> tuple[int, int]:
        if scope == "clause":
            return self.clause(pos)
        if scope == "sentence":
            return self.sentence(pos)
        if scope == "lead":
            return self.lead()
        return 0, self.length


@dataclass
class Detection:
    """What the words say, before figures: scores per event type and category, topics, explanation."""

    type_scores: dict[str, float] = field(default_factory=dict)
    category_scores: dict[str, float] = field(default_factory=dict)
    first_seen: dict[str, int] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    topic_words: list[str] = field(default_factory=list)
    blocked: list[tuple[int, int]] = field(default_factory=list)
    trigger_sentences: list[tuple[int, int]] = field(default_factory=list)
    in_lead: bool = False

    def best_category(self) -> tuple[str | None, float]:
        if not self.category_scores:
            return None, 0.0
        category = max(self.category_scores, key=lambda c: (self.category_scores[c], -self.first_seen[c]))
        return category, self.category_scores[category]


class Detector:
    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._events = {e.key: e for e in rules.events}
        vocab: dict[str, list[tuple[str, str, float]]] = {}
        for event in rules.events:
            for word, weight in event.words:
                vocab.setdefault(word, []).append(("event", event.key, weight))
        for topic in rules.topics:
            for word, weight in topic.words:
                vocab.setdefault(word, []).append(("topic", topic.code, weight))
        self.vocab = vocab
        self.longest = max(map(len, vocab))
        self._vocab_re = re.compile(trie_pattern(vocab))
        self._contexts: dict[str, list[Context]] = {}
        for context in rules.contexts:
            for word in context.words:
                self._contexts.setdefault(word, []).append(context)
        self._context_re = re.compile(trie_pattern(self._contexts))
        self._cue_re = re.compile(trie_pattern(rules.cues))

    def detect(self, text: str, segmenter: Segmenter) -> Detection:
        found = Detection()
        hits: list[tuple[int, int, str]] = []
        lexicon = self.rules.lexicon
        for match in self._vocab_re.finditer(text):
            found_in_run = segmenter.words_in_run(match.start(), self.vocab, self.longest)
            for start, end, word, token, token_start in found_in_run:
                if token is not None:
                    # Inside a longer token only a strong or medium word counts, and only when the
                    # token is not a known non-event (地震局, 爆炸式).
                    if not self._counts_inside(word) or not lexicon.allows_inside(token, word, start - token_start):
                        continue
                if start > 0 and text[start - 1] in lexicon.negating:
                    continue
                hits.append((start, end, word))
        if not hits:
            return found
        # A word inside a longer matched word is that word's part, not a second word (火灾事故 ⊃ 火灾).
        hits.sort(key=lambda h: (h[0], -h[1]))
        kept: list[tuple[int, int, str]] = []
        for hit in hits:
            if not any(k[0] <= hit[0] and hit[1] <= k[1] and (k[0], k[1]) != (hit[0], hit[1]) for k in kept):
                kept.append(hit)
        hits = kept
        event_hits = [h for h in hits if any(kind == "event" for kind, _, _ in self.vocab[h[2]])]
        if event_hits:
            self._score_events(text, event_hits, found)
        self._score_topics(hits, found)
        return found

    def _counts_inside(self, word: str) -> bool:
        for kind, _, weight in self.vocab[word]:
            if kind == "event" and weight > self.rules.weak_weight:
                return True
            if kind == "topic" and weight >= self.rules.topic_strong_weight:
                return True
        return False

    def cue_score(
        self, text: str, sentences: Iterable[tuple[int, int]], ignore: frozenset[str] = frozenset()
    ) -> float:
        """Cues count only in the given sentences (those of the triggers that counted): the report of
        what happened sits next to the event word, while long articles hold 今天/发生/目前 anywhere."""
        sudden = self.rules.sudden
        distinct: set[str] = set()
        for start, end in sentences:
            distinct.update(m.group() for m in self._cue_re.finditer(text, start, end))
        return min(sudden.cue_cap, sudden.cue_weight * len(distinct - ignore))

    def _context_hits(self, text: str) -> list[tuple[int, int, str]]:
        return [(m.start(), m.end(), m.group()) for m in self._context_re.finditer(text)]

    def blocked_spans(
        self, text: str, spans: Spans, context_hits: list[tuple[int, int, str]] | None = None
    ) -> list[tuple[int, int]]:
        """Spans whose numbers are not the event's figures (statistics, drills, past events)."""
        blocked: list[tuple[int, int]] = []
        for start, _, word in self._context_hits(text) if context_hits is None else context_hits:
            for context in self._contexts[word]:
                if context.blocks_figures:
                    blocked.append(spans.scope(context.scope, start))
        return blocked

    def _reassigned(self, event: EventType, text: str, pos: int, spans: Spans) -> EventType:
        for rule in event.reassign:
            low, high = spans.scope(rule.scope, pos)
            scope_text = text[low:high]
            if any(word in scope_text for word in rule.when):
                return self._events[rule.to]
        return event

    @staticmethod
    def _quoted(text: str, start: int, end: int) -> bool:
        left = text[max(0, start - QUOTE_REACH):start]
        right = text[end:end + QUOTE_REACH]
        opened = max(left.rfind(q) for q in OPEN_QUOTES)
        if opened < 0 or any(q in left[opened + 1:] for q in CLOSE_QUOTES):
            return False
        return any(q in right for q in CLOSE_QUOTES)

    def _score_events(self, text: str, hits: list[tuple[int, int, str]], found: Detection) -> None:
        spans = Spans(text)
        context_hits = self._context_hits(text)
        found.blocked = self.blocked_spans(text, spans, context_hits)
        quoted = self.rules.sudden.quoted_factor
        best: dict[tuple[str, str], float] = {}
        applied: dict[str, int] = {}
        lead_end = spans.lead()[1]
        for start, end, word in hits:
            factor, reasons = 1.0, []
            for c_start, c_end, c_word in context_hits:
                if c_start < end and start < c_end:  # the context word is the trigger itself
                    continue
                for context in self._contexts[c_word]:
                    low, high = spans.scope(context.scope, start)
                    if context.scope in ("clause", "sentence") and not low <= c_start < high:
                        continue
                    if context.scope == "lead" and not c_start < lead_end:
                        continue
                    if context.factor < 1.0:
                        reasons.append(c_word)
                        factor = min(factor, context.factor)
            if self._quoted(text, start, end):
                factor = min(factor, quoted)
            for kind, key, weight in self.vocab[word]:
                if kind != "event":
                    continue
                event = self._reassigned(self._events[key], text, start, spans)
                slot = (event.key, word)
                best[slot] = max(best.get(slot, 0.0), weight * factor)
                found.first_seen.setdefault(event.category, start)
                if weight * factor > 0:
                    if word not in found.keywords:
                        found.keywords.append(word)
                    sentence = spans.sentence(start)
                    if sentence not in found.trigger_sentences:
                        found.trigger_sentences.append(sentence)
                    if start < lead_end:
                        found.in_lead = True
            if factor < 1.0:
                for reason in reasons:
                    applied.setdefault(reason, start)
        for (key, _), score in best.items():
            found.type_scores[key] = found.type_scores.get(key, 0.0) + score
        for key, score in found.type_scores.items():
            event = self._events[key]
            if event.cap is not None:
                score = min(score, event.cap)
                found.type_scores[key] = score
            found.category_scores[event.category] = found.category_scores.get(event.category, 0.0) + score
        found.contexts = sorted(applied, key=applied.__getitem__)

    def _score_topics(self, hits: list[tuple[int, int, str]], found: Detection) -> None:
        scores: dict[str, float] = {}
        words: dict[str, list[str]] = {}
        for _, _, word in hits:
            for kind, code, weight in self.vocab[word]:
                if kind == "topic" and word not in words.setdefault(code, []):
                    words[code].append(word)
                    scores[code] = scores.get(code, 0.0) + weight
        for topic in self.rules.topics:
            if scores.get(topic.code, 0.0) >= self.rules.topic_threshold:
                found.topics.append(topic.code)
                found.topic_words.extend(w for w in words[topic.code] if w not in found.topic_words)

    def table_for(self, found: Detection, category: str) -> str | None:
        """The grading table of the strongest event type of `category` that has one."""
        candidates = [
            (score, key)
            for key, score in found.type_scores.items()
            if score > 0 and self._events[key].category == category and self._events[key].table
        ]
        if not candidates:
            return None
        return self._events[max(candidates)[1]].table
