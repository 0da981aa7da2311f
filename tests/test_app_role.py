"""Issue 16: on PostgreSQL the application connects as a role that may append to the audit trail and
read it, and nothing else there; migrations run as the owner (YUQING_OWNER_DATABASE_URL).

Before, the application connected as the owner of audit_log: TRUNCATE was allowed, and the trigger
could be disabled, dropped or bypassed with session_replication_role = replica."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.cliutil import Result, ago, error_code, yq
from tests.conftest import PG_URL
from yuqing.db import roles
from yuqing.db.session import make_engine


@dataclass
class AppRole:
    owner_url: str
    app_url: str
    role: str
    init: Result


def _drop_role(role: str) -> None:
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            if conn.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role}):
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE "{role}"'))
    finally:
        admin.dispose()


@pytest.fixture
def app_role(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppRole]:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite 没有数据库角色：文件的属主什么都能改，只有审计密钥和检查点能发现（见 test_audit_anchors.py）")
    # Roles belong to the whole cluster (CI and other test databases share it): the name carries
    # this database's name and a random part, and the role is dropped at the end.
    role = f"yq_app_{make_url(PG_URL).database}_{uuid.uuid4().hex[:8]}"
    app_url = make_url(db_url).set(username=role, password=None).render_as_string(hide_password=False)
    monkeypatch.setenv("YUQING_OWNER_DATABASE_URL", db_url)
    try:
        result = yq(app_url, "init")
        assert result.code == 0, result.err
        yield AppRole(db_url, app_url, role, result)
    finally:
        _drop_role(role)


def _as(url: str, statement: str) -> str | None:
    """Run one statement on its own connection; the database's refusal, or None if it ran."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    except DBAPIError as exc:
        return str(exc.orig)
    finally:
        engine.dispose()
    return None


def test_init_creates_the_role_and_says_what_it_granted(app_role: AppRole):
    assert f"已创建应用的数据库角色 {app_role.role}" in app_role.init.out
    assert "审计表只能追加和读取" in app_role.init.out
    engine = make_engine(app_role.owner_url)
    try:
        with engine.connect() as conn:
            rights = roles.audit_rights(conn, app_role.role)
            attributes = conn.execute(text("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
                                           "WHERE rolname = :r"), {"r": app_role.role}).one()
    finally:
        engine.dispose()
    assert rights == {"SELECT": True, "INSERT": True, "UPDATE": False, "DELETE": False, "TRUNCATE": False,
                      "TRIGGER": False, "REFERENCES": False}
    assert not any(attributes)


def test_init_again_changes_nothing_and_says_so(app_role: AppRole):
    again = yq(app_role.app_url, "init")
    assert again.code == 0, again.err
    assert "已创建" not in again.out and "审计表只能追加和读取" in again.out


ATTACKS = {
    "update": "UPDATE audit_log SET reason = '悄悄改了'",
    "delete_tail": "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)",
    "truncate": "TRUNCATE audit_log",
    "replica_role": "SET session_replication_role = replica",
    "disable_trigger": "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
    "drop_trigger": "DROP TRIGGER audit_log_append_only ON audit_log",
    "drop_table": "DROP TABLE audit_log",
    "alembic_version": "UPDATE alembic_version SET version_num = '0001'",
    "new_table": "CREATE TABLE audit_log_copy (id integer)",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_the_app_role_cannot_change_or_bypass_the_audit_table(app_role: AppRole, attack: str):
    before = yq(app_role.app_url, "audit", "log", "--json").json()
    refusal = _as(app_role.app_url, ATTACKS[attack])
    assert refusal is not None and ("permission denied" in refusal or "must be owner" in refusal), refusal
    assert yq(app_role.app_url, "audit", "log", "--json").json() == before
    # The owner still can (that is what migrations need): the refusal comes from the role, not the table.
    if attack == "replica_role":
        assert _as(app_role.owner_url, ATTACKS[attack]) is None


def test_normal_work_as_the_app_role_succeeds(app_role: AppRole):
    url = app_role.app_url
    added = yq(url, "incident", "add", "--title", "灵宝市某景区索道故障游客滞留", "--unit", "灵宝市",
               "--first-post-at", ago(hours=2), "--no-classify")
    assert added.code == 0, added.err
    incidents = yq(url, "incident", "list", "--json").json()
    incident_id = str(incidents[0]["id"])
    acted = yq(url, "incident", "act", incident_id, "--kind", "回应", "--at", ago(hours=1), "--channel", "微博")
    assert acted.code == 0, acted.err
    assert yq(url, "incident", "close", incident_id).code == 0
    assert yq(url, "audit", "checkpoint").code == 0
    verified = yq(url, "audit", "verify")
    assert verified.code == 0 and "审计链完整" in verified.out, verified.err
    assert yq(url, "ingest", "once").code == 0  # feed claims lock rows (FOR UPDATE) on the other tables


def test_a_missing_role_the_owner_may_not_create_is_refused_before_migrating(db_url: str, monkeypatch: pytest.MonkeyPatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite 没有数据库角色")
    suffix = f"{make_url(PG_URL).database}_{uuid.uuid4().hex[:8]}"
    owner, missing = f"yq_owner_{suffix}", f"yq_app_{suffix}"
    schema = make_url(db_url).query["options"].split("=", 1)[1]
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE ROLE "{owner}" LOGIN'))  # may own tables, may not create roles
            conn.execute(text(f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{owner}"'))
        monkeypatch.setenv("YUQING_OWNER_DATABASE_URL", make_url(db_url).set(username=owner).render_as_string(False))
        result = yq(make_url(db_url).set(username=missing).render_as_string(False), "init")
        assert result.code == 1 and error_code(result) == "E_APP_ROLE_CANNOT_CREATE", result.err
        with admin.connect() as conn:
            tables = conn.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": schema})
        assert tables == 0  # nothing migrated
    finally:
        admin.dispose()
        _drop_role(owner)


def test_the_owner_url_on_sqlite_is_refused(db_url: str, monkeypatch: pytest.MonkeyPatch):
    if not db_url.startswith("sqlite"):
        pytest.skip("只针对 SQLite")
    monkeypatch.setenv("YUQING_OWNER_DATABASE_URL", "postgresql+psycopg://owner@127.0.0.1/yuqing")
    result = yq(db_url, "init")
    assert result.code == 1 and error_code(result) == "E_SETTING"
    assert "YUQING_OWNER_DATABASE_URL" in result.err
