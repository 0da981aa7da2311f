"""Issue 17: each office its own window preset and its own yearly schemes (第十七条: a county writes
its own method modelled on the city's). New incidents take the office's preset; `score` counts each
office in its own scheme; refusals as elsewhere."""
from __future__ import annotations

from pathlib import Path

import pytest
from cliutil import error_code, yq
from sqlalchemy import func, select

from scoring.scheme import SCHEME_DIR
from tests.test_offices import add, offices, ok, scores, this_year  # noqa: F401 - offices is a fixture
from timeline.presets import PRESET_DIR, load_preset, office_preset_from_text
from yuqing.db.models import Incident, Office
from yuqing.db.models_scoring import OfficePreset
from yuqing.db.session import Database


def presets_of(url: str) -> dict[str, str]:
    database = Database(url)
    try:
        return database.read(lambda s: {i.title: i.preset for i in s.scalars(select(Incident))})
    finally:
        database.dispose()


def test_an_office_s_new_incidents_take_the_preset_it_chose(offices: str):
    add(offices, "lbadmin", "灵宝市教育局", "选预设之前")
    said = ok(yq(offices, "offices", "preset", "national-2016", actor="lbadmin"))
    assert "national-2016" in said.out
    add(offices, "lbadmin", "灵宝市教育局", "灵宝选预设之后")
    add(offices, "city", "市发改委", "市里的舆情")
    assert presets_of(offices) == {"选预设之前": "sanmenxia-2017", "灵宝选预设之后": "national-2016",
                                   "市里的舆情": "sanmenxia-2017"}


@pytest.mark.parametrize("actor, args, code", [
    ("lbadmin", ("offices", "preset", "no-such-preset"), "E_PRESET_UNKNOWN"),
    ("lbadmin", ("offices", "preset", "../presets/national-2016"), "E_PRESET_UNKNOWN"),  # a path, not a name
    ("lbstaff", ("offices", "preset", "national-2016"), "E_FORBIDDEN"),
    ("city", ("--office", "lingbao", "offices", "preset", "national-2016"), "E_OFFICE_READ_ONLY"),
])
def test_choosing_a_preset_is_refused_with_a_sentence(offices: str, actor: str, args: tuple[str, ...], code: str):
    result = yq(offices, *args, actor=actor)
    assert result.code == 1 and error_code(result).startswith(code), result.err
    assert presets_of(offices) == {}


def county_scheme(tmp_path: Path, name: str = "lingbao-method", first_year: str | None = None) -> Path:
    """The city's scheme as a county's own method: its own name and title, from this year on."""
    text = (SCHEME_DIR / "sanmenxia-2017.toml").read_text(encoding="utf-8")
    text = text.replace('name = "sanmenxia-2017"', f'name = "{name}"', 1)
    text = text.replace('title = "三门峡市政务公开工作考核（建议分值）"', 'title = "灵宝市政务公开工作考核办法"', 1)
    text = text.replace("first_year = 2017", f"first_year = {first_year or this_year()}", 1)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_office_scores_in_its_own_scheme(offices: str, tmp_path: Path):
    add(offices, "city", "市发改委", "市里的舆情")
    add(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    loaded = ok(yq(offices, "offices", "scheme", str(county_scheme(tmp_path)), actor="lbadmin"))
    assert "lingbao-method" in loaded.out and "已载入" in loaded.out
    county = scores(offices, "lbadmin")
    city = scores(offices, "city")
    assert {u["scheme"] for u in county.values()} == {"lingbao-method"}
    assert {u["scheme"] for u in city.values()} == {"sanmenxia-2017"}
    assert "lb-jyj" in county and "fgw" in city
    # 卢氏 has no scheme of its own: the installation's.
    assert {u["scheme"] for u in scores(offices, "lsadmin").values()} == {"sanmenxia-2017"}
    # Loading it again replaces it (one scheme of that name).
    again = ok(yq(offices, "offices", "scheme", str(county_scheme(tmp_path)), actor="lbadmin"))
    assert "已更新" in again.out


def test_an_own_scheme_for_a_later_year_leaves_this_year_to_the_installation_s(offices: str, tmp_path: Path):
    add(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    later = str(int(this_year()) + 1)
    ok(yq(offices, "offices", "scheme", str(county_scheme(tmp_path, first_year=later)), actor="lbadmin"))
    assert {u["scheme"] for u in scores(offices, "lbadmin").values()} == {"sanmenxia-2017"}


@pytest.mark.parametrize("actor, make, code", [
    ("lbadmin", lambda p: county_scheme(p, name="sanmenxia-2017"), "E_SCHEME_NAME_TAKEN"),
    ("lbadmin", lambda p: (p / "broken.toml", (p / "broken.toml").write_text('name = "broken"\n', encoding="utf-8"))[0],
     "E_SCHEME_INVALID"),
    ("lbadmin", lambda p: p / "missing.toml", "E_DATA_FILE"),
    ("lbstaff", lambda p: county_scheme(p), "E_FORBIDDEN"),
    ("city", lambda p: county_scheme(p), None),  # the city's own, accepted: the check below is 灵宝's
])
def test_loading_a_scheme_is_refused_with_a_sentence_and_stores_nothing(offices: str, tmp_path: Path, actor: str,
                                                                        make, code: str | None):
    add(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    result = yq(offices, "offices", "scheme", str(make(tmp_path)), actor=actor)
    if code is not None:
        assert result.code == 1 and error_code(result).startswith(code), result.err
    else:
        ok(result)
    assert {u["scheme"] for u in scores(offices, "lbadmin").values()} == {"sanmenxia-2017"}


# --- an office's own preset file (yuqing offices preset FILE.toml) ---------------------------------

def county_preset(tmp_path: Path, name: str = "lingbao-2025", hours: int = 48, **replace: str) -> Path:
    """The city's preset as a county's own: a 48-hour response window instead of 24."""
    text = (PRESET_DIR / "sanmenxia-2017.toml").read_text(encoding="utf-8")
    text = text.replace('name = "sanmenxia-2017"', f'name = "{name}"', 1)
    text = text.replace('title = "三门峡市政务公开工作考核办法（试行）"', 'title = "灵宝市政务公开工作考核办法"', 1)
    text = text.replace('key = "response"\nhours = 24', f'key = "response"\nhours = {hours}', 1)
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def response_window(url: str, actor: str, incident: int, *office: str) -> dict:
    shown = ok(yq(url, *office, "incident", "show", str(incident), "--json", actor=actor)).json()
    return next(w for w in shown["windows"] if w["key"] == "response")


def test_an_office_s_own_preset_file_clocks_its_new_incidents(offices: str, tmp_path: Path):
    before = add(offices, "lbadmin", "灵宝市教育局", "载入之前")  # detected 30 hours ago
    said = ok(yq(offices, "offices", "preset", str(county_preset(tmp_path)), actor="lbadmin"))
    assert "lingbao:lingbao-2025" in said.out and "灵宝市政务公开工作考核办法" in said.out and "已载入" in said.out
    after = add(offices, "lbadmin", "灵宝市教育局", "载入之后")
    city = add(offices, "city", "市发改委", "市里的舆情")
    assert presets_of(offices) == {"载入之前": "sanmenxia-2017", "载入之后": "lingbao:lingbao-2025",
                                   "市里的舆情": "sanmenxia-2017"}
    # 30 hours after detection: late under the city's 24 hours, still running under the county's 48.
    assert response_window(offices, "lbadmin", before)["state"] == "overdue"
    running = response_window(offices, "lbadmin", after)
    assert running["hours"] == 48 and running["state"] != "overdue" and running["remaining_seconds"] > 17 * 3600
    assert response_window(offices, "city", city)["hours"] == 24
    # The city's administrator reading the county keeps the county's clock (read from the database by
    # name, in a fresh process's caches).
    office_preset_from_text.cache_clear()
    assert response_window(offices, "city", after, "--office", "lingbao")["hours"] == 48
    # Loading the same file again only chooses it; another county cannot choose it.
    again = ok(yq(offices, "offices", "preset", str(county_preset(tmp_path)), actor="lbadmin"))
    assert "已选用" in again.out
    refused = yq(offices, "offices", "preset", "lingbao:lingbao-2025", actor="lsadmin")
    assert refused.code == 1 and error_code(refused).startswith("E_PRESET_UNKNOWN"), refused.err


def test_a_stored_preset_keeps_its_text(offices: str, tmp_path: Path):
    ok(yq(offices, "offices", "preset", str(county_preset(tmp_path)), actor="lbadmin"))
    changed = yq(offices, "offices", "preset", str(county_preset(tmp_path, hours=72)), actor="lbadmin")
    assert changed.code == 1 and error_code(changed).startswith("E_OFFICE_PRESET_FIXED"), changed.err
    incident = add(offices, "lbadmin", "灵宝市教育局", "改动被拒之后")
    assert response_window(offices, "lbadmin", incident)["hours"] == 48


def _hostile(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "lingbao-bad.toml"
    if kind == "oversize":
        path.write_text("# " + "长" * 60_000 + "\n", encoding="utf-8")
    elif kind == "nul":
        path.write_bytes(county_preset(tmp_path, "lingbao-bad").read_bytes().replace(b"hours = 5", b"hours = 5\x00"))
    elif kind == "nul-in-comment":  # TOML admits no NUL even in a comment, so none reaches the database
        path.write_bytes(county_preset(tmp_path, "lingbao-bad").read_bytes() + b"# \x00\n")
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00\x01" * 10)
    elif kind == "huge-hours":
        county_preset(tmp_path, "lingbao-bad", hours=10**12)
    elif kind == "wrong-shape":
        county_preset(tmp_path, "lingbao-bad", **{"[flagged]": "flagged = 3\n[flaggedx]"})
    elif kind == "name-mismatch":
        county_preset(tmp_path, "lingbao-bad", **{'name = "lingbao-bad"': 'name = "other"'})
    elif kind == "nested":
        path.write_text("a = " + "[" * 40_000 + "]" * 40_000 + "\n", encoding="utf-8")
    elif kind == "long-name":
        long = "lingbao-" + "x" * 40
        return county_preset(tmp_path, long)
    return path


@pytest.mark.parametrize("kind, code", [
    ("oversize", "E_DATA_FILE"), ("nul", "E_DATA_FILE"), ("nul-in-comment", "E_DATA_FILE"), ("binary", "E_DATA_FILE"), ("huge-hours", "E_DATA_FILE"),
    ("wrong-shape", "E_DATA_FILE"), ("name-mismatch", "E_DATA_FILE"), ("nested", "E_DATA_FILE"), ("long-name", "E_OFFICE_PRESET_NAME"),
])
def test_a_bad_preset_file_is_refused_with_a_sentence_and_nothing_stored(offices: str, tmp_path: Path, kind: str,
                                                                         code: str):
    result = yq(offices, "offices", "preset", str(_hostile(tmp_path, kind)), actor="lbadmin")
    assert result.code == 1 and error_code(result).startswith(code), result.err
    assert "Traceback" not in result.err and result.err.strip()
    database = Database(offices)
    try:
        assert database.read(lambda s: s.scalar(select(func.count(OfficePreset.id)))) == 0
        assert database.read(lambda s: s.scalar(select(Office.preset).where(Office.code == "lingbao"))) is None
    finally:
        database.dispose()


def test_loading_a_preset_file_is_for_the_office_s_administrator(offices: str, tmp_path: Path):
    path = county_preset(tmp_path)
    staff = yq(offices, "offices", "preset", str(path), actor="lbstaff")
    assert staff.code == 1 and error_code(staff).startswith("E_FORBIDDEN"), staff.err
    reading = yq(offices, "--office", "lingbao", "offices", "preset", str(path), actor="city")
    assert reading.code == 1 and error_code(reading).startswith("E_OFFICE_READ_ONLY"), reading.err
    assert presets_of(offices) == {}


def test_as_the_app_role_an_office_preset_is_the_office_s_and_clocks_it_in_every_view(db_url: str, tmp_path: Path,
                                                                                     monkeypatch: pytest.MonkeyPatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite 没有行级安全：单个考核办之外的隔离靠每个查询的考核办条件")
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_URL
    from tests.test_app_role import _drop_role
    from tests.test_offices import user

    role = f"yq_prs_{make_url(PG_URL).database}_{uuid.uuid4().hex[:8]}"
    app_url = make_url(db_url).set(username=role, password=None).render_as_string(hide_password=False)
    monkeypatch.setenv("YUQING_OWNER_DATABASE_URL", db_url)
    try:
        ok(yq(app_url, "init"))
        ok(yq(app_url, "offices", "add", "lingbao", "--name", "灵宝市政务公开领导小组办公室", "--parent", "sanmenxia",
              "--unit", "lingbao"))
        user(app_url, "lbadmin", "admin", monkeypatch, "--office", "lingbao")
        user(app_url, "city", "admin", monkeypatch)
        ok(yq(app_url, "offices", "preset", str(county_preset(tmp_path)), actor="lbadmin"))
        incident = add(app_url, "lbadmin", "灵宝市人民政府", "灵宝市政府的舆情")  # counted in both offices
        office_preset_from_text.cache_clear()
        assert response_window(app_url, "lbadmin", incident)["hours"] == 48
        assert response_window(app_url, "city", incident)["hours"] == 48  # the city's own view: one clock
        app = Database(app_url)
        try:
            offices = app.read(lambda s: dict(s.execute(text("SELECT code, id FROM offices")).tuples().all()))
            forgetful = "SELECT name FROM office_presets"  # no office condition
            assert app.for_office(offices["sanmenxia"]).read(lambda s: list(s.execute(text(forgetful)).scalars())) == []
            assert app.for_office(offices["lingbao"]).read(lambda s: list(s.execute(text(forgetful)).scalars())) == [
                "lingbao:lingbao-2025"]
        finally:
            app.dispose()
    finally:
        _drop_role(role)


def test_each_open_database_reads_its_own_stored_presets(database: Database, db_url: str, tmp_path: Path):
    # The reader of stored presets was one per process, the last database opened: a process with two
    # open (a test run, a tool comparing two installations) clocked one's incidents by the other's text.
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    ok(yq(other, "init"))
    for url, hours, folder in ((db_url, 48, tmp_path / "here"), (other, 72, tmp_path / "there")):
        folder.mkdir()
        ok(yq(url, "offices", "preset", str(county_preset(folder, hours=hours))))
    name = "sanmenxia:lingbao-2025"
    office_preset_from_text.cache_clear()
    here, there = Database(db_url), Database(other)  # `there` opened last

    def response_hours(_session: object) -> int:
        rule = load_preset(name).window("response")
        assert rule is not None
        return rule.hours

    try:
        assert here.read(response_hours) == 48
        assert there.read(response_hours) == 72
        assert here.read(response_hours) == 48
    finally:
        here.dispose()
        there.dispose()
