"""Scoring schemes as data: the indicator trees of 附件2/附件3, their points, and the counting rules.

One TOML file per scheme under `scoring/schemes/`; a scheme applies from `first_year` until the next
scheme (or its own `last_year`). Every loading error names the file, the key and the problem.
"""
from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from timeline.model import ACTION_KINDS
from timeline.words import YuqingError

SCHEME_DIR = Path(__file__).with_name("schemes")
DEFAULT_SCHEME = "sanmenxia-2017"
KINDS = ("department", "county")
# Unit kinds without a tree of their own and the tree they are assessed on.
TREE_OF_KIND = {"town": "county", "enterprise": "department"}
SOURCES = ("manual", "timeliness", "authority", "coverage", "continuity", "daily_monitoring", "referrals")
PAST_DUE_RULES = ("exempt", "count", "unflagged_rate")
STATUSES = ("proposed", "adopted")
_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]*")


@dataclass(frozen=True)
class Section:
    code: str
    name: str
    opinion: bool = False


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    section: str
    name: str
    points: float
    source: str
    group: str | None = None
    criteria: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    mode: str = "deduct"  # deduct: starts at its maximum, loses points | earn: starts at 0, credits up to it

    @property
    def computed(self) -> bool:
        return self.source != "manual"


@dataclass(frozen=True)
class Tree:
    kind: str
    title: str
    indicators: tuple[IndicatorDef, ...]

    def get(self, code: str) -> IndicatorDef | None:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        return None

    def by_source(self, source: str) -> IndicatorDef | None:
        for indicator in self.indicators:
            if indicator.source == source:
                return indicator
        return None


@dataclass(frozen=True)
class SpecialDef:
    code: str
    kind: str  # "bonus" | "penalty"
    name: str
    points: float
    cap: float | None


@dataclass(frozen=True)
class ZeroingDef:
    code: str
    name: str
    grade: str


@dataclass(frozen=True)
class Grade:
    name: str
    min: float | None  # None: the catch-all lowest grade


@dataclass(frozen=True)
class Scheme:
    name: str
    title: str
    source: str
    status: str
    note: str
    first_year: int
    last_year: int | None
    total_points: float
    missing_manual: str  # "null" | "zero"
    co_units: str  # "lead_only" | "shared"
    co_unit_share: float
    past_due_at_reclassification: str
    daily: str  # "indicator" | "total" | "none"
    total_floor: float | None
    total_cap: float | None
    sections: tuple[Section, ...]
    trees: Mapping[str, Tree]
    specials: tuple[SpecialDef, ...]
    bonus_cap: float | None
    penalty_cap: float | None
    zeroing: ZeroingDef
    grades: tuple[Grade, ...]
    path: str = ""
    digest: str = ""

    def tree(self, kind: str) -> Tree:
        """The indicator tree a unit of `kind` is assessed on: towns (乡镇、街道) on the counties'
        附件3-style tree, public enterprises (第十八条) on the departments' 附件2-style tree."""
        return self.trees[kind] if kind in self.trees else self.trees[TREE_OF_KIND[kind]]

    def section(self, code: str) -> Section:
        for section in self.sections:
            if section.code == code:
                return section
        raise KeyError(code)

    def special(self, code: str) -> SpecialDef | None:
        for item in self.specials:
            if item.code == code:
                return item
        return None

    def grade_for(self, total: float) -> str:
        """第十二条: 优秀 90 分以上, 良好 80–<90, 合格 60–<80, 不合格 低于 60 — each `min` is inclusive."""
        for grade in self.grades:
            if grade.min is None or total >= grade.min:
                return grade.name
        return self.grades[-1].name

    def applies_to(self, year: int) -> bool:
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)


# Parameters of each computed source: name → (kind, required). Kinds: "amount" (number ≥ 0),
# "count" (integer ≥ 1), "applies_to" ("all"|"flagged"), "kinds" (list of action kinds), "start".
# deduct: the indicator starts at its maximum and loses points; earn: it starts at 0 and is credited
# (日常考核 + records) up to its maximum.
MODES: tuple[str, ...] = ("deduct", "earn")
PARAMS: dict[str, dict[str, str]] = {
    "manual": {},
    "timeliness": {"late": "amount", "overdue": "amount", "late_flagged": "amount", "overdue_flagged": "amount"},
    "authority": {"per_incident": "amount"},
    "coverage": {"applies_to": "applies_to", "min_channels": "count", "per_incident": "amount"},
    "continuity": {
        "applies_to": "applies_to",
        "follow_up_kinds": "kinds",
        "per_missing_follow_up": "amount",
        "per_secondary": "amount",
    },
    "daily_monitoring": {"start": "start"},
    "referrals": {"late": "amount", "overdue": "amount"},
}


def available_schemes(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or SCHEME_DIR).glob("*.toml"))


def load_scheme(name_or_year: str | int, directory: Path | None = None) -> Scheme:
    """A scheme by file name (`sanmenxia-2017`) or by assessment year (2026 → the scheme with the
    latest `first_year` not after 2026 that has not ended)."""
    directory = directory or SCHEME_DIR
    if isinstance(name_or_year, int) or (isinstance(name_or_year, str) and name_or_year.strip().isdigit()):
        return _scheme_for_year(int(name_or_year), directory)
    path = directory / f"{name_or_year}.toml"
    if not path.is_file():
        raise YuqingError(
            "E_SCHEME_UNKNOWN", value=name_or_year, choices="、".join(available_schemes(directory)) or "（无）"
        )
    return _cached_parse(path.resolve(), path.stat().st_mtime_ns)


def _scheme_for_year(year: int, directory: Path) -> Scheme:
    return pick_scheme(year, [load_scheme(name, directory) for name in available_schemes(directory)], str(directory))


def pick_scheme(year: int, schemes: list[Scheme], where: str) -> Scheme:
    """Of `schemes`, the one for assessment year `year`: the latest `first_year` not after it that
    has not ended; refused when none fits or two start the same year (`where` names their home)."""
    fitting = [s for s in schemes if s.applies_to(year)]
    if not fitting:
        choices = "、".join(
            f"{s.name}（{s.first_year}–{s.last_year or ''}）" for s in sorted(schemes, key=lambda s: s.first_year)
        )
        raise YuqingError("E_SCHEME_NO_YEAR", year=year, choices=choices or "（无）")
    latest = max(s.first_year for s in fitting)
    best = [s for s in fitting if s.first_year == latest]
    if len(best) > 1:
        names = "、".join(s.name for s in best)
        raise YuqingError(
            "E_SCHEME_INVALID", path=where, key="first_year", problem=f"{names} 都从 {latest} 年起适用，无法确定用哪一个"
        )
    return best[0]


@lru_cache(maxsize=32)
def _cached_parse(path: Path, _mtime: int) -> Scheme:
    return parse_scheme(path)


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> YuqingError:
        return YuqingError("E_SCHEME_INVALID", path=str(self.path), key=key, problem=problem)

    def text(self, data: Mapping[str, Any], key: str, where: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}{key}", "必须是非空文字")
        return value.strip()

    def code(self, data: Mapping[str, Any], key: str, where: str) -> str:
        value = self.text(data, key, where)
        if not _CODE.fullmatch(value):
            raise self.fail(f"{where}{key}", f"代码 {value!r} 只能由小写字母、数字、点、下划线和连字符组成")
        return value

    def optional_text(self, data: Mapping[str, Any], key: str, where: str) -> str | None:
        return None if data.get(key) is None else self.text(data, key, where)

    def number(self, data: Mapping[str, Any], key: str, where: str, required: bool = True, positive: bool = False) -> float | None:
        value = data.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(f"{where}{key}", "必须是数字")
        if value < 0 or (positive and value == 0):
            raise self.fail(f"{where}{key}", "必须大于 0" if positive else "不能为负数")
        return float(value)

    def choice(self, data: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...], default: str | None = None) -> str:
        value = data.get(key, default)
        if value not in choices:
            raise self.fail(f"{where}{key}", f"必须是 {' | '.join(choices)} 之一，现为 {value!r}")
        return str(value)


def parse_scheme(path: Path, raw: bytes | None = None) -> Scheme:
    """Load and validate one scheme file (sums, codes, references, parameters); `raw`: its bytes as
    stored elsewhere (an office's own scheme), `path` then only names it."""
    check = _Checker(path)
    try:
        raw = path.read_bytes() if raw is None else raw
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise check.fail("（文件）", str(exc)) from exc

    name = check.text(data, "name", "")
    if name != path.stem:
        raise check.fail("name", f"{name!r} 与文件名 {path.stem!r} 不一致")
    first_year = data.get("first_year")
    if not isinstance(first_year, int) or isinstance(first_year, bool) or not 2000 <= first_year <= 2100:
        raise check.fail("first_year", "必须是 2000–2100 之间的年份")
    last_year = data.get("last_year")
    if last_year is not None and (not isinstance(last_year, int) or isinstance(last_year, bool) or last_year < first_year):
        raise check.fail("last_year", "必须是不早于 first_year 的年份")
    total_points = check.number(data, "total_points", "", positive=True)
    assert total_points is not None

    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise check.fail("rules", "必须是表")
    co_unit_share = check.number(rules, "co_unit_share", "rules.", required=False)
    if co_unit_share is None:
        co_unit_share = 1.0
    if not 0 < co_unit_share <= 1:
        raise check.fail("rules.co_unit_share", "必须在 0 到 1 之间（不含 0）")

    sections = _sections(check, data.get("section"))
    section_codes = {s.code for s in sections}
    trees = {kind: _tree(check, kind, data.get(kind), section_codes, total_points) for kind in KINDS}
    grades = _grades(check, data.get("grade"))
    specials, bonus_cap, penalty_cap = _specials(check, data.get("special"))
    zeroing = _zeroing(check, data.get("zeroing"), {g.name for g in grades}, {s.code for s in specials})

    return Scheme(
        name=name,
        title=check.text(data, "title", ""),
        source=check.text(data, "source", ""),
        status=check.choice(data, "status", "", STATUSES),
        note=str(data.get("note", "")),
        first_year=first_year,
        last_year=last_year,
        total_points=total_points,
        missing_manual=check.choice(rules, "missing_manual", "rules.", ("null", "zero")),
        co_units=check.choice(rules, "co_units", "rules.", ("lead_only", "shared")),
        co_unit_share=co_unit_share,
        past_due_at_reclassification=check.choice(rules, "past_due_at_reclassification", "rules.", PAST_DUE_RULES),
        daily=check.choice(rules, "daily", "rules.", ("indicator", "total", "none")),
        total_floor=_optional_number(check, rules, "total_floor"),
        total_cap=_optional_number(check, rules, "total_cap"),
        sections=sections,
        trees=trees,
        specials=specials,
        bonus_cap=bonus_cap,
        penalty_cap=penalty_cap,
        zeroing=zeroing,
        grades=grades,
        path=str(path),
        digest=hashlib.sha256(raw).hexdigest(),
    )


def _optional_number(check: _Checker, rules: Mapping[str, Any], key: str) -> float | None:
    value = rules.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise check.fail(f"rules.{key}", "必须是数字")
    return float(value)


def _sections(check: _Checker, entries: Any) -> tuple[Section, ...]:
    if not isinstance(entries, list) or not entries:
        raise check.fail("section", "至少需要一个 [[section]]")
    sections: list[Section] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"section[{index}]."
        code = check.code(entry, "code", where)
        if code in seen:
            raise check.fail(f"{where}code", f"{code!r} 重复")
        seen.add(code)
        sections.append(Section(code, check.text(entry, "name", where), bool(entry.get("opinion", False))))
    if sum(1 for s in sections if s.opinion) != 1:
        raise check.fail("section", "必须恰有一个 opinion = true 的栏目（政务舆情监测处置）")
    return tuple(sections)


def _tree(check: _Checker, kind: str, data: Any, section_codes: set[str], total_points: float) -> Tree:
    if not isinstance(data, dict):
        raise check.fail(kind, f"缺少 [{kind}] 指标树")
    entries = data.get("indicator")
    if not isinstance(entries, list) or not entries:
        raise check.fail(f"{kind}.indicator", "至少需要一个指标")
    indicators: list[IndicatorDef] = []
    codes: set[str] = set()
    sources: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"{kind}.indicator[{index}]."
        code = check.code(entry, "code", where)
        where = f"{kind}.indicator[{index}]（{code}）."
        if code in codes:
            raise check.fail(f"{where}code", "指标代码重复")
        codes.add(code)
        section = check.text(entry, "section", where)
        if section not in section_codes:
            raise check.fail(f"{where}section", f"引用了不存在的栏目 {section!r}")
        source = check.choice(entry, "source", where, SOURCES)
        if source != "manual":
            if source in sources:
                raise check.fail(f"{where}source", f"{source} 已由指标 {sources[source]} 计算，同一指标树中只能出现一次")
            sources[source] = code
        points = check.number(entry, "points", where, positive=True)
        assert points is not None
        criteria = entry.get("criteria", [])
        if not isinstance(criteria, list) or not all(isinstance(c, str) for c in criteria):
            raise check.fail(f"{where}criteria", "必须是文字列表")
        unknown = set(entry) - {"code", "section", "group", "name", "points", "source", "criteria", "params", "mode"}
        if unknown:
            raise check.fail(where.rstrip("."), f"未知的键 {', '.join(sorted(unknown))}")
        mode = check.choice(entry, "mode", where, MODES) if "mode" in entry else "deduct"
        if mode == "earn" and source == "manual":
            raise check.fail(f"{where}mode", "人工录入的指标直接给分，不能设为 earn")
        indicators.append(
            IndicatorDef(
                code=code,
                section=section,
                name=check.text(entry, "name", where),
                points=points,
                source=source,
                group=check.optional_text(entry, "group", where),
                criteria=tuple(criteria),
                params=_params(check, source, entry.get("params", {}), f"{where}params.", points, mode),
                mode=mode,
            )
        )
    total = round(sum(i.points for i in indicators), 6)
    if total != total_points:
        raise check.fail(f"{kind}.indicator", f"各指标分值之和为 {total:g}，应为 {total_points:g}")
    return Tree(kind, check.text(data, "title", f"{kind}."), tuple(indicators))


def _params(check: _Checker, source: str, params: Any, where: str, points: float, mode: str = "deduct") -> dict[str, Any]:
    if not isinstance(params, dict):
        raise check.fail(where.rstrip("."), "必须是表")
    spec = dict(PARAMS[source])
    if mode == "earn" and "start" in spec:
        # An earn indicator starts at 0 by definition: a start point would contradict the mode.
        if "start" in params:
            raise check.fail(f"{where}start", "earn 指标从 0 分起算，不能再给出起点分 start")
        del spec["start"]
    unknown = set(params) - set(spec)
    if unknown:
        raise check.fail(where.rstrip("."), f"{source} 指标没有参数 {', '.join(sorted(unknown))}")
    result: dict[str, Any] = {}
    for key, kind in spec.items():
        if key not in params:
            raise check.fail(f"{where}{key}", f"{source} 指标必须给出 {key}")
        value = params[key]
        if kind == "amount":
            result[key] = check.number(params, key, where)
        elif kind == "count":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise check.fail(f"{where}{key}", "必须是正整数")
            result[key] = value
        elif kind == "applies_to":
            result[key] = check.choice(params, key, where, ("all", "flagged"))
        elif kind == "kinds":
            if not isinstance(value, list) or not value or any(v not in ACTION_KINDS for v in value):
                raise check.fail(f"{where}{key}", f"必须是处置类型列表（{', '.join(ACTION_KINDS)}）")
            result[key] = tuple(value)
        elif kind == "start":
            if value == "max":
                result[key] = points
            else:
                start = check.number(params, key, where)
                assert start is not None
                if start > points:
                    raise check.fail(f"{where}{key}", f"起点分 {start:g} 超过指标满分 {points:g}")
                result[key] = start
    return result


def _grades(check: _Checker, entries: Any) -> tuple[Grade, ...]:
    if not isinstance(entries, list) or len(entries) < 2:
        raise check.fail("grade", "至少需要两个等次")
    grades: list[Grade] = []
    for index, entry in enumerate(entries):
        where = f"grade[{index}]."
        name = check.text(entry, "name", where)
        last = index == len(entries) - 1
        minimum = check.number(entry, "min", where, required=not last) if not last or "min" in entry else None
        if last and minimum is not None:
            raise check.fail(f"{where}min", "最后一个等次是兜底等次，不能写 min")
        if grades and minimum is not None and grades[-1].min is not None and minimum >= grades[-1].min:
            raise check.fail(f"{where}min", "等次必须按 min 从高到低排列")
        if any(g.name == name for g in grades):
            raise check.fail(f"{where}name", f"等次 {name!r} 重复")
        grades.append(Grade(name, minimum))
    return tuple(grades)


def _specials(check: _Checker, data: Any) -> tuple[tuple[SpecialDef, ...], float | None, float | None]:
    if not isinstance(data, dict):
        raise check.fail("special", "缺少 [special]（特别加分项、特别减分项）")
    items: list[SpecialDef] = []
    for index, entry in enumerate(data.get("item", [])):
        where = f"special.item[{index}]."
        code = check.code(entry, "code", where)
        if any(i.code == code for i in items):
            raise check.fail(f"{where}code", f"特别项代码 {code!r} 重复")
        kind = check.choice(entry, "kind", where, ("bonus", "penalty"))
        points = check.number(entry, "points", where, positive=True)
        assert points is not None
        items.append(SpecialDef(code, kind, check.text(entry, "name", where), points, check.number(entry, "cap", where, required=False)))
    return (
        tuple(items),
        check.number(data, "bonus_cap", "special.", required=False),
        check.number(data, "penalty_cap", "special.", required=False),
    )


def _zeroing(check: _Checker, data: Any, grade_names: set[str], special_codes: set[str]) -> ZeroingDef:
    if not isinstance(data, dict):
        raise check.fail("zeroing", "缺少 [zeroing]（直接归零项）")
    code = check.code(data, "code", "zeroing.")
    if code in special_codes:
        raise check.fail("zeroing.code", f"{code!r} 与特别项代码重复")
    grade = check.text(data, "grade", "zeroing.")
    if grade not in grade_names:
        raise check.fail("zeroing.grade", f"引用了不存在的等次 {grade!r}")
    return ZeroingDef(code, check.text(data, "name", "zeroing."), grade)
