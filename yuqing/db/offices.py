"""Assessing offices (考核主体) and the office scope of a session: which office's records it sees and
writes. A session's office sits in `session.info["office_id"]` (set by Database.for_office); every ORM
query of a scoped table gets the office condition added here (SQLAlchemy's with_loader_criteria), the
Core queries that scoring runs add `office_clause` themselves, new rows take the session's office, and
on PostgreSQL row-level security keyed on the same office is the second wall (yuqing.db.rls).

One incident, two views: an incident the county office logs about the county government itself names
as its lead unit the city's unit of kind county (灵宝's office → the city's unit 灵宝市, the office's
`unit_code`). It belongs to the county office (its records, its clock); the city sees it because its
lead unit is in the city's registry. Each office scores it in its own scheme: the city under 灵宝市 on
its 附件3 tree, the county under the same unit (its own government) in its own table.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, ColumnElement, event, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.functions import FunctionElement

from yuqing.db.models import AlertDelivery, ApiToken, Feed, Incident, Item, Office, Screen, Unit, User
from yuqing.db.models_scoring import (
    Appeal,
    DailyRecord,
    ManualScore,
    OfficeScheme,
    Rectification,
    Referral,
    ScoreSnapshot,
    SpecialItem,
    Zeroing,
)
from yuqing.errors import YuqingError

CODE_LIMIT = 40
NAME_LIMIT = 100

# Tables whose rows belong to one office and are seen only in that office's scope.
SCOPED: tuple[type[Any], ...] = (Feed, Item, Referral, ScoreSnapshot, Screen, ApiToken, ManualScore, SpecialItem,
                                 Zeroing, DailyRecord, Appeal, Rectification, AlertDelivery, OfficeScheme)


@dataclass(frozen=True)
class OfficeView:
    id: int
    code: str
    name: str
    parent: str | None
    unit_code: str | None

    def as_json(self) -> dict[str, str | None]:
        return {"code": self.code, "name": self.name, "parent": self.parent}


def _view(session: Session, office: Office) -> OfficeView:
    parent = session.get(Office, office.parent_id).code if office.parent_id is not None else None  # type: ignore[union-attr]
    return OfficeView(office.id, office.code, office.name, parent, office.unit_code)


def list_offices(session: Session) -> list[OfficeView]:
    """Every office, parents before children (in order of creation)."""
    return [_view(session, o) for o in session.scalars(select(Office).order_by(Office.id))]


def visible_offices(session: Session, home: int) -> list[OfficeView]:
    """The offices an account of `home` sees: its own and those under it."""
    mine = descendants(session, home)
    return [o for o in list_offices(session) if o.id in mine]


def find_office(session: Session, code: str) -> OfficeView:
    office = session.scalar(select(Office).where(Office.code == (code or "").strip()))
    if office is None:
        raise YuqingError("E_OFFICE_UNKNOWN", value=code)
    return _view(session, office)


def office_by_id(session: Session, office_id: int) -> OfficeView:
    office = session.get(Office, office_id)
    assert office is not None
    return _view(session, office)


def root_office_id(session: Session) -> int:
    """The first office without a parent (migration 0012 creates it with today's records)."""
    found = session.scalar(select(Office.id).where(Office.parent_id.is_(None)).order_by(Office.id).limit(1))
    if found is None:
        raise YuqingError("E_DB_NOT_INITIALISED")
    return int(found)


def local_office_id(session: Session, code: str) -> int:
    """The office of the local operator (no `--as`): the one named by YUQING_OFFICE, else the root."""
    found = session.scalar(select(Office.id).where(Office.code == code))
    return int(found) if found is not None else root_office_id(session)


def current_office_id(session: Session) -> int:
    """The office of this session: its scope, else the root office (installation-wide sessions)."""
    office = session.info.get("office_id")
    if office is None:
        office = session.info["office_id_default"] = session.info.get("office_id_default") or root_office_id(session)
    return int(office)


def descendants(session: Session, office_id: int) -> set[int]:
    """The office and every office under it (parents may nest: province → city → county)."""
    rows = session.execute(select(Office.id, Office.parent_id)).all()
    children: dict[int, list[int]] = {}
    for child, parent in rows:
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found, todo = {office_id}, [office_id]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def office_clause(session: Session, office_column: Any, unit_id_column: Any | None = None) -> ColumnElement[bool] | None:
    """The condition a Core query of a scoped table adds (None: an installation-wide session). With the
    lead unit's id column, an incident of another office about one of this office's units is in."""
    office = session.info.get("office_id")
    if office is None:
        return None
    if unit_id_column is None:
        return office_column == office
    return or_(office_column == office, led_by_units_of(unit_id_column, office))


class led_by_units_of(FunctionElement[bool]):  # noqa: N801 - named like the SQL functions it stands beside
    """`unit_id IN (the office's units)`. On PostgreSQL it is written `unit_id = ANY(ARRAY(SELECT …))`:
    the list is computed once and the condition is an index condition, so `office_id = X OR …` runs as
    two index scans (BitmapOr). As `IN (SELECT …)` under an OR it is a hashed subplan filter, and the
    planner read every office's incidents to apply it (bench/offices_scale.py: 324 000 rows scanned
    for one county's 2 000, the year score 3× the same office alone)."""

    name = "led_by_units_of"
    type = Boolean()
    inherit_cache = True

    def __init__(self, unit_id_column: Any, office: int) -> None:
        # Its own alias and no correlation: the query around it may select from units too.
        units = Unit.__table__.alias("office_units")
        ids = select(units.c.id).where(units.c.office_id == office).correlate(None).scalar_subquery()
        super().__init__(unit_id_column, ids)


@compiles(led_by_units_of)
def _led_by_units_of(element: led_by_units_of, compiler: Any, **kw: Any) -> str:
    column, ids = list(element.clauses)
    return f"{compiler.process(column, **kw)} IN {compiler.process(ids, **kw)}"


@compiles(led_by_units_of, "postgresql")
def _led_by_units_of_pg(element: led_by_units_of, compiler: Any, **kw: Any) -> str:
    column, ids = list(element.clauses)
    return f"{compiler.process(column, **kw)} = ANY(ARRAY{compiler.process(ids, **kw)})"


def incident_visible(office: int) -> Any:
    """Incidents of the office, and those of other offices whose lead unit is one of its units."""
    return lambda cls: or_(cls.office_id == office, led_by_units_of(cls.unit_id, office))


@event.listens_for(Session, "do_orm_execute")
def _scope_queries(state: ORMExecuteState) -> None:
    office = state.session.info.get("office_id")
    if office is None or not (state.is_select or state.is_update or state.is_delete):
        return
    options = [with_loader_criteria(Incident, incident_visible(office), include_aliases=True)]
    options += [with_loader_criteria(model, lambda cls: cls.office_id == office, include_aliases=True) for model in SCOPED]
    state.statement = state.statement.options(*options)


@event.listens_for(Session, "before_flush")
def _new_rows_take_the_office(session: Session, _context: Any, _instances: Any) -> None:
    for row in session.new:
        if hasattr(row, "office_id") and row.office_id is None and not isinstance(row, Office):
            owner = _owner_office(session, row)
            row.office_id = current_office_id(session) if owner is None else owner


def _owner_office(session: Session, row: Any) -> int | None:
    """The office a new row belongs to by what it is about: an item its feed's, an alert delivery its
    incident's (else its feed's); None: the session's office."""
    if isinstance(row, AlertDelivery) and row.incident_id is not None:
        incident = session.get(Incident, row.incident_id)
        if incident is not None:
            return int(incident.office_id)
    if isinstance(row, (Item, AlertDelivery)) and row.feed_id is not None:
        feed = session.get(Feed, row.feed_id)
        if feed is not None:
            return int(feed.office_id)
    return None


def scoped_units(session: Session) -> Any:
    """The condition for the units a session's office works with: its own registry (every unit in an
    installation-wide session that has no office yet: the root office)."""
    return Unit.office_id == current_office_id(session)


def counterpart_unit(session: Session) -> Unit | None:
    """The unit of the parent office's registry that this office's government is (None for the root)."""
    office = session.get(Office, current_office_id(session))
    if office is None or office.unit_code is None:
        return None
    return session.scalar(select(Unit).where(Unit.code == office.unit_code))


def office_place(session: Session, office_id: int | None = None) -> str | None:
    """The place the office's names may start with (classify.units.place_of): its government's name
    in the parent's registry (灵宝市人民政府 → 灵宝市), else its own name (the root office:
    三门峡市政务公开领导小组办公室 → 三门峡市)."""
    from classify.units import place_of

    office = session.get(Office, current_office_id(session) if office_id is None else office_id)
    if office is None:
        return None
    if office.unit_code is not None:
        government = session.scalar(select(Unit.name).where(Unit.code == office.unit_code))
        if government and place_of(government):
            return place_of(government)
    return place_of(office.name)


def add_office(writer: Any, code: str, *, name: str, parent: str, unit: str | None = None) -> OfficeView:
    """A new office under `parent`; only an administrator of the parent (or an office above it) adds one.
    `unit` is the code of the parent's unit that is this office's government (灵宝市 for 灵宝's office)."""
    from yuqing.settings import OFFICE_CODE

    session: Session = writer.session
    writer.require_admin("添加考核办")
    code = (code or "").strip()
    name = (name or "").strip()
    if not OFFICE_CODE.fullmatch(code):
        raise YuqingError("E_OFFICE_CODE", value=code)
    if not name or len(name) > NAME_LIMIT:
        raise YuqingError("E_OFFICE_NAME", limit=NAME_LIMIT)
    if session.scalar(select(Office.id).where(Office.code == code)) is not None:
        raise YuqingError("E_OFFICE_EXISTS", value=code)
    above = find_office(session, parent)
    writer.require_office(above.id, "添加考核办")
    if unit is not None:
        row = session.scalar(select(Unit).where(Unit.code == unit.strip(), Unit.office_id == above.id))
        if row is None:
            raise YuqingError("E_OFFICE_UNIT", unit=unit, parent=above.name)
        unit = row.code
    office = Office(code=code, name=name, parent_id=above.id, unit_code=unit)
    session.add(office)
    session.flush()
    writer.audit("office", code, "create", None, {"name": name, "parent": above.code, "unit": unit})
    return _view(session, office)


def users_of(session: Session) -> Any:
    """The condition for the accounts a session's office lists."""
    return User.office_id == current_office_id(session)
