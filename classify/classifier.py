"""The classifier: one text in, one explainable `ClassifyResult` out (issue 3; DESIGN.md §2.3–2.4).

Pure: no clock, no environment, no database. Rules come from classify/rules.toml, units from the
unit registry (classify.units). `sudden` means the text reports an emergency that has happened or is
happening; `topics` are opinion topics that need a response but never flag an incident by themselves:

    rumour      谣言误读  (网传, 辟谣, 误读, 不实)
    unverified  待核实    (a sudden event the lead reports as hearsay: 网传, 网曝, 疑似 — flagged all the same)
    livelihood  民生诉求  (投诉, 反映, 拖欠, 供暖, 停水)
    misconduct  曝光质疑  (曝光, 质疑, 涉嫌, 违纪)
    rights      维权      (维权, 讨薪, 上访)

`keywords` explains the verdict: the trigger words that counted, the words of the topics found, and
the context words that cancelled or weakened a trigger, marked with a leading "!" ("!演练").
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from classify.combos import ComboRules, load_combos, unverified
from classify.combos import match as combo_match
from classify.detect import Detector, Spans
from classify.figures import FigureReader, to_ints
from classify.levels import grade
from classify.numbers import FOLD
from classify.responsibility import UnitMatcher
from classify.ruleset import FIGURES, RULES_FILE, Rules, load_rules
from classify.segment import Segmenter, tokenizer_for
from classify.units import UnitRef


@dataclass(frozen=True)
class ClassifyResult:
    """One verdict. category/level are None unless sudden; level is None when no figure and no stated
    level allows grading; figures holds all eight keys (None = not stated); unit is the responsible unit
    or None; rules_version is the version of rules.toml that produced it."""

    sudden: bool
    category: str | None
    level: str | None
    topics: tuple[str, ...]
    unit: UnitRef | None
    keywords: tuple[str, ...]
    figures: dict[str, int | None]
    rules_version: str


class Classifier:
    """Build once (`Classifier.default`) and reuse: classify() only reads shared state."""

    def __init__(self, rules: Rules, units: tuple[UnitRef, ...], combos: ComboRules | None = None) -> None:
        self.rules = rules
        self._combos = combos if combos is not None else load_combos(RULES_FILE)
        self.units = units
        self._detector = Detector(rules)
        self._figures = FigureReader(rules.figures)
        self._units = UnitMatcher(units)
        # The user dictionary comes from the rules alone, so every classifier over the same rules shares
        # one tokenizer whatever its unit list (unit names are matched on the text, not on tokens).
        self.user_words = rules.dictionary_words()
        self._tokenizer = tokenizer_for(self.user_words)
        self.topic_names = {t.code: t.name for t in rules.topics}

    @classmethod
    def default(cls, units: tuple[UnitRef, ...], rules_path: Path | None = None) -> Classifier:
        """The packaged rules with these units (the caller's registry). Cached per process."""
        return _cached(tuple(units), rules_path or RULES_FILE)

    def classify(self, text: str, title: str | None = None) -> ClassifyResult:
        """The verdict of the words, then of the word pairs (mass gatherings, people trapped by a
        facility, outbreaks); a sudden event the lead reports as hearsay is marked 待核实 (unverified)."""
        full = (f"{title}\n{text}" if title else text).translate(FOLD)
        result = self._classify_words(full)
        hit = combo_match(self._combos, full)
        if hit is not None and not result.sudden:
            result = replace(result, sudden=True, category=hit.combo.category,
                             level=self._stated_level(full, []), keywords=(*result.keywords, *hit.words))
        elif hit is not None and result.category in hit.combo.replaces:
            result = replace(result, category=hit.combo.category, keywords=(*result.keywords, *hit.words))
        if result.sudden and unverified(self._combos, full):
            result = replace(result, topics=(*result.topics, "unverified"))
        return result

    def _classify_words(self, full: str) -> ClassifyResult:
        segmenter = Segmenter(full, self._tokenizer)
        found = self._detector.detect(full, segmenter)
        unit = self._units.responsible(full, segmenter)
        topics = tuple(found.topics)
        keywords = [*found.keywords, *(w for w in found.topic_words if w not in found.keywords)]
        keywords += [f"!{w}" for w in found.contexts]

        category, category_score = found.best_category()
        sudden_rules = self.rules.sudden
        if category is None or category_score < sudden_rules.min_category:
            return self._fallback(full, topics, unit, keywords)
        figures = self._figures.read(full, category, found.blocked)
        cues = self._detector.cue_score(full, found.trigger_sentences)
        has_figures = any(amount is not None for amount in figures.values())
        total = sum(found.category_scores.values()) + cues
        if found.in_lead:
            total += sudden_rules.lead_bonus
        if has_figures:
            total += sudden_rules.figure_bonus
        anchored = found.in_lead or cues > 0 or has_figures
        if total < sudden_rules.threshold or not anchored:
            return self._not_sudden(topics, unit, keywords)

        table_key = self._detector.table_for(found, category)
        level = grade(self.rules.table(table_key), figures) if table_key else None
        if level is None:
            level = self._stated_level(full, found.blocked)
        return ClassifyResult(
            True, category, level, topics, unit, tuple(keywords), to_ints(figures), self.rules.version
        )

    def _not_sudden(self, topics: tuple[str, ...], unit: UnitRef | None, keywords: list[str]) -> ClassifyResult:
        return ClassifyResult(
            False, None, None, topics, unit, tuple(keywords), dict.fromkeys(FIGURES), self.rules.version
        )

    def _fallback(
        self, full: str, topics: tuple[str, ...], unit: UnitRef | None, keywords: list[str]
    ) -> ClassifyResult:
        """No event word, but people dead, hurt, trapped or missing next to enough cues: an accident."""
        sudden_rules = self.rules.sudden
        spans = Spans(full)
        blocked = self._detector.blocked_spans(full, spans)
        figures, casualty_at = self._figures.read_with_positions(full, None, blocked)
        if not casualty_at:
            return self._not_sudden(topics, unit, keywords)
        # The casualty word itself (死亡, 受伤) is not evidence beyond the count it belongs to.
        sentences = {spans.sentence(pos) for pos in casualty_at}
        cues = self._detector.cue_score(full, sentences, ignore=self._figures.keywords)
        if cues < sudden_rules.fallback_min_cues:
            return self._not_sudden(topics, unit, keywords)
        level = grade(self.rules.table(sudden_rules.fallback_table), figures)
        category = sudden_rules.fallback_category
        return ClassifyResult(
            True, category, level, topics, unit, tuple(keywords), to_ints(figures), self.rules.version
        )

    def _stated_level(self, text: str, blocked: list[tuple[int, int]]) -> str | None:
        """A level the text states in words ("一起较大道路交通事故"), outside statistics and drills."""
        for pattern in self.rules.stated_levels:
            for match in pattern.finditer(text):
                if not any(start <= match.start() < end for start, end in blocked):
                    return match.group(1)
        return None


@lru_cache(maxsize=8)
def _cached(units: tuple[UnitRef, ...], rules_path: Path) -> Classifier:
    return Classifier(load_rules(rules_path), units, load_combos(rules_path))
