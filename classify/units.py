"""The unit registry as plain data: loading the editable unit file and resolving what people type.

Pure: the database stores the same records; both sides build `UnitRef`s and resolve through here.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from timeline.words import YuqingError

KINDS = ("department", "county", "town", "enterprise")


@dataclass(frozen=True)
class UnitRef:
    code: str
    name: str
    kind: str
    aliases: tuple[str, ...] = ()
    predecessors: tuple[str, ...] = ()
    active: bool = True
    merged_into: str | None = None

    def names(self) -> tuple[str, ...]:
        return (self.code, self.name, *self.aliases, *self.predecessors)


def load_units_file(path: Path) -> tuple[str, tuple[UnitRef, ...]]:
    """Read and validate a unit file (the application passes its registry); returns (version, units).
    Errors name the file and entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise YuqingError("E_DATA_FILE", path=str(path), problem=str(exc)) from exc
    return str(data.get("version", "")), units_from_entries(data.get("unit"), path)


def units_from_entries(entries: object, path: Path) -> tuple[UnitRef, ...]:
    """Validate `[[unit]]` entries (from a TOML file or the rows of a sheet with the same columns)."""

    def problem(text: str) -> YuqingError:
        return YuqingError("E_DATA_FILE", path=str(path), problem=text)

    if not isinstance(entries, list) or not entries:
        raise problem("没有任何 [[unit]] 条目")
    units: list[UnitRef] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"unit[{index}]"
        if not isinstance(entry, dict):
            raise problem(f"{where} 不是表")
        code = entry.get("code")
        if not isinstance(code, str) or not code.strip():
            raise problem(f"{where} 缺少 code")
        if code in seen:
            raise problem(f"{where} 的 code {code!r} 重复")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise problem(f"{where}（{code}）缺少 name")
        kind = entry.get("kind")
        if kind not in KINDS:
            raise problem(f"{where}（{code}）的 kind 必须是 department、county、town 或 enterprise")
        aliases = entry.get("aliases", [])
        predecessors = entry.get("predecessors", [])
        if not isinstance(aliases, list) or not isinstance(predecessors, list) or not all(
            isinstance(a, str) and a for a in [*aliases, *predecessors]
        ):
            raise problem(f"{where}（{code}）的 aliases/predecessors 必须是非空字符串列表")
        seen[code] = name
        units.append(
            UnitRef(
                code=code,
                name=name,
                kind=kind,
                aliases=tuple(aliases),
                predecessors=tuple(predecessors),
                active=bool(entry.get("active", True)),
                merged_into=entry.get("merged_into"),
            )
        )
    for unit in units:
        if unit.merged_into is not None and unit.merged_into not in seen:
            raise problem(f"{unit.code} 的 merged_into {unit.merged_into!r} 不存在")
    return tuple(units)


# The place an office's name or its government's name starts with: 灵宝市人民政府 → 灵宝市.
_PLACE = re.compile(r"^(.+?[省市县区旗])")
_GENERIC = ("人民政府", "政府", "")


def place_of(name: str) -> str | None:
    """The place an office (or its government) is named after: 三门峡市政务公开领导小组办公室 → 三门峡市,
    灵宝市人民政府 → 灵宝市, 卢氏县… → 卢氏县; None when the name starts with no place."""
    found = _PLACE.match("".join((name or "").split()))
    return found.group(1) if found else None


def place_prefixes(place: str | None) -> tuple[str, ...]:
    """What a name may carry before the unit's own words in the office of `place`, longest first:
    灵宝市人民政府教育局, 灵宝市教育局, 灵宝教育局, 市教育局 (a county's 县教育局, a district's 区…)."""
    if not place:
        return ()
    bare, level = place[:-1], place[-1]
    heads = [place + g for g in _GENERIC] + ([bare] if len(bare) >= 2 else []) + [level + g for g in _GENERIC]
    return tuple(sorted(dict.fromkeys(heads), key=len, reverse=True))


class UnitResolver:
    """Resolve a code, full name, alias or predecessor name to one active unit.

    `place` is the acting office's place (place_of): a name may carry it before the unit's own words
    (三门峡市教育局 in the city's office, 灵宝教育局 in 灵宝's); another place's prefix is not stripped."""

    def __init__(self, units: tuple[UnitRef, ...] | list[UnitRef], *, place: str | None = None) -> None:
        self.units = tuple(units)
        self._prefixes = place_prefixes(place)
        self._place_bare = place[:-1] if place and len(place) >= 3 else place
        by_code = {u.code: u for u in self.units}
        self._index: dict[str, set[str]] = {}
        self._bare: dict[str, set[str]] = {}
        for unit in self.units:
            target = unit
            # A merged unit resolves to its successor so old names keep working.
            hops = 0
            while not target.active and target.merged_into and hops < 5:
                target = by_code[target.merged_into]
                hops += 1
            for name in unit.names():
                self._index.setdefault(self._norm(name), set()).add(target.code)
                self._bare.setdefault(self._bare_key(name), set()).add(target.code)
        self._by_code = by_code

    @staticmethod
    def _norm(text: str) -> str:
        return "".join(text.split()).lower()

    # 附件1 writes 教育局 for 市教育局 and 市政府外侨办 for 市外侨办; news writes 三门峡市教育局.
    def _bare_key(self, text: str) -> str:
        key = self._norm(text)
        for prefix in self._prefixes:
            if key.startswith(prefix) and len(key) > len(prefix) + 1:
                return key[len(prefix):]
        return key

    def get(self, code: str) -> UnitRef:
        return self._by_code[code]

    def resolve(self, text: str) -> UnitRef:
        key = self._norm(text or "")
        codes = self._index.get(key)
        if not codes and self._place_bare and key.startswith(self._place_bare):
            codes = self._index.get(key[len(self._place_bare):])
        if not codes:  # the name without the office's place / 市政府 / 市, as 附件1 and news write it
            codes = self._bare.get(self._bare_key(key))
        if not codes:
            raise YuqingError("E_UNIT_UNKNOWN", value=text, suggestion=self._suggest(text))
        if len(codes) > 1:
            names = "、".join(sorted(self._by_code[c].name for c in codes))
            raise YuqingError("E_UNIT_AMBIGUOUS", value=text, choices=names)
        return self._by_code[next(iter(codes))]

    def _suggest(self, text: str) -> str:
        names = {n: u for u in self.units if u.active for n in (u.name, *u.aliases)}
        close = difflib.get_close_matches(text or "", list(names), n=3, cutoff=0.4)
        if not close:
            return "，请用 yuqing units list 查看单位名称"
        picks: list[str] = []
        for name in close:
            full = names[name].name
            if full not in picks:
                picks.append(full)
        return "，您是否要找：" + "、".join(picks)
