"""What people type on the command line: ranges, times, bare dates, fractions of seconds, long values, Chinese usage errors, no password echoed."""

from pathlib import Path

import pytest

from tests.cliutil import error_code, yq
from tests.conftest import T0, hours
from yuqing.db.service import Actor, NewIncident, Writer
from yuqing.db.session import Database


def admin_incident(database: Database, unit: str) -> int:
    with database.session() as s:
        return Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017").add_incident(
            NewIncident(title="某舆情", unit=unit, first_post_at=T0 - hours(1))).id


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


def test_a_bare_date_is_refused_not_read_as_midnight(database: Database):
    incident = admin_incident(database, "灵宝市")
    result = yq(database.url, "incident", "act", str(incident), "--kind", "response", "--at", "2026-06-10")
    assert result.code == 1 and error_code(result) == "E_TIME_NO_CLOCK"


def test_usage_errors_are_in_chinese(database: Database):
    result = yq(database.url, "incident", "void", "3")
    assert result.code == 2 and "缺少必需的参数：--reason" in result.err and "用法：" in result.err
