"""Issue 16: the role matrix has no side doors. Each test is an attack that worked before."""
from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.cliutil import Result, error_code, yq
from tests.conftest import T0, hours
from yuqing import cli
from yuqing.db.models import Item
from yuqing.db.service import Actor, NewIncident, Writer
from yuqing.db.session import Database
from yuqing.db.triage import merge
from yuqing.errors import YuqingError

LINGBAO = Actor("lb-staff", "staff", "lingbao")


def _item(session, title: str, unit: str, group: str) -> int:
    row = Item(source="测试", title=title, link="", normalized_link="", summary="", content_text="", author="",
               published_at=T0 - hours(2), content_hash=title.ljust(64, "x")[:64], fetched_at=T0 - hours(1),
               classification={}, flagged=False, unit_code=unit, group_key=group, triage_status="pending")
    session.add(row)
    session.flush()
    return row.id


def test_staff_cannot_merge_another_units_items_into_their_incident(database: Database):
    with database.session() as s:
        own_incident = Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017").add_incident(
            NewIncident(title="灵宝某事", unit="灵宝市", first_post_at=T0 - hours(3))).id
        mianchi = _item(s, "渑池县某小区燃气泄漏", "mianchi", "g-mianchi")
        _item(s, "渑池县燃气泄漏后续", "mianchi", "g-mianchi")
        # A group that mixes units: the own unit's head item must not carry the other unit's along.
        mixed = _item(s, "灵宝市某事转载", "lingbao", "g-mixed")
        _item(s, "渑池县某事（同组）", "mianchi", "g-mixed")
        own = _item(s, "灵宝市某事原帖", "lingbao", "g-own")
    for item_id in (mianchi, mixed):
        with pytest.raises(YuqingError) as info, database.session() as s:
            merge(Writer(s, LINGBAO, now=T0, preset="sanmenxia-2017"), item_id, own_incident)
        assert info.value.code == "E_FORBIDDEN_UNIT"
    with database.session() as s:
        pending = {r.title for r in s.scalars(select(Item).where(Item.triage_status == "pending"))}
    assert {"渑池县某小区燃气泄漏", "渑池县燃气泄漏后续", "灵宝市某事转载", "渑池县某事（同组）"} <= pending
    with database.session() as s:
        assert merge(Writer(s, LINGBAO, now=T0, preset="sanmenxia-2017"), own, own_incident) == 1


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_blank_as_is_refused_not_run_as_admin(database: Database, name: str, capsys):
    import io

    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["--db", database.url, "--as", name, "incident", "add", "--title", "冒充", "--unit", "灵宝市",
                    "--no-classify"], out=out, err=err)
    assert code == 2 and "账号名不能为空" in err.getvalue()
    assert yq(database.url, "incident", "list", "--json").json() == []


def _listening_port() -> socket.socket:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def accounts(database: Database, monkeypatch) -> str:
    for name, role, unit in (("lb", "staff", "灵宝市"), ("viewer", "viewer", None), ("boss", "admin", None)):
        args = ["users", "add", name, "--role", role, "--password-stdin"] + (["--unit", unit] if unit else [])
        assert yq(database.url, *args, stdin="a-long-password-1\n", monkeypatch=monkeypatch).code == 0
    return database.url


def test_staff_may_not_register_local_or_private_feeds_and_cannot_tell_what_exists(accounts: str, tmp_path: Path):
    url = accounts
    live_db = url.removeprefix("sqlite:///") if url.startswith("sqlite") else str(tmp_path / "none.sqlite3")
    rss_file = tmp_path / "feed.xml"
    rss_file.write_text("<rss><channel><item><title>内部</title></item></channel></rss>", encoding="utf-8")
    listening = _listening_port()
    try:
        attempts = [
            "file:///etc/passwd", "file:///nonexistent/passwd", str(rss_file), str(tmp_path / "missing.xml"), live_db,
            f"http://127.0.0.1:{listening.getsockname()[1]}/", f"http://127.0.0.1:{_closed_port()}/",
            "http://localhost/feed", "http://10.0.0.8/rss", "http://192.168.1.1/rss", "http://[::1]/rss",
            "http://169.254.169.254/latest/meta-data/", "ftp://1.2.3.4/x", "http://no-such-host.invalid/rss",
        ]
        messages = set()
        for target in attempts:
            result = yq(url, "feeds", "add", target, actor="lb")
            assert result.code == 1 and error_code(result) == "E_FEED_URL_NOT_ALLOWED", (target, result.err)
            messages.add(result.err)
        assert len(messages) == 1  # the same sentence whether the file or port exists or not
        assert yq(url, "feeds", "list", "--json").json() == []
        # A public address is fine for staff; an admin may add anything, local ones included.
        assert yq(url, "feeds", "add", "https://1.2.3.4/rss.xml", actor="lb").code == 0
        assert yq(url, "feeds", "add", f"http://127.0.0.1:{listening.getsockname()[1]}/", actor="boss").code == 0
    finally:
        listening.close()


def test_office_may_allow_intranet_hosts_for_staff(accounts: str, monkeypatch):
    monkeypatch.setenv("YUQING_FEED_PRIVATE_HOSTS", "intranet.smx.gov, 10.0.0.8")
    assert yq(accounts, "feeds", "add", "http://10.0.0.8/rss", actor="lb").code == 0
    assert yq(accounts, "feeds", "add", "https://INTRANET.smx.gov/rss", actor="lb").code == 0
    assert error_code(yq(accounts, "feeds", "add", "http://10.0.0.9/rss", actor="lb")) == "E_FEED_URL_NOT_ALLOWED"


def test_only_admins_may_take_a_backup(accounts: str, tmp_path: Path):
    if not accounts.startswith("sqlite"):
        pytest.skip("yuqing backup copies SQLite files; PostgreSQL is backed up with pg_dump")
    for who in ("viewer", "lb"):
        result = yq(accounts, "backup", str(tmp_path / f"{who}.sqlite3"), actor=who)
        assert result.code == 1 and error_code(result) == "E_FORBIDDEN"
        assert not (tmp_path / f"{who}.sqlite3").exists()
    assert yq(accounts, "backup", str(tmp_path / "boss.sqlite3"), actor="boss").code == 0
    assert (tmp_path / "boss.sqlite3").exists()


def _shows_no_raw_controls(result: Result) -> None:
    text = result.err
    from yuqing.messages import BIDI

    assert "\x1b" not in text and not BIDI & set(text) and text.count("\n") == 1, repr(text)


@pytest.mark.parametrize("name", ["evil\n已完成 [OK]", "x\x1b[31mred", "abc\u202etxt.exe", "a\u2066b\u2069"])
def test_user_input_in_messages_cannot_forge_lines_colours_or_direction(database: Database, name: str):
    result = yq(database.url, "incident", "list", actor=name)
    assert result.code == 1 and error_code(result) == "E_ACCOUNT_UNKNOWN"
    _shows_no_raw_controls(result)
    result = yq(database.url, "incident", "add", "--title", "某事", "--unit", name)
    assert result.code == 1 and error_code(result) == "E_UNIT_UNKNOWN"
    _shows_no_raw_controls(result)


def test_library_errors_come_out_in_chinese(database: Database, tmp_path: Path):
    broken = tmp_path / "表格.xlsx"
    broken.write_bytes(b"not a zip at all")
    result = yq(database.url, "import", str(broken))
    assert result.code == 1
    assert "BadZipFile" not in result.err and "zip" not in result.err.lower(), result.err
    port = _closed_port()
    result = yq(database.url, "feeds", "add", f"http://127.0.0.1:{port}/rss")
    assert result.code == 0
    report = yq(database.url, "ingest", "once", "--now", (T0 + timedelta(days=1)).isoformat())
    listing = yq(database.url, "feeds", "list").out + report.out + report.err
    assert "Errno" not in listing and "Connection refused" not in listing, listing
