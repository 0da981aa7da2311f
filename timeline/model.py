"""The rules' codes: levels, categories, action kinds, channels, windows, states (DESIGN.md §2.1–2.3).

Stdlib only; every other package takes these codes from here. Their Chinese names live in the
application's vocabulary (yuqing/vocabulary.py) and are read through `Labels`.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from timeline.words import Labels, YuqingError

# 突发事件应对法 第三条: four levels, I is the most severe.
LEVELS: tuple[str, ...] = ("特别重大", "重大", "较大", "一般")
LEVEL_ROMAN: dict[str, str] = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}

CATEGORIES: tuple[str, ...] = ("自然灾害", "事故灾难", "公共卫生事件", "社会安全事件")

ACTION_KINDS: tuple[str, ...] = ("response", "release", "press_conference", "follow_up")
ACTION_KIND_NAMES = Labels("ACTION", ACTION_KINDS)
# Other Chinese names accepted on input (the issue writes 后续跟进 for follow_up).
ACTION_KIND_ALIASES: dict[str, str] = {"后续跟进": "follow_up", "举行新闻发布会": "press_conference"}

CHANNEL_FILE = Path(__file__).with_name("channels.toml")


def _load_channels(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """channels.toml → (code → name, alias → code); a malformed file fails loudly at import."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for index, entry in enumerate(data.get("channel", [])):
        code, name = entry.get("code"), entry.get("name")
        if not isinstance(code, str) or not isinstance(name, str) or not code or not name or code in names:
            raise ValueError(f"{path}: channel[{index}] needs a unique code and a name")
        names[code] = name
        for alias in entry.get("aliases", []):
            aliases[str(alias)] = code
    return names, aliases


# DESIGN.md §2.2: one list of channel codes for every command and export, kept as data (channels.toml
# is the one home of the channel names and aliases: an office edits it).
CHANNELS, CHANNEL_ALIASES = _load_channels(CHANNEL_FILE)

WINDOW_KEYS: tuple[str, ...] = ("response", "release", "press_conference")
WINDOW_NAMES = Labels("WINDOW", WINDOW_KEYS)

STATES: tuple[str, ...] = ("met", "late", "open", "overdue", "not_applicable")
STATE_NAMES = Labels("STATE", STATES)


def parse_level(text: str | None) -> str | None:
    """特别重大|重大|较大|一般 or I|II|III|IV (any case) → the Chinese name; None/'' → None."""
    if text is None or text.strip() == "":
        return None
    value = text.strip()
    if value in LEVELS:
        return value
    roman = LEVEL_ROMAN.get(value.upper())
    if roman is None:
        raise YuqingError("E_LEVEL", value=value)
    return roman


def parse_category(text: str | None) -> str | None:
    if text is None or text.strip() == "":
        return None
    value = text.strip()
    if value not in CATEGORIES:
        raise YuqingError("E_CATEGORY", value=value)
    return value


def parse_channel(text: str) -> str:
    value = text.strip()
    if value in CHANNELS:
        return value
    for code, name in CHANNELS.items():
        if value == name:
            return code
    if value in CHANNEL_ALIASES:
        return CHANNEL_ALIASES[value]
    raise YuqingError("E_CHANNEL", value=value, choices="、".join(f"{code}（{name}）" for code, name in CHANNELS.items()))


def parse_action_kind(text: str) -> str:
    """A kind code or its Chinese name (回应, 发布权威信息, 新闻发布会, 后续跟进) → the code."""
    value = text.strip()
    if value in ACTION_KINDS:
        return value
    for code, name in ACTION_KIND_NAMES.items():
        if value == name:
            return code
    if value in ACTION_KIND_ALIASES:
        return ACTION_KIND_ALIASES[value]
    raise YuqingError("E_ACTION_KIND", value=value)
