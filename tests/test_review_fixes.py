"""Refusals and guarantees found missing in review: staff scope, passwords, ids, years, overflow,
fractions of seconds, orphan evidence, audited imports."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cliutil import error_code, yq
from tests.conftest import T0, hours
from yuqing.db.service import Actor, NewAction, NewIncident, Writer
from yuqing.db.session import Database
from yuqing.errors import YuqingError

STAFF = Actor("lb-staff", "staff", "lingbao")


def admin_incident(database: Database, unit: str) -> int:
    with database.session() as s:
        return Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017").add_incident(
            NewIncident(title="某舆情", unit=unit, first_post_at=T0 - hours(1))).id


def test_staff_cannot_hang_a_secondary_incident_on_another_units_incident(database: Database):
    other = admin_incident(database, "卢氏县")
    own = admin_incident(database, "灵宝市")
    with database.session() as s:
        w = Writer(s, STAFF, now=T0, preset="sanmenxia-2017")
        assert w.add_incident(NewIncident(title="次生", unit="灵宝市", parent_id=own)).parent_id == own
    with pytest.raises(YuqingError) as info, database.session() as s:
        Writer(s, STAFF, now=T0, preset="sanmenxia-2017").add_incident(NewIncident(title="次生", unit="灵宝市", parent_id=other))
    assert info.value.code == "E_FORBIDDEN_UNIT"


def test_staff_cannot_name_co_units(database: Database):
    with pytest.raises(YuqingError) as info, database.session() as s:
        Writer(s, STAFF, now=T0, preset="sanmenxia-2017").add_incident(
            NewIncident(title="联合", unit="灵宝市", co_units=("卢氏县",)))
    assert info.value.code == "E_FORBIDDEN"


def test_staff_manage_only_their_own_units_feeds(database: Database):
    with database.session() as s:
        from yuqing.db.feeds import add_feed, set_enabled

        office_feed = add_feed(Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017"), "https://a.example.cn/rss").id
        own = add_feed(Writer(s, STAFF, now=T0, preset="sanmenxia-2017"), "https://b.example.cn/rss")
        assert own.unit.code == "lingbao"
    with pytest.raises(YuqingError) as info, database.session() as s:
        set_enabled(Writer(s, STAFF, now=T0, preset="sanmenxia-2017"), office_feed, False)
    assert info.value.code == "E_FORBIDDEN_FEED"
    with pytest.raises(YuqingError) as info, database.session() as s:
        add_feed(Writer(s, STAFF, now=T0, preset="sanmenxia-2017"), "https://c.example.cn/rss", unit="湖滨区")
    assert info.value.code == "E_FORBIDDEN_FEED"


def test_long_feed_url_is_refused_and_long_names_are_cut(database: Database):
    long_url = "https://example.com/" + "a" * 2100
    result = yq(database.url, "feeds", "add", long_url)
    assert result.code == 1 and error_code(result) == "E_FEED_URL_TOO_LONG"
    url = "https://example.com/" + "b" * 300
    assert yq(database.url, "feeds", "add", url).code == 0
    assert len(yq(database.url, "feeds", "list", "--json").json()[0]["name"]) == 200


def test_init_never_prints_a_password(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert "s3cret" not in yq(url, "init").out
    bad = yq("postgresql+psycopg://u:s3cret@host:port/db", "units", "list")
    assert bad.code == 1 and error_code(bad) == "E_SETTING" and "s3cret" not in bad.err


@pytest.mark.parametrize("argv", [
    ["incident", "show", "99999999999999999999", "--json"],
    ["incident", "add", "--title", "x", "--unit", "灵宝", "--parent", "0"],
    ["score", "--year", "99999"],
    ["referral", "list", "--year", "1999"],
])
def test_out_of_range_ids_and_years_are_usage_errors(database: Database, argv: list[str]):
    assert yq(database.url, *argv).code == 2


@pytest.mark.parametrize("value, code", [
    ("9999-12-31T20:00:00-10:00", "E_TIME_TOO_LATE"),
    ("2100-01-01 00:00", "E_TIME_TOO_LATE"),
    ("1999-12-31 23:59:59", "E_TIME_TOO_EARLY"),
])
def test_times_beyond_the_calendar_are_refused(database: Database, value: str, code: str):
    result = yq(database.url, "incident", "add", "--title", "x", "--unit", "灵宝", "--first-post-at", value)
    assert result.code == 1 and error_code(result) == code


def test_fractions_of_a_second_do_not_make_a_window_late(database: Database, monkeypatch: pytest.MonkeyPatch):
    doc = '{"started_at": "2026-06-10 14:00", "sudden": true, "actions": [{"kind": "release", "at": "2026-06-10T19:00:00.4"}]}'
    result = yq(database.url, "timeline", "check", "-", "--now", "2026-06-10 19:00:00.999", stdin=doc, monkeypatch=monkeypatch)
    release = result.json()["windows"][1]
    assert release["state"] == "met" and release["satisfied_at"] == release["due_at"]


def test_evidence_file_is_removed_when_the_write_does_not_commit(database: Database, tmp_path: Path):
    incident = admin_incident(database, "灵宝市")
    evidence = tmp_path / "截图.png"
    evidence.write_bytes(b"unique evidence bytes 42")
    store = tmp_path / "evidence"
    with pytest.raises(RuntimeError), database.session() as s:
        w = Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017", evidence_dir=store)
        w.record_action(incident, NewAction(kind="response", at=T0, evidence_file=evidence))
        raise RuntimeError("the transaction fails after the file was copied")
    assert not any(p.is_file() for p in store.rglob("*"))
    with database.session() as s:
        w = Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017", evidence_dir=store)
        sha = w.record_action(incident, NewAction(kind="response", at=T0, evidence_file=evidence)).evidence_sha256
    assert (store / sha[:2] / sha).read_bytes() == b"unique evidence bytes 42"


def test_spreadsheet_import_is_audited(database: Database, tmp_path: Path):
    path = tmp_path / "list.csv"
    path.write_text("标题,内容,发布时间\n卢氏县网民反映停水,卢氏县某村停水三天,2026-11-24 08:00\n", encoding="utf-8")
    assert yq(database.url, "import", str(path)).code == 0
    log = yq(database.url, "audit", "log", "--entity", "import", "--json").json()
    assert log[-1]["after"]["file"] == "list.csv" and log[-1]["after"]["new"] == 1


def test_bad_mapping_timezone_is_a_data_file_error(database: Database, tmp_path: Path):
    mapping = tmp_path / "m.toml"
    mapping.write_text('timezone = "Mars/Base"\n[columns]\ntitle = ["标题"]\npublished = ["时间"]\n', encoding="utf-8")
    data = tmp_path / "x.csv"
    data.write_text("标题,时间\n甲,2026-11-24 08:00\n", encoding="utf-8")
    result = yq(database.url, "import", str(data), "--mapping", str(mapping))
    assert result.code == 1 and error_code(result) == "E_DATA_FILE"


def test_a_bare_date_is_refused_not_read_as_midnight(database: Database):
    incident = admin_incident(database, "灵宝市")
    result = yq(database.url, "incident", "act", str(incident), "--kind", "response", "--at", "2026-06-10")
    assert result.code == 1 and error_code(result) == "E_TIME_NO_CLOCK"


def test_staff_cannot_accept_another_units_item(database: Database, tmp_path: Path):
    from yuqing.db.triage import accept

    path = tmp_path / "list.csv"
    path.write_text("标题,内容,发布时间\n卢氏县发生山体滑坡致2人死亡,卢氏县一村发生山体滑坡，已致2人死亡,2026-06-10 08:00\n", encoding="utf-8")
    assert yq(database.url, "import", str(path)).code == 0
    item = yq(database.url, "triage", "list", "--json").json()[0]
    assert item["unit"] == "lushi" and item["published_clamped"] is False
    with pytest.raises(YuqingError) as info, database.session() as s:
        accept(Writer(s, STAFF, now=T0, preset="sanmenxia-2017"), item["id"], unit="灵宝市")
    assert info.value.code == "E_FORBIDDEN_UNIT"


def test_usage_errors_are_in_chinese(database: Database):
    result = yq(database.url, "incident", "void", "3")
    assert result.code == 2 and "缺少必需的参数：--reason" in result.err and "用法：" in result.err


def test_keywords_show_cancelling_words_plainly():
    from yuqing.db.classifying import keyword_text

    assert keyword_text(["爆炸", "!演练"]) == "爆炸、演练（抵消）"
    assert keyword_text([]) == "无"
