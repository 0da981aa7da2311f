"""Accounts and roles, enforced in the write service; logins; backups."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from classify.units import load_units_file
from tests.cliutil import ago, error_code, yq
from tests.conftest import T0, hours
from yuqing.db import accounts
from yuqing.db.service import Actor, NewAction, NewIncident, Writer
from yuqing.db.session import Database
from yuqing.errors import YuqingError
from yuqing.settings import UNITS_FILE

OWN, OTHER = "lingbao", "mianchi"
ACTORS = {
    "admin": Actor("office", "admin"),
    "staff": Actor("lb-staff", "staff", OWN),
    "viewer": Actor("leader", "viewer"),
}


def make_incident(database: Database, unit: str) -> int:
    with database.session() as s:
        w = Writer(s, ACTORS["admin"], now=T0, preset="sanmenxia-2017")
        return w.add_incident(NewIncident(title="测试舆情", unit=unit, first_post_at=T0 - hours(1))).id


def operation(name: str, unit: str, database: Database):
    incident = make_incident(database, unit) if name not in ("add", "units", "user") else None

    def run(w: Writer) -> None:
        if name == "add":
            w.add_incident(NewIncident(title="新舆情", unit=unit))
        elif name == "act":
            w.record_action(incident, NewAction(kind="response", at=T0))
        elif name == "close":
            w.close(incident)
        elif name == "reclassify":
            w.reclassify(incident, level="重大", reason="核实")
        elif name == "transfer":
            w.transfer(incident, unit="市教育局", reason="职责")
        elif name == "void":
            w.void(incident, reason="误报")
        elif name == "units":
            w.sync_units(load_units_file(UNITS_FILE)[1][:1])
        elif name == "user":
            accounts.add_user(w, "newbie", role="viewer", unit=None, password="long-enough-1")

    return run


STAFF_OWN_ALLOWED = {"add", "act", "close"}
OPERATIONS = ["add", "act", "close", "reclassify", "transfer", "void", "units", "user"]


@pytest.mark.parametrize("role", ["admin", "staff", "viewer"])
@pytest.mark.parametrize("side", ["own", "other"])
@pytest.mark.parametrize("op", OPERATIONS)
def test_role_matrix(database: Database, role: str, side: str, op: str):
    unit = OWN if side == "own" else OTHER
    run = operation(op, unit, database)
    allowed = role == "admin" or (role == "staff" and side == "own" and op in STAFF_OWN_ALLOWED)
    with database.session() as s:
        before = s.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    try:
        with database.session() as s:
            run(Writer(s, ACTORS[role], now=T0, preset="sanmenxia-2017"))
        refused = None
    except YuqingError as exc:
        refused = exc.code
    if allowed:
        assert refused is None
    else:
        assert refused in ("E_FORBIDDEN", "E_FORBIDDEN_UNIT")
        with database.session() as s:
            assert s.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == before


def test_staff_of_a_co_unit_records_its_own_action(database: Database):
    with database.session() as s:
        w = Writer(s, ACTORS["admin"], now=T0, preset="sanmenxia-2017")
        incident = w.add_incident(NewIncident(title="联合处置", unit=OTHER, co_units=(OWN,), first_post_at=T0 - hours(1))).id
    with database.session() as s:
        action = Writer(s, ACTORS["staff"], now=T0, preset="sanmenxia-2017").record_action(
            incident, NewAction(kind="response", at=T0)
        )
        assert action.unit.code == OWN


@pytest.fixture
def url(database: Database) -> str:
    return database.url


def add_user(url: str, name: str, role: str, *extra: str, password: str = "correct horse", monkeypatch=None) -> int:
    return yq(url, "users", "add", name, "--role", role, *extra, "--password-stdin", stdin=password + "\n",
              monkeypatch=monkeypatch).code


def test_users_add_list_disable_and_as(url: str, monkeypatch: pytest.MonkeyPatch):
    assert add_user(url, "lb", "staff", "--unit", "灵宝", monkeypatch=monkeypatch) == 0
    assert add_user(url, "boss", "viewer", monkeypatch=monkeypatch) == 0
    listed = yq(url, "users", "list", "--json").json()
    assert [(u["name"], u["role"], u["unit"]) for u in listed] == [("lb", "staff", "lingbao"), ("boss", "viewer", None)]
    ok = yq(url, "--as", "lb", "incident", "add", "--title", "灵宝网传停水", "--unit", "灵宝市", "--no-classify")
    assert ok.code == 0
    other = yq(url, "--as", "lb", "incident", "add", "--title", "渑池网传停水", "--unit", "渑池县", "--no-classify")
    assert other.code == 1 and error_code(other) == "E_FORBIDDEN_UNIT"
    viewer = yq(url, "--as", "boss", "incident", "act", ok.out.strip(), "--kind", "response", "--at", ago(0, 1))
    assert viewer.code == 1 and error_code(viewer) == "E_FORBIDDEN"
    log = yq(url, "audit", "log", "--entity", "incident", "--json").json()
    assert log[-1]["actor"] == "lb"
    assert yq(url, "users", "disable", "lb").code == 0
    disabled = yq(url, "--as", "lb", "incident", "list")
    assert disabled.code == 1 and error_code(disabled) == "E_ACCOUNT_DISABLED"
    unknown = yq(url, "--as", "nobody", "incident", "list")
    assert unknown.code == 1 and error_code(unknown) == "E_ACCOUNT_UNKNOWN"


@pytest.mark.parametrize(
    "argv, stdin, code",
    [
        (["users", "add", "a", "--role", "staff", "--password-stdin"], "long-password\n", "E_STAFF_NEEDS_UNIT"),
        (["users", "add", "a", "--role", "viewer", "--unit", "灵宝", "--password-stdin"], "long-password\n", "E_UNIT_ONLY_FOR_STAFF"),
        (["users", "add", "a", "--role", "viewer", "--password-stdin"], "short\n", "E_PASSWORD_WEAK"),
        (["users", "add", "a", "--role", "viewer", "--password-stdin"], "", "E_PASSWORD_INPUT"),
        (["users", "add", "a", "--role", "viewer"], "long-password\n", "E_PASSWORD_INPUT"),
        (["users", "add", "a b", "--role", "viewer", "--password-stdin"], "long-password\n", "E_ACCOUNT_NAME"),
        (["users", "passwd", "ghost", "--password-stdin"], "long-password\n", "E_ACCOUNT_UNKNOWN"),
    ],
)
def test_bad_account_input_is_refused(url: str, argv, stdin, code, monkeypatch: pytest.MonkeyPatch):
    result = yq(url, *argv, stdin=stdin, monkeypatch=monkeypatch)
    assert result.code == 1 and error_code(result) == code


def test_duplicate_account_is_refused(url: str, monkeypatch: pytest.MonkeyPatch):
    assert add_user(url, "twin", "viewer", monkeypatch=monkeypatch) == 0
    result = yq(url, "users", "add", "twin", "--role", "viewer", "--password-stdin", stdin="long-password\n", monkeypatch=monkeypatch)
    assert error_code(result) == "E_ACCOUNT_EXISTS"


def test_no_plain_password_is_stored_or_audited(database: Database, monkeypatch: pytest.MonkeyPatch):
    secret = "s3cret-Plain-Text"
    assert add_user(database.url, "alice", "admin", password=secret, monkeypatch=monkeypatch) == 0
    yq(database.url, "users", "passwd", "alice", "--password-stdin", stdin=secret + "-2\n", monkeypatch=monkeypatch)
    with database.engine.connect() as conn:
        for table in ("users", "audit_log"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                assert all(secret not in str(v) for v in row)
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2")


def attempt(database: Database, name: str, password: str, *, at=T0, client: str = "10.1.1.1"):
    """One login attempt as the server makes it: the session token, or the refusal."""
    from yuqing.db.logins import login

    return database.run(login, name, password, client=client, now=at)


def refused(outcome) -> str | None:
    return outcome.code if isinstance(outcome, YuqingError) else None


def test_five_failures_then_growing_delays_for_the_account_and_address_pair(database: Database,
                                                                              monkeypatch: pytest.MonkeyPatch):
    from datetime import timedelta

    assert add_user(database.url, "bob", "viewer", password="right-password", monkeypatch=monkeypatch) == 0
    for n in range(4):
        assert refused(attempt(database, "bob", "wrong", at=T0 + timedelta(seconds=n))) == "E_LOGIN_FAILED"
    # The 5th failure imposes 1 s; each further one doubles it: 2 s, 4 s.
    t = T0 + timedelta(seconds=10)
    for wait in (1, 2, 4):
        assert refused(attempt(database, "bob", "wrong", at=t)) == "E_LOGIN_FAILED"
        blocked = attempt(database, "bob", "right-password", at=t + timedelta(seconds=wait) - timedelta(milliseconds=500))
        assert refused(blocked) == "E_LOGIN_WAIT" and blocked.params["seconds"] == 1
        t += timedelta(seconds=wait)
    # Even the right password waits while blocked; the same pair gets in once the delay is over.
    assert refused(attempt(database, "bob", "wrong", at=t)) == "E_LOGIN_FAILED"
    assert refused(attempt(database, "bob", "right-password", at=t + timedelta(seconds=3))) == "E_LOGIN_WAIT"
    token = attempt(database, "bob", "right-password", at=t + timedelta(seconds=8))
    assert isinstance(token, str) and len(token) >= 43


def test_a_stranger_elsewhere_cannot_lock_the_account_out_of_the_office(database: Database,
                                                                       monkeypatch: pytest.MonkeyPatch):
    assert add_user(database.url, "admin2", "admin", password="right-password", monkeypatch=monkeypatch) == 0
    for _ in range(12):
        attempt(database, "admin2", "guess", client="203.0.113.9")
    assert refused(attempt(database, "admin2", "right-password", client="203.0.113.9")) == "E_LOGIN_WAIT"
    assert isinstance(attempt(database, "admin2", "right-password", client="10.1.1.1"), str)  # the office
    # The stranger's delay is capped (15 minutes), not forever.
    from yuqing.db.logins import MAX_DELAY, delay_after

    assert delay_after(4) is None and delay_after(5).total_seconds() == 1 and delay_after(200) == MAX_DELAY


def test_unknown_names_are_throttled_like_real_ones(database: Database):
    for _ in range(5):
        assert refused(attempt(database, "ghost", "whatever")) == "E_LOGIN_FAILED"
    assert refused(attempt(database, "ghost", "whatever")) == "E_LOGIN_WAIT"


def test_a_pair_quiet_for_a_day_is_forgotten(database: Database):
    from datetime import timedelta

    from sqlalchemy import func, select

    from yuqing.db.models import LoginFailures

    for n in range(3):
        attempt(database, f"guess{n}", "whatever", client="203.0.113.9")
    attempt(database, "ghost", "whatever", at=T0 + timedelta(days=1, minutes=1))
    with database.session() as session:
        assert list(session.scalars(select(LoginFailures.account))) == ["ghost"]
        assert session.scalar(select(func.count()).select_from(LoginFailures)) == 1


def test_success_resets_the_failure_count(database: Database, monkeypatch: pytest.MonkeyPatch):
    assert add_user(database.url, "dan", "viewer", password="right-password", monkeypatch=monkeypatch) == 0
    for n in range(12):
        if n % 4 == 3:
            assert isinstance(attempt(database, "dan", "right-password"), str)
        else:
            assert refused(attempt(database, "dan", "wrong")) == "E_LOGIN_FAILED"
    assert isinstance(attempt(database, "dan", "right-password"), str)


def test_unknown_name_and_wrong_password_look_the_same(database: Database, monkeypatch: pytest.MonkeyPatch):
    assert add_user(database.url, "erin", "viewer", password="right-password", monkeypatch=monkeypatch) == 0
    assert refused(attempt(database, "ghost", "whatever")) == refused(attempt(database, "erin", "whatever")) \
        == "E_LOGIN_FAILED"


def test_password_stdin_works_without_a_terminal(database: Database):
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", "from yuqing import cli; cli.main()", "--db", database.url, "users", "add", "carol", "--role",
         "admin", "--password-stdin"],
        input="from-a-pipe-123\n", capture_output=True, text=True, cwd=root, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert isinstance(attempt(database, "carol", "from-a-pipe-123"), str)


def test_backup_while_another_process_writes(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    assert yq(url, "init", "--demo").code == 0
    root = Path(__file__).resolve().parents[1]
    script = (
        "from yuqing import cli\n"
        "for i in range(40):\n"
        f"    cli.run(['--db', {url!r}, 'incident', 'add', '--title', f'写入中{{i}}', '--unit', '灵宝', '--no-classify'])\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdout=subprocess.DEVNULL)
    try:
        copies = []
        for n in range(3):
            out = tmp_path / f"copy{n}.sqlite3"
            result = yq(url, "backup", str(out))
            assert result.code == 0, result.err
            copies.append(out)
    finally:
        writer.wait(timeout=120)
    for copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        assert yq(f"sqlite:///{copy}", "audit", "verify").code == 0


def test_backup_refuses_an_existing_target_and_postgres(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'yuqing.db.sqlite3'}"
    yq(url, "init")
    (tmp_path / "exists.sqlite3").write_bytes(b"x")
    assert error_code(yq(url, "backup", str(tmp_path / "exists.sqlite3"))) == "E_BACKUP_TARGET"
    pg = yq("postgresql+psycopg://u@127.0.0.1:1/x", "backup", str(tmp_path / "pg.dump"))
    assert pg.code == 1 and error_code(pg) == "E_BACKUP_POSTGRES"
