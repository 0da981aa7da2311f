"""Issue 16: the audit trail against someone who can write the database but not read the key.

Each attack worked before (verify said 审计链完整): the key's HMAC on every record and the
checkpoints kept outside the database now name the cut."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cliutil import error_code, yq
from yuqing.db import audit
from yuqing.db.session import Database


@pytest.fixture
def office(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("YUQING_AUDIT_KEY_FILE", raising=False)
    assert yq(db_url, "init").code == 0
    for title in ("渑池县某小区燃气泄漏", "灵宝市山洪", "卢氏县停水"):
        assert yq(db_url, "incident", "add", "--title", title, "--unit", "灵宝市", "--no-classify").code == 0
    return db_url


def _tamper(url: str, *statements: str, params: list[dict] | None = None) -> None:
    """Write the database as its owner would, guards off: SQLite's triggers dropped, PostgreSQL's
    trigger bypassed with session_replication_role = replica."""
    database = Database(url)
    try:
        with database.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
                conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
            else:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            for i, statement in enumerate(statements):
                conn.execute(text(statement), (params or [{}] * len(statements))[i])
    finally:
        database.dispose()


def _records(url: str) -> list[dict]:
    return yq(url, "audit", "log", "--json").json()


def test_init_creates_a_private_key_outside_the_database(office: str, tmp_path: Path):
    key = tmp_path / "data" / "audit.key"
    assert key.exists() and stat.S_IMODE(key.stat().st_mode) == 0o600
    result = yq(office, "audit", "verify")
    assert result.code == 0 and "已签名" in result.out


def test_checkpoint_is_appended_outside_the_database_and_printed(office: str, tmp_path: Path):
    first = yq(office, "audit", "checkpoint")
    assert first.code == 0
    shown = json.loads(first.out)
    assert shown["count"] == len(_records(office)) and len(shown["mac"]) == 64
    yq(office, "incident", "add", "--title", "又一条", "--unit", "灵宝市", "--no-classify")
    assert yq(office, "audit", "checkpoint").code == 0
    lines = (tmp_path / "data" / "audit-checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["count"] for x in lines] == [shown["count"], shown["count"] + 1]
    assert yq(office, "audit", "verify").code == 0


@pytest.mark.parametrize("cut", [1, 3])
def test_deleting_the_last_records_after_a_checkpoint_is_caught(office: str, cut: int):
    assert yq(office, "audit", "checkpoint").code == 0
    ids = [r["id"] for r in _records(office)][-cut:]
    _tamper(office, f"DELETE FROM audit_log WHERE id IN ({','.join(map(str, ids))})")
    result = yq(office, "audit", "verify")
    assert result.code == 1 and error_code(result) == "E_AUDIT_CUT", result.err


def test_a_wiped_table_is_caught(office: str):
    assert yq(office, "audit", "checkpoint").code == 0
    _tamper(office, "DELETE FROM audit_log")
    result = yq(office, "audit", "verify")
    assert result.code == 1 and error_code(result) == "E_AUDIT_CUT"


def test_a_recomputed_chain_is_caught(office: str):
    """Edit one record and recompute every later hash: without the key the signatures do not match."""
    database = Database(office)
    with database.session() as s:
        rows = [dict(r._mapping) for r in s.execute(text("SELECT * FROM audit_log ORDER BY id"))]
    database.dispose()
    rows[1]["reason"] = "改写过的原因"
    prev = rows[0]["hash"]
    updates = []
    for row in rows[1:]:
        row["prev_hash"] = prev
        at = row["at"]
        if isinstance(at, str):
            from datetime import UTC, datetime

            at = datetime.fromisoformat(at).replace(tzinfo=UTC)
        elif at.tzinfo is None:
            from datetime import UTC

            at = at.replace(tzinfo=UTC)
        row["hash"] = audit.record_hash(prev_hash=prev, at=at, actor=row["actor"], entity=row["entity"],
                                        entity_id=row["entity_id"], action=row["action"], before=row["before"],
                                        after=row["after"], reason=row["reason"])
        prev = row["hash"]
        updates.append(row)
    # Drop the unique hashes first so the rewrite cannot collide with itself, then write the new chain.
    statements = [f"UPDATE audit_log SET hash = 'x{r['id']}' WHERE id = {r['id']}" for r in updates]
    statements += ["UPDATE audit_log SET prev_hash = :prev_hash, hash = :hash, reason = :reason WHERE id = :id"] * len(updates)
    _tamper(office, *statements, params=[{}] * len(updates) + updates)
    for mac in ("keep", "null"):
        if mac == "null":
            _tamper(office, "UPDATE audit_log SET mac = NULL")
        result = yq(office, "audit", "verify")
        assert result.code == 1 and error_code(result) in ("E_AUDIT_BROKEN", "E_AUDIT_REWRITTEN"), result.err


def test_a_forged_append_with_a_correct_hash_is_caught(office: str):
    """Appended through the normal INSERT path (triggers in place), the link and hash right."""
    head = _records(office)[-1]
    from datetime import UTC, datetime

    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    fields = dict(at=at, actor="office", entity="incident", entity_id="1", action="void", before=None,
                  after='{"status":"voided"}', reason="伪造")
    digest = audit.record_hash(prev_hash=head["hash"], **fields)
    for mac in (None, "0" * 64):
        database = Database(office)
        try:
            with database.engine.begin() as conn:
                sqlite = conn.dialect.name == "sqlite"
                conn.execute(text("INSERT INTO audit_log (at, actor, entity, entity_id, action, before, after, reason, "
                                  "prev_hash, hash, mac) VALUES (:at, :actor, :entity, :entity_id, :action, :before, "
                                  ":after, :reason, :prev, :hash, :mac)"),
                             {**fields, "at": at.replace(tzinfo=None).isoformat(" ") if sqlite else at,
                              "prev": head["hash"], "hash": digest, "mac": mac})
        finally:
            database.dispose()
        result = yq(office, "audit", "verify")
        assert result.code == 1 and error_code(result) == "E_AUDIT_BROKEN", result.err
        _tamper(office, "DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)")


def test_dropping_the_trigger_then_editing_is_caught(office: str):
    _tamper(office, "UPDATE audit_log SET reason = '悄悄改了' WHERE id = (SELECT MIN(id) FROM audit_log)")
    result = yq(office, "audit", "verify")
    assert result.code == 1 and error_code(result) == "E_AUDIT_BROKEN"


def test_checkpoints_copied_from_the_chat_are_checked_with_against(office: str, tmp_path: Path):
    printed = yq(office, "audit", "checkpoint").out
    chat = tmp_path / "群聊记录.txt"
    chat.write_text("审计检查点 " + printed, encoding="utf-8")
    os.remove(tmp_path / "data" / "audit-checkpoints.jsonl")  # the local file is gone too
    last = _records(office)[-1]
    assert (last["entity"], last["action"]) == ("incident", "create")
    # The last record cut together with the incident it created (the row check would name an
    # incident without a trail otherwise).
    _tamper(office, f"DELETE FROM audit_log WHERE id = {last['id']}",
            f"DELETE FROM open_windows WHERE incident_id = {last['entity_id']}",
            f"DELETE FROM incidents WHERE id = {last['entity_id']}")
    assert yq(office, "audit", "verify").code == 0  # nothing left here to notice the cut …
    result = yq(office, "audit", "verify", "--against", str(chat))
    assert result.code == 1 and error_code(result) == "E_AUDIT_CUT"  # … but the chat's copy does
