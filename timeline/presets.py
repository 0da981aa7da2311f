"""Window presets as data: which windows apply, how long they run, what satisfies them (DESIGN.md §2.1)."""
from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, lru_cache
from pathlib import Path

from timeline.model import ACTION_KINDS, LEVELS, WINDOW_KEYS
from timeline.words import YuqingError

PRESET_DIR = Path(__file__).with_name("presets")
DEFAULT_PRESET = "sanmenxia-2017"
ANCHORS = ("earliest_seen", "first_post", "detected", "logged")
# An office's own preset is named `<office code>:<file name>` (a shipped one has no colon).
OFFICE_MARK = ":"
# A window runs at most a year: anything longer is a typing error (and would overflow a deadline).
MAX_HOURS = 8760


@dataclass(frozen=True)
class WindowRule:
    key: str
    hours: int
    applies_to: str  # "all" | "flagged"
    satisfied_by: tuple[str, ...]
    at_risk_hours: float
    source: str

    @property
    def length(self) -> timedelta:
        return timedelta(hours=self.hours)

    @property
    def at_risk(self) -> timedelta:
        return timedelta(hours=self.at_risk_hours)


@dataclass(frozen=True)
class FlaggedRule:
    rule: str  # "any": major level OR sudden; "all": major level AND sudden
    levels: tuple[str, ...]
    sudden: bool

    def is_flagged(self, level: str | None, sudden: bool | None) -> bool:
        by_level = level is not None and level in self.levels
        by_sudden = bool(sudden) if self.sudden else False
        if self.rule == "any":
            return by_level or by_sudden
        return by_level and (by_sudden or not self.sudden)


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    source: str
    anchor: str
    flagged: FlaggedRule
    windows: tuple[WindowRule, ...]

    def is_flagged(self, level: str | None, sudden: bool | None) -> bool:
        return self.flagged.is_flagged(level, sudden)

    def window(self, key: str) -> WindowRule | None:
        for rule in self.windows:
            if rule.key == key:
                return rule
        return None


def available_presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


# Where an office's own presets are read from (yuqing.db.office_rules.preset_lookup): a function from
# a full name to the stored TOML text, or None when there is no such preset. Set by the database
# layer: each database's sessions name their own reader for the code they run (office_lookup), so a
# process with two databases open reads each one's presets from it; outside a session, the reader of
# the database opened last.
_office_lookup: ContextVar[Callable[[str], str | None] | None] = ContextVar("office_lookup", default=None)
_default_lookup: Callable[[str], str | None] | None = None


def set_office_lookup(lookup: Callable[[str], str | None] | None) -> None:
    global _default_lookup
    _default_lookup = lookup


@contextmanager
def office_lookup(lookup: Callable[[str], str | None]) -> Iterator[None]:
    """Read office presets through `lookup` in this block (a database session's)."""
    token = _office_lookup.set(lookup)
    try:
        yield
    finally:
        _office_lookup.reset(token)


def load_preset(name: str) -> Preset:
    if OFFICE_MARK in name:
        lookup = _office_lookup.get() or _default_lookup
        body = lookup(name) if lookup is not None else None
        if body is None:
            raise YuqingError("E_PRESET_UNKNOWN", value=name, choices="、".join(available_presets()))
        return office_preset_from_text(name, body)
    return _shipped_preset(name)


@cache
def _shipped_preset(name: str) -> Preset:
    path = PRESET_DIR / f"{name}.toml"
    # A name is a file of the presets folder, never a path out of it ("../x").
    if path.parent != PRESET_DIR or not path.is_file():
        raise YuqingError("E_PRESET_UNKNOWN", value=name, choices="、".join(available_presets()))
    return parse_preset(path)


@lru_cache(maxsize=256)
def office_preset_from_text(name: str, body: str) -> Preset:
    office, _mark, stem = name.partition(OFFICE_MARK)
    preset = parse_preset_text(Path(office) / f"{stem}.toml", body)
    return Preset(name, preset.title, preset.source, preset.anchor, preset.flagged, preset.windows)


def _problem(path: Path, problem: str) -> YuqingError:
    return YuqingError("E_DATA_FILE", path=str(path), problem=problem)


def parse_preset(path: Path) -> Preset:
    """Load and validate one preset file; every error names the file, the key and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _problem(path, str(exc)) from exc
    return parse_preset_text(path, text)


def parse_preset_text(path: Path, text: str) -> Preset:
    """Validate the text of a preset file named `path` (its stem is the preset's name)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _problem(path, str(exc)) from exc
    except RecursionError as exc:  # a hostile file of deeply nested arrays
        raise _problem(path, "嵌套层数过多，不是时限规则预设文件") from exc
    for key in ("name", "title", "source", "anchor", "flagged", "window"):
        if key not in data:
            raise _problem(path, f"缺少 {key}")
    for key in ("name", "title", "source", "anchor"):
        if not isinstance(data[key], str) or not data[key].strip() or len(data[key]) > 2000:
            raise _problem(path, f"{key} 必须是不超过 2000 字的文字")
    if not isinstance(data["flagged"], dict):
        raise _problem(path, "flagged 必须是一个表（[flagged]）")
    if not isinstance(data["window"], list) or not all(isinstance(item, dict) for item in data["window"]):
        raise _problem(path, "window 必须是若干个表（[[window]]）")
    if data["name"] != path.stem:
        raise _problem(path, f"name = {data['name']!r} 与文件名不一致")
    if data["anchor"] not in ANCHORS:
        raise _problem(path, f"anchor 必须是 {', '.join(ANCHORS)} 之一")
    flagged_data = data["flagged"]
    if flagged_data.get("rule") not in ("any", "all"):
        raise _problem(path, "flagged.rule 必须是 any 或 all")
    listed = flagged_data.get("levels", ())
    if not isinstance(listed, list | tuple):
        raise _problem(path, "flagged.levels 必须是级别的列表")
    levels = tuple(listed)
    for level in levels:
        if level not in LEVELS:
            raise _problem(path, f"flagged.levels 中的级别 {level!r} 无效")
    flagged = FlaggedRule(flagged_data["rule"], levels, bool(flagged_data.get("sudden", False)))
    windows: list[WindowRule] = []
    for index, item in enumerate(data["window"]):
        where = f"window[{index}]"
        key = item.get("key")
        if key not in WINDOW_KEYS:
            raise _problem(path, f"{where}.key 必须是 {', '.join(WINDOW_KEYS)} 之一")
        hours = item.get("hours")
        if not isinstance(hours, int) or isinstance(hours, bool) or not 0 < hours <= MAX_HOURS:
            raise _problem(path, f"{where}.hours 必须是 1 到 {MAX_HOURS} 之间的整数")
        if item.get("applies_to") not in ("all", "flagged"):
            raise _problem(path, f"{where}.applies_to 必须是 all 或 flagged")
        named = item.get("satisfied_by", ())
        kinds = tuple(named) if isinstance(named, list | tuple) else ()
        if not kinds or any(kind not in ACTION_KINDS for kind in kinds):
            raise _problem(path, f"{where}.satisfied_by 必须列出有效的处置类型")
        at_risk = item.get("at_risk_hours", 0)
        if not isinstance(at_risk, (int, float)) or not 0 <= at_risk <= hours:
            raise _problem(path, f"{where}.at_risk_hours 必须在 0 到 hours 之间")
        windows.append(WindowRule(key, hours, item["applies_to"], kinds, float(at_risk), str(item.get("source", ""))))
    if [w.key for w in windows] != list(WINDOW_KEYS):
        raise _problem(path, f"window 必须依次为 {', '.join(WINDOW_KEYS)}")
    return Preset(data["name"], data["title"], data["source"], data["anchor"], flagged, tuple(windows))
