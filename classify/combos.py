"""Events read from word pairs in one sentence of a headline or short post (rules.toml [[combo]]).

Mass gatherings (a crowd + 聚集/围堵/罢工…), people trapped by a public facility (索道/电梯 + 被困),
outbreaks and contamination (饮用水/不明原因 + symptoms): no single word reports these events, the
pair does. A combo never fires in a sentence that holds one of its `unless` words (a recurring
grievance: 频繁故障, 物业推诿) or a shared `cancel` word (演练, 座谈会, 同比, 开幕 …).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from timeline.words import YuqingError

SENTENCES = re.compile(r"[^。！？!?\n]+")
CATEGORIES = ("自然灾害", "事故灾难", "公共卫生事件", "社会安全事件")


@dataclass(frozen=True)
class Combo:
    key: str
    name: str
    category: str
    groups: tuple[re.Pattern[str], ...]
    unless: tuple[str, ...]
    replaces: tuple[str, ...]  # categories a matching combo corrects (水源污染 + 腹泻 is public health)


@dataclass(frozen=True)
class ComboRules:
    combos: tuple[Combo, ...]
    cancel: tuple[str, ...]
    sentences: int  # how many leading sentences (title first) are read
    unverified: re.Pattern[str]  # 网传 / 网曝 / 疑似: a sudden event not yet confirmed (待核实)


def _pattern(words: list[str], where: str, path: Path) -> re.Pattern[str]:
    try:
        return re.compile("|".join(f"(?:{w})" for w in words))
    except re.error as exc:
        raise YuqingError("E_DATA_FILE", path=str(path), problem=f"{where}：{exc}") from exc


def load_combos(path: Path) -> ComboRules:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    section = data.get("combos") or {}
    combos: list[Combo] = []
    for index, entry in enumerate(data.get("combo") or []):
        where = f"combo[{index}]"
        category = entry.get("category")
        if category not in CATEGORIES:
            raise YuqingError("E_DATA_FILE", path=str(path), problem=f"{where}.category 不是四类突发事件之一")
        groups = entry.get("all")
        if not isinstance(groups, list) or len(groups) < 2 or not all(isinstance(g, list) and g for g in groups):
            raise YuqingError("E_DATA_FILE", path=str(path), problem=f"{where}.all 必须是至少两组词")
        combos.append(Combo(
            key=str(entry.get("key") or where), name=str(entry.get("name") or where), category=category,
            groups=tuple(_pattern(g, f"{where}.all", path) for g in groups),
            unless=tuple(entry.get("unless") or ()), replaces=tuple(entry.get("replaces") or ()),
        ))
    return ComboRules(
        combos=tuple(combos), cancel=tuple(section.get("cancel") or ()), sentences=int(section.get("sentences", 2)),
        unverified=_pattern(list(section.get("unverified") or ["网传"]), "combos.unverified", path),
    )


@dataclass(frozen=True)
class ComboHit:
    combo: Combo
    words: tuple[str, ...]


def match(rules: ComboRules, text: str) -> ComboHit | None:
    """The first combo whose every word group is found in one of the leading sentences."""
    sentences = [m.group(0) for m in SENTENCES.finditer(text)][: rules.sentences]
    for sentence in sentences:
        if any(word in sentence for word in rules.cancel):
            continue
        for combo in rules.combos:
            if any(word in sentence for word in combo.unless):
                continue
            found = [group.search(sentence) for group in combo.groups]
            if all(found):
                return ComboHit(combo, tuple(m.group(0) for m in found if m))
    return None


def unverified(rules: ComboRules, text: str) -> bool:
    """The lead says the event is hearsay (网传, 网曝, 疑似): flag it, and mark it 待核实."""
    lead = next(iter(SENTENCES.finditer(text)), None)
    return bool(lead and rules.unverified.search(lead.group(0)))
