"""Issue 17, the office's records beyond incidents: manual scores, special items, zeroings, 日常考核
records, appeals, rectifications and alert deliveries carry their office (migration 0021, backfilled
from their unit, incident or feed); an item is one per office (the same link in two offices' feeds is
each office's own item); on PostgreSQL row-level security is forced, so the tables' owner is fenced too."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from cliutil import yq
from sqlalchemy import select, text

from tests.feedserver import rss
from tests.test_offices import add, offices, ok, this_year, user  # noqa: F401 - offices is a fixture
from yuqing.db import migrate
from yuqing.db.models import AlertDelivery, Feed, Item
from yuqing.db.models_scoring import Appeal, DailyRecord, ManualScore, Rectification, SpecialItem, Zeroing
from yuqing.db.offices import list_offices
from yuqing.db.session import Database
from yuqing.worker import Poller

# The tables 0021 gives an office, and one command that writes a row into each (as `actor`).
RECORDS = (ManualScore, SpecialItem, Zeroing, DailyRecord, Appeal, Rectification)


def office_ids(url: str) -> dict[str, int]:
    database = Database(url)
    try:
        return database.read(lambda s: {o.code: o.id for o in list_offices(s)})
    finally:
        database.dispose()


def write_records(url: str, actor: str, unit: str) -> None:
    """One row of each scoring record for `unit`, written by `actor` (an admin of its office)."""
    year = this_year()
    ok(yq(url, "manual-score", "set", unit, "org.principal", "2", "--year", year, "--note", "考核组评分", actor=actor))
    ok(yq(url, "special", "add", unit, "--year", year, "--item", "bonus.media", "--points", "+1",
          "--evidence", "媒体报道", actor=actor))
    ok(yq(url, "special", "zero", unit, "--year", year, "--evidence", "弄虚作假", actor=actor))
    ok(yq(url, "daily", "add", unit, "--date", f"{year}-01-15", "--points", "-1", "--reason", "迟报舆情", actor=actor))
    ok(yq(url, "rectify", "add", unit, "--year", year, "--problem", "回应不及时", "--due", f"{year}-12-30",
          actor=actor))


def add_appeal(url: str, unit: str, title: str, office: int) -> None:
    """An appeal row as the write service stores one (the deduction key need not exist for the scope)."""
    database = Database(url).for_office(office)
    try:
        def work(session: Any) -> None:
            from yuqing.db.models import Unit

            row = session.scalar(select(Unit).where(Unit.code == unit))
            session.add(Appeal(year=int(this_year()), deduction_key=f"k-{title}", unit_id=row.id, reason=title,
                               filed_at=datetime.now(UTC), filed_by="tester"))
        database.run(work)
    finally:
        database.dispose()


def rows_seen(url: str, office: int, model: type[Any]) -> list[Any]:
    database = Database(url).for_office(office)
    try:
        return database.read(lambda s: list(s.scalars(select(model)).all()))
    finally:
        database.dispose()


def test_each_office_sees_and_writes_only_its_own_scoring_records(offices: str):
    ids = office_ids(offices)
    write_records(offices, "city", "市发改委")
    write_records(offices, "lbadmin", "灵宝市教育局")
    add_appeal(offices, "fgw", "city", ids["sanmenxia"])
    add_appeal(offices, "lb-jyj", "lingbao", ids["lingbao"])
    for model in RECORDS:
        city = rows_seen(offices, ids["sanmenxia"], model)
        county = rows_seen(offices, ids["lingbao"], model)
        assert [r.office_id for r in city] == [ids["sanmenxia"]], model.__name__
        assert [r.office_id for r in county] == [ids["lingbao"]], model.__name__
        assert {r.unit.code for r in county} == {"lb-jyj"}, model.__name__
        assert rows_seen(offices, ids["lushi"], model) == [], model.__name__


def test_migration_0021_gives_every_record_the_office_of_its_unit_incident_or_feed(offices: str):
    ids = office_ids(offices)
    write_records(offices, "city", "市发改委")
    write_records(offices, "lbadmin", "灵宝市教育局")
    add_appeal(offices, "lb-jyj", "lingbao", ids["lingbao"])
    county_incident = add(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    database = Database(offices)
    tables = [m.__tablename__ for m in RECORDS] + ["alert_deliveries"]
    try:
        migrate.downgrade(database.engine, "0020")
        with database.engine.begin() as conn:
            now = datetime.now(UTC)
            for key, incident in (("k-county", county_incident), ("k-checkpoint", None)):
                conn.execute(text(
                    "INSERT INTO alert_deliveries (key, channel, kind, incident_id, title, status, attempts, "
                    "first_tried_at, last_tried_at) VALUES (:k, 'wecom', 'due', :i, 't', 'sent', 1, :n, :n)"),
                    {"k": key, "i": incident, "n": now})
        with database.engine.connect() as conn:
            before = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
        migrate.upgrade(database.engine)
        with database.engine.connect() as conn:
            after = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}
            by_office = {t: dict(conn.execute(text(f"SELECT office_id, count(*) FROM {t} GROUP BY office_id")).all())
                         for t in tables}
    finally:
        database.dispose()
    assert after == before
    for model in RECORDS:
        table = model.__tablename__
        expected = {ids["lingbao"]: 1} if model is Appeal else {ids["sanmenxia"]: 1, ids["lingbao"]: 1}
        assert by_office[table] == expected, table
    # The county incident's delivery is the county's; one about no incident (a checkpoint) the root's.
    assert by_office["alert_deliveries"] == {ids["lingbao"]: 1, ids["sanmenxia"]: 1}
    assert [d.key for d in rows_seen(offices, ids["lingbao"], AlertDelivery)] == ["k-county"]


def test_a_new_alert_delivery_takes_its_incident_s_office(offices: str):
    ids = office_ids(offices)
    county_incident = add(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    database = Database(offices)  # the alert loop's installation-wide session
    try:
        now = datetime.now(UTC)
        database.run(lambda s: s.add(AlertDelivery(key="k1", channel="wecom", kind="due", incident_id=county_incident,
                                                   title="t", status="sent", attempts=1, first_tried_at=now,
                                                   last_tried_at=now)))
    finally:
        database.dispose()
    assert [d.key for d in rows_seen(offices, ids["lingbao"], AlertDelivery)] == ["k1"]
    assert rows_seen(offices, ids["sanmenxia"], AlertDelivery) == []


# --- one item per office ---------------------------------------------------------------------------
def test_the_same_link_in_two_offices_feeds_is_one_item_per_office(offices: str, server: Any,
                                                                    monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("YUQING_FEED_PRIVATE_HOSTS", "127.0.0.1")
    server.feeds["/news.xml"] = (200, rss([
        ("g1", "灵宝市某校食堂问题引关注", "https://news.example.cn/a/1", "家长反映某校食堂卫生问题"),
        ("g2", "三门峡市某路段积水", "https://news.example.cn/a/2", "市民反映道路积水"),
    ]), 0.0)
    server.feeds["/mirror.xml"] = (200, rss([
        ("m1", "灵宝市某校食堂问题引关注", "https://news.example.cn/a/1", "转载"),
    ]), 0.0)
    feed = server.url("/news.xml")
    ok(yq(offices, "feeds", "add", feed, "--name", "市里的源", actor="city"))
    ok(yq(offices, "feeds", "add", feed, "--name", "灵宝的源", actor="lbadmin"))  # the same address
    ok(yq(offices, "feeds", "add", server.url("/mirror.xml"), "--name", "灵宝的转载源", actor="lbadmin"))
    assert ok(yq(offices, "ingest", "once", "--json")).json()["feeds"] == 3  # the root's operator: every office
    ids = office_ids(offices)
    city = {i.link: i for i in rows_seen(offices, ids["sanmenxia"], Item)}
    county = {i.link: i for i in rows_seen(offices, ids["lingbao"], Item)}
    assert set(city) == set(county) == {"https://news.example.cn/a/1", "https://news.example.cn/a/2"}
    assert city["https://news.example.cn/a/1"].id != county["https://news.example.cn/a/1"].id
    assert {f.office_id for f in rows_seen(offices, ids["lingbao"], Feed)} == {ids["lingbao"]}
    # Within one office the mirror's copy is a sighting of the office's item, not a second item.
    database = Database(offices)
    try:
        sightings = database.read(lambda s: s.execute(text(
            "SELECT count(*) FROM item_sightings WHERE item_id = :i"), {"i": county["https://news.example.cn/a/1"].id}
        ).scalar_one())
    finally:
        database.dispose()
    assert sightings == 2
    # Polling every feed again (the server without validators: the bodies are parsed again) brings
    # nothing new to either office.
    server.validators = False
    server.feeds["/news.xml"] = (200, server.feeds["/news.xml"][1] + b" ", 0.0)
    database = Database(offices)
    try:
        feed_ids = database.read(lambda s: list(s.scalars(select(Feed.id)).all()))
        report = Poller(database, preset="sanmenxia-2017", private_hosts=("127.0.0.1",)).poll_feeds(feed_ids)
    finally:
        database.dispose()
    assert report.feeds == 3 and report.stats.new == 0 and not report.errors
    assert len(rows_seen(offices, ids["sanmenxia"], Item)) == 2
    assert len(rows_seen(offices, ids["lingbao"], Item)) == 2


# --- PostgreSQL: row-level security forced on the owner --------------------------------------------
@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_forced_rls_fences_the_tables_owner_when_the_application_runs_as_owner(db_url: str,
                                                                                monkeypatch: pytest.MonkeyPatch):
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_URL
    from tests.test_app_role import _drop_role
    from yuqing.db.session import make_engine

    role = f"yq_own_{make_url(PG_URL).database}_{uuid.uuid4().hex[:8]}"
    schema = f"o_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            conn.execute(text(f'GRANT CONNECT ON DATABASE "{make_url(PG_URL).database}" TO "{role}"'))
            conn.execute(text(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"'))
        base = make_url(PG_URL).set(username=role, password=None).render_as_string(hide_password=False)
        owner_url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        ok(yq(owner_url, "init"))  # the owner is the application role: no separate role
        ok(yq(owner_url, "offices", "add", "lingbao", "--name", "灵宝市政务公开领导小组办公室", "--parent",
              "sanmenxia", "--unit", "lingbao"))
        user(owner_url, "lbadmin", "admin", monkeypatch, "--office", "lingbao")
        add(owner_url, "lbadmin", "灵宝", "灵宝的舆情")
        ok(yq(owner_url, "incident", "add", "--title", "市里的舆情", "--unit", "市发改委", "--detected-at",
              "2026-11-24 08:00"))
        ok(yq(owner_url, "daily", "add", "市发改委", "--date", "2026-01-15", "--points", "-1", "--reason", "迟报"))
        app = Database(owner_url)
        try:
            ids = app.read(lambda s: {o.code: o.id for o in list_offices(s)})
            county = app.for_office(ids["lingbao"])
            assert app.read(lambda s: s.execute(text("SELECT current_user")).scalar_one()) == role
            # No office condition at all, as the owner: only the county's rows come back.
            assert county.read(lambda s: set(s.execute(text("SELECT title FROM incidents")).scalars())) == {"灵宝的舆情"}
            assert county.read(lambda s: s.execute(text("SELECT count(*) FROM daily_records")).scalar_one()) == 0
            # A connection that never set the office sees nothing of any office.
            with app.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 0
                assert conn.execute(text("SELECT count(*) FROM daily_records")).scalar_one() == 0
            assert app.read(lambda s: s.execute(text("SELECT count(*) FROM incidents")).scalar_one()) == 2
        finally:
            app.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
        _drop_role(role)



# --- names resolve with the acting office's own place ----------------------------------------------
@pytest.mark.parametrize("name, place", [
    ("三门峡市政务公开领导小组办公室", "三门峡市"), ("灵宝市人民政府", "灵宝市"), ("卢氏县政务公开领导小组办公室", "卢氏县"),
    ("陕州区人民政府", "陕州区"), ("河南省人民政府办公厅", "河南省"), ("政务公开办", None),
])
def test_an_office_s_place_is_the_head_of_its_name(name: str, place: str | None):
    from classify.units import place_of

    assert place_of(name) == place


@pytest.mark.parametrize("actor, typed, code", [
    ("lbadmin", "灵宝教育局", "lb-jyj"),          # 灵宝's own place, stripped
    ("lbadmin", "灵宝市人民政府教育局", "lb-jyj"),
    ("lbadmin", "三门峡市教育局", None),           # the city's place is not 灵宝's: not its 教育局
    ("lsadmin", "卢氏教育局", "ls-jyj"),
    ("lsadmin", "县教育局", "ls-jyj"),
    ("lsadmin", "灵宝教育局", None),               # another county's place
    ("city", "三门峡教育局", "jyj"),
    ("city", "三门峡市人民政府教育局", "jyj"),
])
def test_a_county_office_strips_its_own_place_from_names(offices: str, actor: str, typed: str, code: str | None):
    from cliutil import error_code

    result = yq(offices, "incident", "add", "--title", f"{typed}的舆情", "--unit", typed, "--no-classify",
                "--detected-at", "2026-11-24 08:00", actor=actor)
    if code is None:
        assert result.code == 1 and error_code(result) == "E_UNIT_UNKNOWN", result.err
        return
    number = ok(result).out.strip()
    assert ok(yq(offices, "incident", "show", number, "--json", actor=actor)).json()["unit"]["code"] == code


# --- the triage queue's queries are the office's ---------------------------------------------------
def test_the_triage_queries_see_only_the_office_s_pending_items(offices: str, tmp_path: Any):
    from yuqing.db.triage import each_queued, group_page, queue_counts

    rows = ("标题,内容,链接,发布时间\n"
            "某校食堂卫生问题引家长不满,家长反映食堂卫生差,https://news.example.cn/s/1,2026-11-24 08:00\n"
            "某路段突发塌陷一车辆受损,路面塌陷车辆受损,https://news.example.cn/s/2,2026-11-24 09:00\n")
    sheet = tmp_path / "list.csv"
    sheet.write_text(rows, encoding="utf-8")
    ok(yq(offices, "import", str(sheet), actor="city"))
    ok(yq(offices, "import", str(sheet), actor="lbadmin"))  # the same rows: the county's own items
    (tmp_path / "more.csv").write_text(
        "标题,内容,发布时间\n豫灵镇村民反映停水,豫灵镇某村停水三天,2026-11-24 10:00\n", encoding="utf-8")
    ok(yq(offices, "import", str(tmp_path / "more.csv"), actor="lbadmin"))
    ids = office_ids(offices)
    mine = {code: {i.id for i in rows_seen(offices, ids[code], Item) if i.triage_status == "pending"}
            for code in ("sanmenxia", "lingbao", "lushi")}
    assert len(mine["sanmenxia"]) == 2 and len(mine["lingbao"]) == 3 and mine["lushi"] == set()
    assert not mine["sanmenxia"] & mine["lingbao"]
    base = Database(offices)
    try:
        for code, expected in mine.items():
            office = base.for_office(ids[code])
            counts = office.read(queue_counts)
            assert counts["pending"].items == len(expected), code
            assert counts["all"].items == len(expected), code
            page = office.read(group_page, state="pending", limit=50)
            assert {i.id for g in page.groups for i in g.items} == expected, code
            assert page.total_items == len(expected), code
            seen: list[int] = []
            office.read(each_queued, lambda item, into=seen: into.append(item.id), state="pending")
            assert set(seen) == expected and len(seen) == len(expected), code
    finally:
        base.dispose()
    listed = {i["id"] for i in ok(yq(offices, "triage", "list", "--json", actor="lbadmin")).json()}
    assert listed == mine["lingbao"]
