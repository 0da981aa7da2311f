"""Several assessing offices on one installation: the city (root) and its counties side by side, each
with its own registry, records and scores; the city reads a county read-only; an incident about the
county government itself is in both views; migrating a single-office database loses nothing."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cliutil import Result, ago, error_code, yq
from sqlalchemy import func, select, text

from timeline.clock import BEIJING
from yuqing.db import migrate
from yuqing.db.classifying import classifier_for, classify_text
from yuqing.db.models import Office
from yuqing.db.offices import list_offices
from yuqing.db.service import unit_refs
from yuqing.db.session import Database

PASSWORD = "pw-12345678"

LINGBAO_UNITS = """
version = "lingbao-2026"

[[unit]]
code = "lb-jyj"
name = "灵宝市教育局"
kind = "department"
aliases = ["市教育局", "教育局"]

[[unit]]
code = "lb-yuling"
name = "灵宝市豫灵镇人民政府"
kind = "town"
aliases = ["豫灵镇"]
"""


def ok(result: Result) -> Result:
    assert result.code == 0, result.err
    return result


def user(url: str, name: str, role: str, monkeypatch: pytest.MonkeyPatch, *extra: str) -> None:
    ok(yq(url, "users", "add", name, "--role", role, "--password-stdin", *extra, stdin=PASSWORD + "\n",
          monkeypatch=monkeypatch))


@pytest.fixture
def offices(database: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The city office (root, today's registry), 灵宝's office with its 教育局 and a town, 卢氏's office
    with one unit; an admin and a staff account in 灵宝, an admin in the city and one in 卢氏."""
    ok(yq(db_url, "offices", "add", "lingbao", "--name", "灵宝市政务公开领导小组办公室", "--parent", "sanmenxia",
          "--unit", "lingbao"))
    ok(yq(db_url, "offices", "add", "lushi", "--name", "卢氏县政务公开领导小组办公室", "--parent", "sanmenxia",
          "--unit", "lushi"))
    (tmp_path / "lingbao.toml").write_text(LINGBAO_UNITS, encoding="utf-8")
    ok(yq(db_url, "units", "import", str(tmp_path / "lingbao.toml"), "--office", "lingbao"))
    (tmp_path / "lushi.toml").write_text(
        'version = "1"\n[[unit]]\ncode = "ls-jyj"\nname = "卢氏县教育局"\nkind = "department"\naliases = ["教育局"]\n',
        encoding="utf-8")
    ok(yq(db_url, "units", "import", str(tmp_path / "lushi.toml"), "--office", "lushi"))
    user(db_url, "city", "admin", monkeypatch)
    user(db_url, "lbadmin", "admin", monkeypatch, "--office", "lingbao")
    user(db_url, "lbstaff", "staff", monkeypatch, "--office", "lingbao", "--unit", "灵宝市教育局")
    user(db_url, "lsadmin", "admin", monkeypatch, "--office", "lushi")
    return db_url


def add(url: str, actor: str, unit: str, title: str, *extra: str) -> int:
    return int(ok(yq(url, "incident", "add", "--title", title, "--unit", unit, "--detected-at", ago(hours=30),
                     *extra, actor=actor)).out.strip())


def listed(url: str, *args: str, actor: str) -> set[str]:
    return {i["title"] for i in ok(yq(url, *args, "incident", "list", "--json", actor=actor)).json()}


def this_year() -> str:
    return str(datetime.now(UTC).astimezone(BEIJING).year)


def scores(url: str, actor: str) -> dict[str, dict]:
    result = ok(yq(url, "score", "--year", this_year(), "--format", "json", actor=actor)).json()
    return {u["unit"]["code"]: u for u in result}


def test_offices_list_json_is_code_name_parent_and_a_county_sees_only_its_own(offices: str):
    listed_by_city = ok(yq(offices, "offices", "list", "--json", actor="city")).json()
    assert listed_by_city == [
        {"code": "sanmenxia", "name": "三门峡市政务公开领导小组办公室", "parent": None},
        {"code": "lingbao", "name": "灵宝市政务公开领导小组办公室", "parent": "sanmenxia"},
        {"code": "lushi", "name": "卢氏县政务公开领导小组办公室", "parent": "sanmenxia"},
    ]
    assert [o["code"] for o in ok(yq(offices, "offices", "list", "--json", actor="lbadmin")).json()] == ["lingbao"]


def test_names_resolve_within_the_acting_office_first(offices: str):
    county = add(offices, "lbadmin", "灵宝市教育局", "灵宝某校食堂问题")
    assert ok(yq(offices, "incident", "show", str(county), "--json", actor="lbadmin")).json()["unit"]["code"] == "lb-jyj"
    # What the classifier names as responsible: 灵宝's 教育局 for 灵宝's office, the county government
    # for the city's 属地 view (the city's registry has no 灵宝市教育局).
    base = Database(offices)
    try:
        ids = base.read(lambda s: {o.code: o.id for o in list_offices(s)})
        text_ = "灵宝市教育局回应学校食堂问题"
        for office, expected in (("lingbao", "lb-jyj"), ("sanmenxia", "lingbao")):
            refs = base.for_office(ids[office]).read(unit_refs)
            assert classify_text(classifier_for(refs), "sanmenxia-2017", text_, "")["unit"]["code"] == expected
        refused = yq(offices, "incident", "add", "--title", "x", "--unit", "灵宝市教育局", actor="city")
        assert refused.code == 1 and error_code(refused) == "E_UNIT_UNKNOWN"
    finally:
        base.dispose()
    # The same short name in 卢氏's office is 卢氏's 教育局; the city's own 教育局 is not theirs to name.
    lushi = add(offices, "lsadmin", "教育局", "卢氏某校问题")
    assert ok(yq(offices, "incident", "show", str(lushi), "--json", actor="lsadmin")).json()["unit"]["code"] == "ls-jyj"
    refused = yq(offices, "incident", "add", "--title", "越界", "--unit", "市发改委", actor="lsadmin")
    assert refused.code == 1 and error_code(refused) == "E_UNIT_UNKNOWN"


def test_two_offices_side_by_side_each_sees_and_scores_only_its_own(offices: str):
    add(offices, "city", "市发改委", "市里的舆情")
    add(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    add(offices, "lbadmin", "豫灵镇", "豫灵镇的舆情")
    add(offices, "lsadmin", "教育局", "卢氏的舆情")
    assert listed(offices, actor="city") == {"市里的舆情"}
    assert listed(offices, actor="lbadmin") == {"灵宝教育局的舆情", "豫灵镇的舆情"}
    assert listed(offices, actor="lbstaff") == {"灵宝教育局的舆情", "豫灵镇的舆情"}
    assert listed(offices, actor="lsadmin") == {"卢氏的舆情"}

    city, county = scores(offices, "city"), scores(offices, "lbadmin")
    assert "lb-jyj" not in city and "ls-jyj" not in city and city["fgw"]["incidents"] == 1
    assert city["lingbao"]["incidents"] == 0
    assert set(county) == {"lb-jyj", "lb-yuling", "lingbao"}
    assert county["lb-jyj"]["incidents"] == 1 and county["lb-yuling"]["incidents"] == 1
    assert county["lb-yuling"]["unit"]["kind"] == "town"
    assert "lb-jyj" not in scores(offices, "lsadmin")
    # Accounts are the office's too.
    names = {u["name"] for u in ok(yq(offices, "users", "list", "--json", actor="lbadmin")).json()}
    assert names == {"lbadmin", "lbstaff"}


def test_the_city_reads_a_county_with_office_and_cannot_write_it(offices: str):
    incident = add(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    assert listed(offices, "--office", "lingbao", actor="city") == {"灵宝教育局的舆情"}
    shown = ok(yq(offices, "--office", "lingbao", "incident", "show", str(incident), "--json", actor="city")).json()
    assert shown["unit"]["code"] == "lb-jyj"
    assert set(scores_as(offices, "city", "lingbao")) == {"lb-jyj", "lb-yuling", "lingbao"}
    for args in (("incident", "add", "--title", "代写", "--unit", "灵宝市教育局"),
                 ("incident", "act", str(incident), "--kind", "response", "--at", ago(hours=1)),
                 ("incident", "close", str(incident))):
        refused = yq(offices, "--office", "lingbao", *args, actor="city")
        assert refused.code == 1 and error_code(refused) == "E_OFFICE_READ_ONLY", args
    assert listed(offices, "--office", "lingbao", actor="city") == {"灵宝教育局的舆情"}
    # Without --office the city's own view does not hold the county's record.
    assert yq(offices, "incident", "show", str(incident), "--json", actor="city").code == 1
    # A county reads neither its parent nor another county.
    for actor, office in (("lbadmin", "sanmenxia"), ("lbadmin", "lushi"), ("lbstaff", "lingbao")):
        result = yq(offices, "--office", office, "incident", "list", actor=actor)
        if actor == "lbstaff":  # its own office: allowed
            assert result.code == 0
            continue
        assert result.code == 1 and error_code(result) == "E_OFFICE_FORBIDDEN"
    assert yq(offices, "incident", "show", str(incident), "--json", actor="lsadmin").code == 1


def scores_as(url: str, actor: str, office: str) -> dict[str, dict]:
    result = ok(yq(url, "--office", office, "score", "--year", this_year(), "--format", "json", actor=actor)).json()
    return {u["unit"]["code"]: u for u in result}


def test_an_incident_about_the_county_government_is_counted_in_both_offices(offices: str):
    incident = add(offices, "lbadmin", "灵宝市人民政府", "灵宝市政府的舆情")
    ok(yq(offices, "incident", "act", str(incident), "--kind", "response", "--at", ago(hours=1),
          "--channel", "website", actor="lbadmin"))
    assert listed(offices, actor="lbadmin") == {"灵宝市政府的舆情"}
    assert listed(offices, actor="city") == {"灵宝市政府的舆情"}
    assert listed(offices, actor="lsadmin") == set()
    city, county = scores(offices, "city"), scores(offices, "lbadmin")
    # One incident, one clock (answered late: 29 hours after it started), counted in each office's scheme.
    for table in (city, county):
        assert table["lingbao"]["incidents"] == 1
        assert table["lingbao"]["windows"]["response"]["late"] == 1
    assert city["lingbao"]["unit"]["kind"] == county["lingbao"]["unit"]["kind"] == "county"


def test_units_import_reads_xlsx_and_refuses_a_code_of_another_office(offices: str, tmp_path: Path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "kind", "aliases", "predecessors", "active", "merged_into"])
    sheet.append(["lb-gas", "灵宝市天然气有限公司", "enterprise", "天然气公司、燃气公司", "", "", ""])
    sheet.append(["lb-jyj", "灵宝市教育局", "department", "市教育局,教育局", "灵宝市教体局", "", ""])
    book.save(tmp_path / "more.xlsx")
    out = ok(yq(offices, "units", "import", str(tmp_path / "more.xlsx"), "--office", "lingbao")).out
    assert "新增 1 个，更新 1 个" in out
    units = {u["code"]: u for u in ok(yq(offices, "units", "list", "--json", actor="lbadmin")).json()}
    assert units["lb-gas"]["kind"] == "enterprise" and units["lb-gas"]["aliases"] == ["天然气公司", "燃气公司"]
    assert add(offices, "lbadmin", "燃气公司", "燃气涨价") > 0
    assert add(offices, "lbadmin", "灵宝市教体局", "旧称") > 0  # a predecessor name resolves

    sheet.append(["jyj", "重名", "department", "", "", "", ""])
    book.save(tmp_path / "clash.xlsx")
    refused = yq(offices, "units", "import", str(tmp_path / "clash.xlsx"), "--office", "lingbao")
    assert refused.code == 1 and error_code(refused) == "E_UNIT_CODE_TAKEN"
    refused = yq(offices, "units", "import", str(tmp_path / "more.xlsx"), "--office", "lushi", actor="lbadmin")
    assert refused.code == 1 and error_code(refused) in ("E_OFFICE_FORBIDDEN", "E_UNIT_CODE_TAKEN")
    refused = yq(offices, "units", "import", str(tmp_path / "lingbao.toml"), "--office", "nowhere")
    assert refused.code == 1 and error_code(refused) == "E_OFFICE_UNKNOWN"


@pytest.mark.parametrize(("args", "code"), [
    (("offices", "add", "Bad Code", "--name", "x", "--parent", "sanmenxia"), "E_OFFICE_CODE"),
    (("offices", "add", "mianchi", "--name", "渑池", "--parent", "nowhere"), "E_OFFICE_UNKNOWN"),
    (("offices", "add", "lingbao", "--name", "again", "--parent", "sanmenxia"), "E_OFFICE_EXISTS"),
    (("offices", "add", "mianchi", "--name", "渑池", "--parent", "sanmenxia", "--unit", "lb-jyj"), "E_OFFICE_UNIT"),
])
def test_offices_add_refuses_bad_input_with_a_sentence(offices: str, args: tuple[str, ...], code: str):
    result = yq(offices, *args)
    assert result.code == 1 and error_code(result) == code


def test_a_county_admin_cannot_add_offices_above_or_beside_it(offices: str):
    result = yq(offices, "offices", "add", "x1", "--name", "某乡", "--parent", "lushi", actor="lbadmin")
    assert result.code == 1 and error_code(result) == "E_OFFICE_FORBIDDEN"
    ok(yq(offices, "offices", "add", "lb-sub", "--name", "灵宝某系统", "--parent", "lingbao", actor="lbadmin"))


# --- migration from a single-office database ------------------------------------------------------
COUNTED = ("units", "incidents", "actions", "feeds", "items", "users", "referrals", "score_snapshots",
           "api_tokens", "screens", "audit_log")


def counts(database: Database) -> dict[str, int]:
    with database.engine.connect() as conn:
        return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in COUNTED}


def test_migrating_a_populated_single_office_database_puts_everything_under_the_root_office(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ok(yq(db_url, "init", "--demo"))
    ok(yq(db_url, "score", "--year", this_year(), "--freeze"))
    ok(yq(db_url, "tokens", "add", "robot", "--role", "viewer"))
    ok(yq(db_url, "screens", "add", "wall"))
    incident = ok(yq(db_url, "incident", "list", "--json")).json()[0]["id"]
    ok(yq(db_url, "referral", "add", str(incident), "--unit", "灵宝市", "--due-workdays", "3"))
    database = Database(db_url)
    try:
        migrate.downgrade(database.engine, "0011")  # today's single-office schema, with its rows
        before = counts(database)
        assert all(before[t] > 0 for t in COUNTED), before
        migrate.upgrade(database.engine, root_office=("sanmenxia", "三门峡市政务公开领导小组办公室"))
        assert counts(database) == before
        with database.session() as session:
            root = session.scalar(select(Office).where(Office.code == "sanmenxia"))
            assert root is not None and root.parent_id is None
            for table in (t for t in COUNTED if t not in ("actions", "audit_log")):  # those follow their incident
                stray = session.execute(text(f"SELECT count(*) FROM {table} WHERE office_id <> :o"), {"o": root.id})
                assert stray.scalar_one() == 0, table
            assert session.scalar(select(func.count()).select_from(Office)) == 1
    finally:
        database.dispose()
    assert ok(yq(db_url, "audit", "verify")).code == 0
    assert len(ok(yq(db_url, "incident", "list", "--json")).json()) == before["incidents"]


def test_an_api_token_sees_and_writes_only_its_office(offices: str, tmp_path: Path):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from yuqing.api import Api

    add(offices, "city", "市发改委", "市里的舆情")
    add(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    secret = ok(yq(offices, "tokens", "add", "lb-robot", "--role", "admin", actor="lbadmin")).out.strip()
    database = Database(offices)
    api = Api(lambda: database, preset="sanmenxia-2017", evidence_dir=tmp_path / "evidence",
              clock=lambda: datetime.now(UTC))
    try:
        with TestClient(Starlette(routes=api.routes())) as client:
            headers = {"Authorization": f"Bearer {secret}"}
            listed = client.get("/api/v1/incidents", headers=headers)
            assert listed.status_code == 200
            assert {i["title"] for i in listed.json()} == {"灵宝教育局的舆情"}
            made = client.post("/api/v1/incidents", headers=headers, json={"title": "接口登记", "unit": "豫灵镇"})
            assert made.status_code in (200, 201), made.text
            refused = client.post("/api/v1/incidents", headers=headers, json={"title": "越界", "unit": "市发改委"})
            assert refused.status_code >= 400
    finally:
        database.dispose()
    assert listed_titles(offices, "lbadmin") == {"灵宝教育局的舆情", "接口登记"}
    assert listed_titles(offices, "city") == {"市里的舆情"}


def listed_titles(url: str, actor: str) -> set[str]:
    return listed(url, actor=actor)


# --- PostgreSQL row-level security: the second wall ----------------------------------------------
def county_rows(app: Database, office: int) -> int:
    return int(app.for_office(office).read(lambda s: s.execute(text("SELECT count(*) FROM incidents")).scalar_one()))


def test_rls_keeps_a_filterless_query_of_the_app_role_inside_its_office(db_url: str, monkeypatch: pytest.MonkeyPatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite 没有行级安全：单个考核办之外的隔离靠每个查询的考核办条件")
    import uuid

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from tests.conftest import PG_URL
    from tests.test_app_role import _drop_role

    role = f"yq_rls_{make_url(PG_URL).database}_{uuid.uuid4().hex[:8]}"
    app_url = make_url(db_url).set(username=role, password=None).render_as_string(hide_password=False)
    monkeypatch.setenv("YUQING_OWNER_DATABASE_URL", db_url)
    try:
        ok(yq(app_url, "init"))  # migrates as the owner, creates and grants the application role
        ok(yq(app_url, "offices", "add", "lingbao", "--name", "灵宝市政务公开领导小组办公室", "--parent", "sanmenxia",
              "--unit", "lingbao"))
        user(app_url, "lbadmin", "admin", monkeypatch, "--office", "lingbao")
        add(app_url, "lbadmin", "灵宝市人民政府", "灵宝市政府的舆情")
        add(app_url, "lbadmin", "灵宝", "灵宝的另一条")
        int(ok(yq(app_url, "incident", "add", "--title", "市里的舆情", "--unit", "市发改委")).out)
        app = Database(app_url)
        try:
            ids = app.read(lambda s: {o.code: o.id for o in list_offices(s)})
            forgetful = "SELECT title FROM incidents"  # no office condition at all
            assert county_rows(app, ids["lingbao"]) == 2
            county = app.for_office(ids["lingbao"]).read(lambda s: set(s.execute(text(forgetful)).scalars()))
            city = app.for_office(ids["sanmenxia"]).read(lambda s: set(s.execute(text(forgetful)).scalars()))
            assert county == {"灵宝市政府的舆情", "灵宝的另一条"}
            assert city == {"灵宝市政府的舆情", "灵宝的另一条", "市里的舆情"}  # the county government's: its unit
            feeds = "SELECT count(*) FROM feeds"
            assert app.for_office(ids["lingbao"]).read(lambda s: s.execute(text(feeds)).scalar_one()) == 0
            # Writing a row into another office is refused by the policy's check.
            with pytest.raises(DBAPIError, match="row-level security"):
                app.for_office(ids["lingbao"]).run(lambda s: s.execute(text(
                    "UPDATE score_snapshots SET office_id = office_id; "
                    "INSERT INTO app_meta (key, value) VALUES ('x', 'y'); "
                    f"UPDATE incidents SET office_id = {ids['sanmenxia']} WHERE title = '灵宝的另一条'")))
        finally:
            app.dispose()
        # The owner's own CLI (the city's scope) agrees with the policy: both county incidents name the
        # city's unit 灵宝市 (the county has no registry of its own here).
        assert len(ok(yq(db_url, "incident", "list", "--json")).json()) == 3
    finally:
        _drop_role(role)
