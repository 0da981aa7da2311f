"""Issue 16: an incident or action edited, deleted or inserted behind the application's back.

Before, `audit verify` only walked the chain: `UPDATE incidents SET …` by someone with database
access left it saying 审计链完整. Now each row is compared with the state its audit trail says it has.
Every write path of the application must leave verify clean (no false alarm), on both databases."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from tests.cliutil import ago, error_code, yq
from yuqing.db import auditstate
from yuqing.db.models import Incident
from yuqing.db.session import Database


def ok(url: str, *args: str) -> str:
    result = yq(url, *args)
    assert result.code == 0, result.err
    return result.out.strip()


@pytest.fixture
def worked(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The demo, then every command that writes incidents, actions or triage decisions."""
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("YUQING_AUDIT_KEY_FILE", raising=False)
    ok(db_url, "init", "--demo")
    items = {i["title"]: i["id"] for i in yq(db_url, "triage", "list", "--state", "all", "--json").json()}
    rain = ok(db_url, "triage", "accept", str(items["卢氏县山区突降暴雨，一村庄道路被冲毁"]))
    ok(db_url, "triage", "merge", str(items["陕州区多名农民工反映工资被拖欠半年"]), rain)
    ok(db_url, "triage", "dismiss", str(items["三门峡市召开全市安全生产工作会议"]), "--reason", "会议新闻")
    sheet = tmp_path / "list.csv"
    sheet.write_text("标题,内容,发布时间\n卢氏县网民反映停水,卢氏县某村停水三天,2026-11-24 08:00\n", encoding="utf-8")
    ok(db_url, "import", str(sheet))
    imported = {i["title"]: i["id"] for i in yq(db_url, "triage", "list", "--state", "all", "--json").json()}
    water = ok(db_url, "triage", "accept", str(imported["卢氏县网民反映停水"]), "--unit", "卢氏")
    evidence = tmp_path / "reply.png"
    evidence.write_bytes(b"\x89PNG evidence")
    lead = ok(db_url, "incident", "add", "--title", "灵宝市某景区索道故障游客滞留", "--unit", "灵宝市",
              "--co-unit", "市文广旅局", "--co-unit", "陕州区", "--first-post-at", ago(30))
    ok(db_url, "incident", "act", lead, "--kind", "回应", "--at", ago(29), "--channel", "微博",
       "--evidence-file", str(evidence), "--evidence", "https://weibo.example.cn/1")
    ok(db_url, "incident", "reclassify", lead, "--level", "较大", "--sudden", "--category", "事故灾难",
       "--reason", "核实滞留人数")
    ok(db_url, "incident", "transfer", lead, "--unit", "陕州区", "--reason", "属地")
    ok(db_url, "incident", "close", lead, "--at", ago(3))
    ok(db_url, "incident", "act", lead, "--kind", "release", "--at", ago(4), "--channel", "政府网站",
       "--reason", "核查时发现当日已发布")
    ok(db_url, "incident", "reopen", lead, "--reason", "误办结")
    ok(db_url, "incident", "close", lead)
    dup = ok(db_url, "incident", "add", "--title", "重复登记的一条", "--unit", "灵宝市", "--no-classify")
    ok(db_url, "incident", "void", dup, "--reason", "重复")
    action = _last_action(db_url, lead)
    return {"url": db_url, "lead": lead, "rain": rain, "water": water, "dup": dup, "action": action}


def _last_action(url: str, incident: str) -> str:
    log = yq(url, "audit", "log", "--entity", "action", "--json").json()
    return [r["entity_id"] for r in log if str(r["after"]["incident_id"]) == incident][-1]


def _clean(url: str) -> str:
    result = yq(url, "audit", "verify")
    assert result.code == 0, result.err
    assert "全部与审计记录相符" in result.out
    return result.out


def test_every_write_path_leaves_verify_clean(worked: dict[str, str]):
    out = _clean(worked["url"])
    assert "审计链完整" in out


def test_verify_reads_in_pages_in_numeric_id_order(worked: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    # Pages of 3 over 15+ incidents: ids 9 and 10 are sorted as numbers on both sides of the join.
    monkeypatch.setattr(auditstate, "PAGE", 3)
    _clean(worked["url"])


def test_a_field_added_to_the_snapshot_later_is_not_an_alarm(worked: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    # As after a migration that adds a column: the records written before do not name it.
    real = auditstate.incident_snapshot
    monkeypatch.setattr(auditstate, "incident_snapshot", lambda i: {**real(i), "reported_at": "2026-01-01"})
    _clean(worked["url"])


def _edit(url: str, *statements: str) -> None:
    database = Database(url)
    try:
        with database.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        database.dispose()


def _earlier(url: str, table: str, column: str, row: str) -> str:
    if url.startswith("postgresql"):
        return f"UPDATE {table} SET {column} = {column} - interval '1 hour' WHERE id = {row}"
    return f"UPDATE {table} SET {column} = datetime({column}, '-1 hour') WHERE id = {row}"


def _caught(url: str, *names: str) -> str:
    result = yq(url, "audit", "verify")
    assert result.code == 1 and error_code(result) == "E_AUDIT_STATE", result.err
    for name in names:
        assert name in result.err, result.err
    return result.err


@pytest.mark.parametrize("field", ["title", "unit", "status", "started_at", "sudden"])
def test_an_incident_field_updated_directly_is_named(worked: dict[str, str], field: str):
    url, lead = worked["url"], worked["lead"]
    statement = {
        "title": f"UPDATE incidents SET title = title || '（已处理）' WHERE id = {lead}",
        "unit": f"UPDATE incidents SET unit_id = (SELECT id FROM units WHERE code = 'jyj') WHERE id = {lead}",
        "status": f"UPDATE incidents SET status = 'open', closed_at = NULL WHERE id = {lead}",
        "started_at": _earlier(url, "incidents", "started_at", lead),
        "sudden": f"UPDATE incidents SET sudden = NOT sudden WHERE id = {lead}",
    }[field]
    _edit(url, statement)
    _caught(url, f"舆情 {lead} ")


def test_an_action_edited_directly_is_named_with_its_incident(worked: dict[str, str]):
    url, lead, action = worked["url"], worked["lead"], worked["action"]
    _edit(url, _earlier(url, "actions", "at", action))
    assert "处置时间" in _caught(url, f"舆情 {lead} 的处置记录 {action} ")


def test_a_deleted_action_is_named(worked: dict[str, str]):
    url, lead, action = worked["url"], worked["lead"], worked["action"]
    _edit(url, f"DELETE FROM actions WHERE id = {action}")
    assert "被直接删除" in _caught(url, f"舆情 {lead} 的处置记录 {action} ")


def test_an_incident_inserted_directly_is_named(worked: dict[str, str]):
    url = worked["url"]
    database = Database(url)
    try:
        table = Incident.__table__
        with database.engine.begin() as conn:
            row = dict(conn.execute(select(table).where(table.c.id == int(worked["rain"]))).mappings().one())
            row.pop("id")
            new_id = conn.execute(insert(table).values(**row)).inserted_primary_key[0]
    finally:
        database.dispose()
    assert "没有任何审计记录" in _caught(url, f"舆情 {new_id} ")


def test_a_deleted_incident_is_named(worked: dict[str, str]):
    url, dup = worked["url"], worked["dup"]
    _edit(url, f"DELETE FROM incident_co_units WHERE incident_id = {dup}",
          f"DELETE FROM open_windows WHERE incident_id = {dup}", f"DELETE FROM incidents WHERE id = {dup}")
    assert "被直接删除" in _caught(url, f"舆情 {dup} ")


def test_postgresql_refuses_truncate_of_the_audit_table_even_to_its_owner(db_url: str):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite 没有 TRUNCATE（DELETE 已由触发器拒绝）")
    ok(db_url, "init")
    before = yq(db_url, "audit", "log", "--json").json()
    assert before
    for prelude in ("", "SET LOCAL session_replication_role = replica"):
        database = Database(db_url)
        try:
            with pytest.raises(Exception, match="append-only: TRUNCATE refused"):
                with database.engine.begin() as conn:
                    if prelude:
                        conn.execute(text(prelude))
                    conn.execute(text("TRUNCATE audit_log"))
        finally:
            database.dispose()
    assert yq(db_url, "audit", "log", "--json").json() == before


def test_the_sequence_covers_every_kind_of_incident_write(worked: dict[str, str]):
    log = yq(worked["url"], "audit", "log", "--entity", "incident", "--json").json()
    # earlier_start: the merged item was published before the accepted one (the demo's feed).
    assert {r["action"] for r in log} == {"create", "reclassify", "transfer", "close", "reopen", "void", "earlier_start"}
    actions = yq(worked["url"], "audit", "log", "--entity", "action", "--json").json()
    assert {r["action"] for r in actions} == {"create", "late_entry"}
