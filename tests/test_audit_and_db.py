"""Audit chain, migrations, settings and an unreachable database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from tests.cliutil import error_code, yq
from tests.conftest import T0, hours, writer
from yuqing.db import audit, migrate
from yuqing.db.demo import load_demo
from yuqing.db.models import Base
from yuqing.db.service import NewAction, NewIncident
from yuqing.db.session import Database
from yuqing.errors import YuqingError
from yuqing.settings import load_config


def busy_history(database: Database) -> None:
    with database.session() as s:
        load_demo(writer(s, now=T0))
    for i in range(20):
        with database.session() as s:
            w = writer(s, now=T0 + hours(i), actor=f"staff{i % 3}")
            incident = w.add_incident(NewIncident(title=f"第{i}条舆情", unit="灵宝市", first_post_at=T0 + hours(i - 1)))
            w.record_action(incident.id, NewAction(kind="response", at=T0 + hours(i)))


def test_verify_passes_on_a_busy_history(database: Database):
    busy_history(database)
    with database.session() as s:
        report = audit.verify(s)
        assert report.ok and report.count > 100
        assert report.head == audit.head_hash(s)


@pytest.mark.parametrize("tamper", ["edit_reason", "edit_after", "delete_middle", "edit_actor"])
def test_verify_names_the_first_broken_record(database: Database, tamper: str):
    busy_history(database)
    with database.session() as s:
        target = s.execute(text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 40")).scalar_one()
    statements = {
        "edit_reason": "UPDATE audit_log SET reason = 'x' WHERE id = :id",
        "edit_after": "UPDATE audit_log SET after = '{}' WHERE id = :id",
        "edit_actor": "UPDATE audit_log SET actor = 'someone-else' WHERE id = :id",
        "delete_middle": "DELETE FROM audit_log WHERE id = :id",
    }
    with database.engine.begin() as conn:
        # Someone with raw database access first takes the append-only guard away.
        drop_guard(conn)
        conn.execute(text(statements[tamper]), {"id": target})
    with database.session() as s:
        report = audit.verify(s)
    assert not report.ok
    expected = target + 1 if tamper == "delete_middle" else target
    assert report.broken_id == expected
    result = yq(database.url, "audit", "verify")
    assert result.code == 1 and error_code(result) == "E_AUDIT_BROKEN" and f"第 {expected} 条" in result.err


def drop_guard(conn) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    else:
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"])
def test_database_refuses_update_and_delete_of_audit_records(database: Database, statement: str):
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="append-only"):
        with database.engine.begin() as conn:
            conn.execute(text(statement))
    with database.session() as s:
        assert audit.verify(s).ok


def test_cli_verify_prints_count_and_head(database: Database):
    busy_history(database)
    result = yq(database.url, "audit", "verify")
    assert result.code == 0 and "审计链完整" in result.out
    with database.session() as s:
        assert audit.head_hash(s) in result.out


def test_refused_write_leaves_no_audit_record(database: Database):
    with database.session() as s:
        before = audit.verify(s).count
    with pytest.raises(YuqingError):
        with database.session() as s:
            w = writer(s)
            w.add_incident(NewIncident(title="有效标题", unit="灵宝市"))
            w.add_incident(NewIncident(title="", unit="灵宝市"))
    with database.session() as s:
        assert audit.verify(s).count == before


def test_migrations_match_the_models_and_go_down_and_up(db_url: str):
    database = Database(db_url)
    try:
        migrate.upgrade(database.engine)
        with database.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
        migrate.downgrade(database.engine, "base")
        with database.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
        migrate.upgrade(database.engine)
        with database.engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
    finally:
        database.dispose()


def test_commands_refuse_an_uninitialised_database(db_url: str):
    result = yq(db_url, "incident", "list")
    assert result.code == 1 and error_code(result) == "E_DB_NOT_INITIALISED"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "sqlite:////proc/no/such/dir/x.sqlite3",
    ],
)
def test_unreachable_database_is_a_sentence_not_a_traceback(url: str):
    for argv in (["incident", "list"], ["init"]):
        result = yq(url, *argv)
        assert result.code == 1 and "Traceback" not in result.err
        assert error_code(result) == "E_DB_UNREACHABLE"


@pytest.mark.parametrize(
    "env, name",
    [
        ({"YUQING_DATABASE_URL": "mysql://x/y"}, "YUQING_DATABASE_URL"),
        ({"YUQING_DATABASE_URL": "::::"}, "YUQING_DATABASE_URL"),
        ({"YUQING_PRESET": "nowhere-1999"}, "YUQING_PRESET"),
        ({"YUQING_UNITS_FILE": "/no/such/units.toml"}, "YUQING_UNITS_FILE"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(env: dict[str, str], name: str):
    with pytest.raises(YuqingError) as info:
        load_config(env)
    assert info.value.code == "E_SETTING" and name in str(info.value)


def test_default_database_is_sqlite_under_the_data_dir(tmp_path):
    config = load_config({"YUQING_DATA_DIR": str(tmp_path / "d")})
    assert config.database_url == f"sqlite:///{tmp_path / 'd' / 'yuqing.sqlite3'}"
    assert config.preset == "sanmenxia-2017"


def test_plain_postgresql_urls_use_psycopg3():
    assert load_config({"YUQING_DATABASE_URL": "postgresql://u@h/db"}).database_url.startswith("postgresql+psycopg://")


def test_demo_loads_once_with_every_state(db_url: str, tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    assert yq(db_url, "init", "--demo").code == 0
    again = yq(db_url, "init", "--demo")
    assert again.code == 0 and "未重复添加" in again.out
    listed = yq(db_url, "incident", "list", "--json").json()
    states = {w["state"] for i in listed for w in i["windows"]}
    assert {"met", "late", "open", "overdue", "not_applicable"} <= states
    assert any(w["at_risk"] for i in listed for w in i["windows"])
    assert any(w["past_due_at_reclassification"] for i in listed for w in i["windows"])
    assert {i["status"] for i in listed} == {"open", "closed", "voided"}
    assert len({i["unit"]["code"] for i in listed}) >= 6
    assert yq(db_url, "audit", "verify").code == 0


def test_stored_times_come_back_aware_utc(database: Database):
    with database.session() as s:
        incident = writer(s).add_incident(NewIncident(title="时区", unit="灵宝市", first_post_at=T0 - timedelta(hours=1)))
        incident_id = incident.id
    from yuqing.db.incidents import get_incident

    with database.session() as s:
        view = get_incident(s, incident_id)
    assert view is not None and view.started_at == T0 - timedelta(hours=1)
    assert view.started_at.utcoffset() == timedelta(0)
