"""Units of the registry as read models (UnitView) for lists and pickers."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.db.models import Unit


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
    stmt = select(Unit).order_by(Unit.kind.desc(), Unit.id)
    if not include_inactive:
        stmt = stmt.where(Unit.active.is_(True))
    return [_unit_view(u) for u in session.scalars(stmt)]
