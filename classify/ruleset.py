"""The classifier's rules as frozen data: loaded from rules.toml and validated, with errors naming the key.

Nothing here matches text; `detect`, `figures` and `levels` read these records.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from timeline.model import CATEGORIES, LEVELS
from timeline.words import YuqingError

RULES_FILE = Path(__file__).with_name("rules.toml")
SCOPES = ("clause", "sentence", "lead", "document")
FIGURES = (
    "deaths", "injured", "seriously_injured", "missing", "trapped", "affected", "evacuated", "loss_yuan",
)
CRITERION_OPS = ("at_least", "over")
# The stated version plus "+" and 8 hex digits of the file's SHA-256 must fit incidents.rules_version (40).
VERSION_LIMIT = 30


@dataclass(frozen=True)
class Reassign:
    to: str
    when: tuple[str, ...]
    scope: str = "clause"


@dataclass(frozen=True)
class EventType:
    key: str
    name: str
    category: str
    table: str | None
    words: tuple[tuple[str, float], ...]
    cap: float | None
    reassign: tuple[Reassign, ...]


@dataclass(frozen=True)
class Context:
    key: str
    name: str
    words: tuple[str, ...]
    scope: str
    factor: float
    blocks_figures: bool


@dataclass(frozen=True)
class Topic:
    code: str
    name: str
    words: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class FieldRule:
    name: str
    categories: tuple[str, ...]
    after: tuple[str, ...]
    before: tuple[str, ...]


@dataclass(frozen=True)
class ZeroRule:
    pattern: re.Pattern[str]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class FigureRules:
    person_units: tuple[str, ...]
    max_gap: int
    fields: tuple[FieldRule, ...]
    loss_keywords: tuple[str, ...]
    loss_max_gap: int
    zeros: tuple[ZeroRule, ...]
    implied_death: tuple[str, ...]


@dataclass(frozen=True)
class Criterion:
    figure: str
    op: str
    value: float


@dataclass(frozen=True)
class LevelRule:
    level: str
    any: tuple[tuple[Criterion, ...], ...]


@dataclass(frozen=True)
class Table:
    key: str
    name: str
    source: str
    floor: str
    deaths_include_missing: bool
    poisoned_as_serious: bool
    levels: tuple[LevelRule, ...]


@dataclass(frozen=True)
class SuddenRules:
    threshold: float
    min_category: float
    cue_weight: float
    cue_cap: float
    figure_bonus: float
    quoted_factor: float
    lead_bonus: float
    fallback_category: str
    fallback_table: str
    fallback_min_cues: float


@dataclass(frozen=True)
class Lexicon:
    """When a trigger inside a longer token still counts (see [lexicon] in rules.toml)."""

    not_events: frozenset[str]
    prefixes: frozenset[str]
    suffixes: frozenset[str]
    negating: frozenset[str]

    def allows_inside(self, token: str, word: str, offset: int) -> bool:
        """`word` found at `offset` inside the longer `token`."""
        if token in self.not_events:
            return False
        before, after = token[:offset], token[offset + len(word):]
        return not (len(before) == 1 and before in self.prefixes) and not (len(after) == 1 and after in self.suffixes)


@dataclass(frozen=True)
class Rules:
    # "<version in the file>+<first 8 hex digits of the file's SHA-256>" (see rules_version)
    version: str
    sudden: SuddenRules
    cues: tuple[str, ...]
    events: tuple[EventType, ...]
    contexts: tuple[Context, ...]
    topics: tuple[Topic, ...]
    topic_threshold: float
    figures: FigureRules
    tables: tuple[Table, ...]
    stated_levels: tuple[re.Pattern[str], ...]
    lexicon: Lexicon
    weak_weight: float
    topic_strong_weight: float

    def event(self, key: str) -> EventType:
        for event in self.events:
            if event.key == key:
                return event
        raise KeyError(key)

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    def dictionary_words(self) -> tuple[str, ...]:
        """Every word the rules match on tokens: the segmenter must keep each one whole."""
        words: set[str] = set()
        for event in self.events:
            words.update(w for w, _ in event.words)
        for topic in self.topics:
            words.update(w for w, _ in topic.words)
        for context in self.contexts:
            words.update(context.words)
        words.update(self.lexicon.not_events)
        return tuple(sorted(words))


class _Reader:
    """Typed access to one TOML table; every problem names the file and the dotted key."""

    def __init__(self, path: Path, data: dict[str, Any], where: str) -> None:
        self.path, self.data, self.where = path, data, where

    def fail(self, problem: str) -> YuqingError:
        return YuqingError("E_DATA_FILE", path=str(self.path), problem=problem)

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def sub(self, name: str) -> _Reader:
        value = self.data.get(name)
        if not isinstance(value, dict):
            raise self.fail(f"缺少表 {self.key(name)}")
        return _Reader(self.path, value, self.key(name))

    def items(self, name: str, required: bool = True) -> list[_Reader]:
        value = self.data.get(name)
        if value is None and not required:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value) or (required and not value):
            raise self.fail(f"{self.key(name)} 必须是非空的表数组 [[{name}]]")
        return [_Reader(self.path, v, f"{self.key(name)}[{i}]") for i, v in enumerate(value)]

    def text(self, name: str, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(f"{self.key(name)} 必须是非空字符串")
        return value

    def number(self, name: str, default: float | None = None, low: float = 0.0, high: float | None = None) -> float:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{self.key(name)} 必须是数字")
        if value < low or (high is not None and value > high):
            raise self.fail(f"{self.key(name)} = {value} 超出范围")
        return float(value)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(f"{self.key(name)} 必须是 true 或 false")
        return value

    def words(self, name: str, required: bool = False) -> tuple[str, ...]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() == w and w for w in value):
            raise self.fail(f"{self.key(name)} 必须是非空字符串列表（不含首尾空格）")
        if required and not value:
            raise self.fail(f"{self.key(name)} 不能为空")
        return tuple(value)

    def regex(self, pattern: str, name: str) -> re.Pattern[str]:
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise self.fail(f"{self.key(name)} 不是有效的正则表达式：{exc}") from exc


def _events(top: _Reader, tiers: dict[str, float], table_keys: set[str]) -> tuple[EventType, ...]:
    events: list[EventType] = []
    for item in top.items("event"):
        key = item.text("key")
        category = item.text("category")
        if category not in CATEGORIES:
            raise item.fail(f"{item.key('category')} = {category!r} 不是四类突发事件之一")
        table = item.text("table", "")
        if table and table not in table_keys:
            raise item.fail(f"{item.key('table')} = {table!r} 没有对应的 [[table]]")
        weighted: dict[str, float] = {}
        for tier, weight in tiers.items():
            for word in item.words(tier):
                weighted.setdefault(word, weight)
        if not weighted:
            raise item.fail(f"{item.where}（{key}）没有任何触发词")
        cap = item.data.get("cap")
        reassign: list[Reassign] = []
        for r in item.items("reassign", False):
            scope = r.text("scope", "clause")
            if scope not in ("clause", "sentence", "document"):
                raise r.fail(f"{r.key('scope')} 必须是 clause、sentence 或 document")
            reassign.append(Reassign(to=r.text("to"), when=r.words("when", required=True), scope=scope))
        events.append(
            EventType(
                key=key,
                name=item.text("name"),
                category=category,
                table=table or None,
                words=tuple(weighted.items()),
                cap=None if cap is None else item.number("cap"),
                reassign=tuple(reassign),
            )
        )
    keys = [e.key for e in events]
    for event in events:
        if keys.count(event.key) > 1:
            raise top.fail(f"event.key {event.key!r} 重复")
        for shift in event.reassign:
            if shift.to not in keys:
                raise top.fail(f"event {event.key} 的 reassign.to = {shift.to!r} 不存在")
    return tuple(events)


def _criterion(reader: _Reader, raw: Any, where: str) -> Criterion:
    if not isinstance(raw, dict) or raw.get("figure") not in FIGURES:
        raise reader.fail(f"{where} 必须是 {{ figure = <{'/'.join(FIGURES)}>, at_least|over = 数值 }}")
    ops = [op for op in CRITERION_OPS if op in raw]
    if len(ops) != 1 or isinstance(raw[ops[0]], bool) or not isinstance(raw[ops[0]], (int, float)):
        raise reader.fail(f"{where} 必须且只能有 at_least 或 over 之一（数值）")
    return Criterion(figure=raw["figure"], op=ops[0], value=float(raw[ops[0]]))


def _tables(top: _Reader) -> tuple[Table, ...]:
    tables: list[Table] = []
    for item in top.items("table"):
        levels: list[LevelRule] = []
        for rule in item.items("level"):
            level = rule.text("level")
            if level not in LEVELS:
                raise rule.fail(f"{rule.key('level')} = {level!r} 不是四个级别之一")
            groups = rule.data.get("any")
            if not isinstance(groups, list) or not groups or not all(isinstance(g, list) and g for g in groups):
                raise rule.fail(f"{rule.key('any')} 必须是条件组的数组，例如 [[{{ figure = \"deaths\", at_least = 30 }}]]")
            levels.append(
                LevelRule(
                    level=level,
                    any=tuple(
                        tuple(_criterion(rule, c, f"{rule.key('any')}[{gi}][{ci}]") for ci, c in enumerate(group))
                        for gi, group in enumerate(groups)
                    ),
                )
            )
        floor = item.text("floor")
        if floor not in LEVELS:
            raise item.fail(f"{item.key('floor')} = {floor!r} 不是四个级别之一")
        levels.sort(key=lambda r: LEVELS.index(r.level))
        tables.append(
            Table(
                key=item.text("key"),
                name=item.text("name"),
                source=item.text("source"),
                floor=floor,
                deaths_include_missing=item.flag("deaths_include_missing"),
                poisoned_as_serious=item.flag("poisoned_as_serious"),
                levels=tuple(levels),
            )
        )
    return tuple(tables)


def _figures(top: _Reader) -> FigureRules:
    section = top.sub("figures")
    fields: list[FieldRule] = []
    for item in section.items("field"):
        name = item.text("name")
        if name not in FIGURES or name == "loss_yuan":
            raise item.fail(f"{item.key('name')} = {name!r} 不是人数类数字字段")
        categories = item.words("categories")
        for category in categories:
            if category not in CATEGORIES:
                raise item.fail(f"{item.key('categories')} 中的 {category!r} 不是四类突发事件之一")
        fields.append(FieldRule(name, categories, item.words("after"), item.words("before")))
    zeros: list[ZeroRule] = []
    for item in section.items("zero"):
        fields_ = item.words("fields", required=True)
        for name in fields_:
            if name not in FIGURES:
                raise item.fail(f"{item.key('fields')} 中的 {name!r} 不是数字字段")
        zeros.append(ZeroRule(item.regex(item.text("pattern"), "pattern"), fields_))
    loss = section.sub("loss")
    return FigureRules(
        person_units=section.words("person_units", required=True),
        max_gap=int(section.number("max_gap", low=0, high=30)),
        fields=tuple(fields),
        loss_keywords=loss.words("keywords", required=True),
        loss_max_gap=int(loss.number("max_gap", low=0, high=30)),
        zeros=tuple(zeros),
        implied_death=section.sub("implied_death").words("words"),
    )


def parse_rules(path: Path) -> Rules:
    """Load and validate one rules file; every error names the file, the key and the problem."""
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise YuqingError("E_DATA_FILE", path=str(path), problem=str(exc)) from exc
    top = _Reader(path, data, "")
    declared = top.text("version").strip()
    if len(declared) > VERSION_LIMIT:
        raise top.fail(f"version 最多 {VERSION_LIMIT} 个字符（现有 {len(declared)} 个）")
    version = f"{declared}+{hashlib.sha256(raw).hexdigest()[:8]}"
    sudden = top.sub("sudden")
    tier_reader = top.sub("tiers")
    tiers = {name: tier_reader.number(name, high=10) for name in ("strong", "medium", "weak")}
    tables = _tables(top)
    events = _events(top, tiers, {t.key for t in tables})
    contexts: list[Context] = []
    for item in top.items("context"):
        scope = item.text("scope")
        if scope not in SCOPES:
            raise item.fail(f"{item.key('scope')} 必须是 {'、'.join(SCOPES)} 之一")
        contexts.append(
            Context(
                key=item.text("key"),
                name=item.text("name"),
                words=item.words("words", required=True),
                scope=scope,
                factor=item.number("factor", high=1.0),
                blocks_figures=item.flag("blocks_figures"),
            )
        )
    topic_reader = top.sub("topics")
    topic_tiers = {name: topic_reader.number(name, high=10) for name in ("strong", "weak")}
    topics: list[Topic] = []
    for item in top.items("topic"):
        weighted: dict[str, float] = {}
        for tier, weight in topic_tiers.items():
            for word in item.words(tier):
                weighted.setdefault(word, weight)
        topics.append(Topic(code=item.text("code"), name=item.text("name"), words=tuple(weighted.items())))
    fallback_category = sudden.text("fallback_category")
    if fallback_category not in CATEGORIES:
        raise sudden.fail(f"sudden.fallback_category = {fallback_category!r} 不是四类突发事件之一")
    fallback_table = sudden.text("fallback_table")
    if fallback_table not in {t.key for t in tables}:
        raise sudden.fail(f"sudden.fallback_table = {fallback_table!r} 没有对应的 [[table]]")
    lexicon = top.sub("lexicon")
    stated = top.sub("stated_level")
    patterns = tuple(stated.regex(p, f"patterns[{i}]") for i, p in enumerate(stated.words("patterns")))
    return Rules(
        version=version,
        sudden=SuddenRules(
            threshold=sudden.number("threshold", high=100),
            min_category=sudden.number("min_category", high=100),
            cue_weight=sudden.number("cue_weight", high=10),
            cue_cap=sudden.number("cue_cap", high=10),
            figure_bonus=sudden.number("figure_bonus", high=10),
            quoted_factor=sudden.number("quoted_factor", high=1.0),
            lead_bonus=sudden.number("lead_bonus", high=10),
            fallback_category=fallback_category,
            fallback_table=fallback_table,
            fallback_min_cues=sudden.number("fallback_min_cues", high=10),
        ),
        cues=top.sub("cues").words("words", required=True),
        events=events,
        contexts=tuple(contexts),
        topics=tuple(topics),
        topic_threshold=topic_reader.number("threshold", high=100),
        figures=_figures(top),
        tables=tables,
        stated_levels=patterns,
        lexicon=Lexicon(
            not_events=frozenset(lexicon.words("not_events")),
            prefixes=frozenset(lexicon.words("prefixes")),
            suffixes=frozenset(lexicon.words("suffixes")),
            negating=frozenset(lexicon.words("negating")),
        ),
        weak_weight=tiers["weak"],
        topic_strong_weight=topic_tiers["strong"],
    )


@lru_cache(maxsize=8)
def load_rules(path: Path = RULES_FILE) -> Rules:
    return parse_rules(path)


def rules_version(path: Path = RULES_FILE) -> str:
    """The version stamped on every verdict of these rules: the file's own `version` and a digest of
    its bytes, so that any edit of the rules (even one that forgets to raise `version`) gives a new one."""
    return load_rules(path).version
