"""Units of the registry as read models (UnitView) for lists and pickers, and an office's unit file
(TOML `[[unit]]` entries, or a sheet with the same columns) loaded into its registry."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from classify.units import UnitRef, load_units_file, units_from_entries
from yuqing.db.models import Unit
from yuqing.errors import YuqingError

COLUMNS = ("code", "name", "kind", "aliases", "predecessors", "active", "merged_into")
_FALSE = {"false", "no", "0", "否", "停用", "已撤并"}


@dataclass(frozen=True)
class UnitView:
    code: str
    name: str
    kind: str
    aliases: tuple[str, ...]
    predecessors: tuple[str, ...]
    active: bool


def _unit_view(unit: Unit) -> UnitView:
    return UnitView(unit.code, unit.name, unit.kind, tuple(unit.aliases), tuple(unit.predecessors), unit.active)


def list_units(session: Session, *, include_inactive: bool = False) -> list[UnitView]:
    """The session's office's own registry."""
    from yuqing.db.offices import scoped_units

    stmt = select(Unit).where(scoped_units(session)).order_by(Unit.kind.desc(), Unit.id)
    if not include_inactive:
        stmt = stmt.where(Unit.active.is_(True))
    return [_unit_view(u) for u in session.scalars(stmt)]


def read_unit_file(path: Path) -> tuple[str, tuple[UnitRef, ...]]:
    """(version, units) of a unit file: TOML as db/units.toml, or xlsx whose first row names the
    columns code, name, kind, aliases, predecessors, active, merged_into (lists separated by 、 , ;)."""
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return load_units_file(path)
    if suffix != ".xlsx":
        raise YuqingError("E_UNIT_FILE_KIND", path=str(path))
    from ingest.importer import read_table

    rows = [row for row in read_table(path) if any(cell not in (None, "") for cell in row)]
    if not rows:
        raise YuqingError("E_UNIT_SHEET", path=str(path), problem="表格是空的")
    header = [str(cell or "").strip().lower() for cell in rows[0]]
    missing = [c for c in ("code", "name", "kind") if c not in header]
    if missing:
        raise YuqingError("E_UNIT_SHEET", path=str(path), problem="第一行缺少列：" + "、".join(missing))
    entries = [_entry(dict(zip(header, row, strict=False))) for row in rows[1:]]
    return path.stem, units_from_entries(entries, path)


def _entry(cells: dict[str, Any]) -> dict[str, Any]:
    def text(key: str) -> str:
        value = cells.get(key)
        return "" if value is None else str(value).strip()

    def names(key: str) -> list[str]:
        raw = text(key)
        for separator in ("，", ",", "；", ";"):
            raw = raw.replace(separator, "、")
        return [part.strip() for part in raw.split("、") if part.strip()]

    entry: dict[str, Any] = {"code": text("code"), "name": text("name"), "kind": text("kind"),
                             "aliases": names("aliases"), "predecessors": names("predecessors")}
    active = cells.get("active")
    entry["active"] = active if isinstance(active, bool) else text("active").lower() not in _FALSE
    if text("merged_into"):
        entry["merged_into"] = text("merged_into")
    return entry


def import_units(writer: Any, path: Path, *, office: str) -> tuple[str, str, int, int]:
    """Load a unit file into an office's registry: (office name, version, added, updated)."""
    from yuqing.db.offices import find_office

    target = find_office(writer.session, office)
    version, refs = read_unit_file(path)
    added, updated = writer.sync_units(refs, office_id=target.id)
    return target.name, version, added, updated
