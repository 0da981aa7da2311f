"""Shared vocabulary of the rules: levels, categories, action kinds, channels (DESIGN.md §2.1–2.3).

Stdlib only; every other package takes these names from here.
"""
from __future__ import annotations

from timeline.words import YuqingError

# 突发事件应对法 第三条: four levels, I is the most severe.
LEVELS: tuple[str, ...] = ("特别重大", "重大", "较大", "一般")
LEVEL_ROMAN: dict[str, str] = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}

CATEGORIES: tuple[str, ...] = ("自然灾害", "事故灾难", "公共卫生事件", "社会安全事件")

ACTION_KINDS: tuple[str, ...] = ("response", "release", "press_conference", "follow_up")
ACTION_KIND_NAMES: dict[str, str] = {
    "response": "回应",
    "release": "发布权威信息",
    "press_conference": "新闻发布会",
    "follow_up": "后续发布",
}

# DESIGN.md §2.2: one list of channel codes for every command and export.
CHANNELS: dict[str, str] = {
    "website": "政府网站",
    "newspaper": "报纸",
    "weibo": "微博",
    "wechat": "微信",
    "news_site": "新闻网站",
    "app": "客户端",
    "tv_radio": "电视/广播",
    "press": "新闻发布会/吹风会",
    "other": "其他",
}

WINDOW_KEYS: tuple[str, ...] = ("response", "release", "press_conference")
WINDOW_NAMES: dict[str, str] = {
    "response": "回应",
    "release": "发布权威信息",
    "press_conference": "新闻发布会",
}

STATES: tuple[str, ...] = ("met", "late", "open", "overdue", "not_applicable")
STATE_NAMES: dict[str, str] = {
    "met": "按时",
    "late": "逾期完成",
    "open": "进行中",
    "overdue": "已超时",
    "not_applicable": "不适用",
}


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
    raise YuqingError("E_CHANNEL", value=value)


def parse_action_kind(text: str) -> str:
    value = text.strip()
    if value not in ACTION_KINDS:
        raise YuqingError("E_ACTION_KIND", value=value)
    return value
