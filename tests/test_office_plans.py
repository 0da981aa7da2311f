"""The office scope of incidents (own records, or another office's led by one of the office's units) as
the database runs it: the right rows on both databases, and on PostgreSQL an index condition on the
office — not a filter over every office's incidents (bench/offices_scale.py measured the year score of
one county at 3× the same county alone before it was)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select, text

from tests.conftest import T0
from tests.test_offices import offices  # noqa: F401 - offices is a fixture
from yuqing.db.models import Incident, Office, Unit
from yuqing.db.offices import find_office
from yuqing.db.scoring_reads import load_incidents
from yuqing.db.service import Actor, NewIncident, Writer
from yuqing.db.session import Database

# title → (office that logs it, its lead unit)
INCIDENTS = {
    "灵宝教育局食堂问题": ("lingbao", "lb-jyj"),
    "灵宝市政府回应不及时": ("lingbao", "lingbao"),  # the county government itself: the city's unit
    "卢氏县政府回应不及时": ("lushi", "lushi"),
    "市应急局处置质疑": ("sanmenxia", "yjglj"),
}
SEES = {
    "sanmenxia": {"市应急局处置质疑", "灵宝市政府回应不及时", "卢氏县政府回应不及时"},
    "lingbao": {"灵宝教育局食堂问题", "灵宝市政府回应不及时"},
    "lushi": {"卢氏县政府回应不及时"},
}


@pytest.fixture
def province(offices: str) -> Database:  # noqa: F811 - the fixture imported above
    """The city office and two counties (test_offices' `offices`), each county's own incidents, one
    about each county government."""
    database = Database(offices)
    for n, (title, (office_code, unit)) in enumerate(INCIDENTS.items()):
        with database.session() as session:
            office = find_office(session, office_code).id
        with database.for_office(office).session() as session:
            Writer(session, Actor("test", office_id=office), now=T0, preset="sanmenxia-2017").add_incident(
                NewIncident(title=title, unit=unit, first_post_at=T0 - timedelta(hours=n + 1), classify=False))
    yield database
    database.dispose()


def _office(database: Database, code: str) -> Database:
    with database.session() as session:
        return database.for_office(find_office(session, code).id)


@pytest.mark.parametrize("code", sorted(SEES))
def test_an_office_sees_its_incidents_and_the_ones_its_units_lead(province: Database, code: str):
    mine = _office(province, code)
    with mine.session(write=False) as session:
        listed = set(session.scalars(select(Incident.title)))
        scored = {i.title for i in load_incidents(session, now=T0, start=T0 - timedelta(days=1), end=T0).values()}
    assert listed == SEES[code]
    assert scored == SEES[code]


def crowd(database: Database, code: str, units: int, n: int) -> None:
    """Another office with `units` more units and `n` more open incidents among them in the same hours
    (bulk rows, then fresh statistics), as in a province: status and start time select nearly every
    row, only the office narrows the query."""
    with database.engine.begin() as conn:
        office = conn.scalar(select(Office.id).where(Office.code == code))
        conn.execute(insert(Unit.__table__), [
            {"code": f"{code}-u{k}", "name": f"其他单位{k}", "kind": "department", "office_id": office,
             "aliases": [], "predecessors": [], "active": True} for k in range(units)])
        ids = list(conn.scalars(select(Unit.id).where(Unit.office_id == office)))
        conn.execute(insert(Incident.__table__), [
            {"office_id": office, "title": f"其他考核办的舆情 {i}", "unit_id": ids[i % len(ids)], "status": "open",
             "preset": "sanmenxia-2017", "first_post_at": T0 - timedelta(minutes=i % 600), "logged_at": T0,
             "started_at": T0 - timedelta(minutes=i % 600), "created_by": "test", "suggested_fields": []}
            for i in range(n)
        ])
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def _plans(database: Database, work: Any) -> list[list[dict[str, Any]]]:
    """EXPLAIN (FORMAT JSON) of every SELECT on incidents that `work(session)` runs, in its session, with
    sequential scans priced out: what remains is what the indexes allow."""
    captured: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM incidents" in statement:
            captured.append((statement, parameters))

    plans = []
    with database.session(write=False) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        event.listen(database.engine, "before_cursor_execute", keep)
        try:
            work(session)
        finally:
            event.remove(database.engine, "before_cursor_execute", keep)
        raw = session.connection().connection.driver_connection
        for statement, parameters in captured:
            with raw.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
                plans.append(cursor.fetchone()[0])
    return plans


def _incident_scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node] if node.get("Relation Name") == "incidents" or node.get("Node Type") == "BitmapOr" else []
    for child in node.get("Plans", ()):
        found += _incident_scans(child)
    return found


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
@pytest.mark.parametrize("query", ["orm", "scoring"])
def test_on_postgresql_the_office_scope_of_incidents_is_an_index_condition(province: Database, query: str):
    crowd(province, "lushi", 200, 4000)
    mine = _office(province, "lingbao")
    if query == "orm":
        plans = _plans(mine, lambda s: s.scalars(select(Incident.id).where(Incident.status == "open")).all())
    else:
        plans = _plans(mine, lambda s: load_incidents(s, now=T0, start=T0 - timedelta(days=1), end=T0))
    assert plans
    first = plans[0][0]["Plan"]  # the incidents themselves (the later ones join actions etc. to them)
    conditions = " ".join(str(n.get("Index Cond", "")) + " " + str(n.get("Recheck Cond", "")) for n in _incident_scans(first))
    assert "office_id = " in conditions, first
    assert "unit_id = ANY" in conditions, first
