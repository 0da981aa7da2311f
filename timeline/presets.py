"""Window presets as data: which windows apply, how long they run, what satisfies them (DESIGN.md §2.1)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

from timeline.model import ACTION_KINDS, LEVELS, WINDOW_KEYS
from timeline.words import YuqingError

PRESET_DIR = Path(__file__).with_name("presets")
DEFAULT_PRESET = "sanmenxia-2017"
ANCHORS = ("earliest_seen", "first_post", "detected", "logged")


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


@cache
def load_preset(name: str) -> Preset:
    path = PRESET_DIR / f"{name}.toml"
    # A name is a file of the presets folder, never a path out of it ("../x").
    if path.parent != PRESET_DIR or not path.is_file():
        raise YuqingError("E_PRESET_UNKNOWN", value=name, choices="、".join(available_presets()))
    return parse_preset(path)


def _problem(path: Path, problem: str) -> YuqingError:
    return YuqingError("E_DATA_FILE", path=str(path), problem=problem)


def parse_preset(path: Path) -> Preset:
    """Load and validate one preset file; every error names the file, the key and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise _problem(path, str(exc)) from exc
    for key in ("name", "title", "source", "anchor", "flagged", "window"):
        if key not in data:
            raise _problem(path, f"缺少 {key}")
    if data["name"] != path.stem:
        raise _problem(path, f"name = {data['name']!r} 与文件名不一致")
    if data["anchor"] not in ANCHORS:
        raise _problem(path, f"anchor 必须是 {', '.join(ANCHORS)} 之一")
    flagged_data = data["flagged"]
    if flagged_data.get("rule") not in ("any", "all"):
        raise _problem(path, "flagged.rule 必须是 any 或 all")
    levels = tuple(flagged_data.get("levels", ()))
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
        if not isinstance(hours, int) or hours <= 0:
            raise _problem(path, f"{where}.hours 必须是正整数")
        if item.get("applies_to") not in ("all", "flagged"):
            raise _problem(path, f"{where}.applies_to 必须是 all 或 flagged")
        kinds = tuple(item.get("satisfied_by", ()))
        if not kinds or any(kind not in ACTION_KINDS for kind in kinds):
            raise _problem(path, f"{where}.satisfied_by 必须列出有效的处置类型")
        at_risk = item.get("at_risk_hours", 0)
        if not isinstance(at_risk, (int, float)) or not 0 <= at_risk <= hours:
            raise _problem(path, f"{where}.at_risk_hours 必须在 0 到 hours 之间")
        windows.append(WindowRule(key, hours, item["applies_to"], kinds, float(at_risk), str(item.get("source", ""))))
    if [w.key for w in windows] != list(WINDOW_KEYS):
        raise _problem(path, f"window 必须依次为 {', '.join(WINDOW_KEYS)}")
    return Preset(data["name"], data["title"], data["source"], data["anchor"], flagged, tuple(windows))
