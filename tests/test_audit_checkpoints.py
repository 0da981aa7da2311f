"""Issue 16: checkpoints taken by other acts — the alert loop's daily post to the office's robot, every
bulletin and every `score --freeze` — are checked by `audit verify` (count and head: a cut is named).

Before, the head hash printed in a bulletin was never looked at, a snapshot's head was checked only as
a hash (its own freeze record could be cut off unseen), and no copy reached a chat history."""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.cliutil import error_code, yq
from tests.test_alerts_db import Robot, routes_file
from tests.test_audit_anchors import _records, _tamper
from yuqing.alerts import load_routes
from yuqing.db import auditkey
from yuqing.db.alerting import CLAIM_TIMEOUT, DailyCheckpoint, _claim, run_alerts
from yuqing.db.models import AlertDelivery
from yuqing.db.session import Database

# 2026-06-10 10:00 Beijing: outside the quiet hours used below.
MORNING = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def office(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("YUQING_AUDIT_KEY_FILE", raising=False)
    assert yq(db_url, "init").code == 0
    for title in ("渑池县某小区燃气泄漏", "灵宝市山洪", "卢氏县停水"):
        assert yq(db_url, "incident", "add", "--title", title, "--unit", "灵宝市", "--no-classify").code == 0
    return db_url


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.close()


def _cut_last(url: str, n: int = 1) -> None:
    """Cut the last `n` records, and the incidents they created (`audit verify` compares the rows with
    their trails: an incident left without its record would be named by that check instead)."""
    cut = _records(url)[-n:]
    created = [r["entity_id"] for r in cut if (r["entity"], r["action"]) == ("incident", "create")]
    _tamper(url, f"DELETE FROM audit_log WHERE id IN ({','.join(str(r['id']) for r in cut)})",
            *([f"DELETE FROM open_windows WHERE incident_id IN ({','.join(created)})",
               f"DELETE FROM incidents WHERE id IN ({','.join(created)})"] if created else []))


def _daily(tmp_path: Path) -> DailyCheckpoint:
    return DailyCheckpoint(tmp_path / "data" / "audit.key", tmp_path / "data" / "audit-checkpoints.jsonl")


def _office_posts(robot: Robot) -> list[str]:
    return [body["markdown"]["content"] for path, body in robot.posts if path.startswith("/cgi-bin/webhook/send")]


# --- the daily post to the office's robot -------------------------------------------------------
def test_the_alert_loop_posts_the_daily_checkpoint_once_a_day(office: str, robot: Robot, tmp_path: Path):
    routes = load_routes(routes_file(tmp_path, robot))
    database = Database(office)
    replica = Database(office)  # a second server running the same loop on the same database
    try:
        first = run_alerts(database, routes, now=MORNING, sleep=lambda s: None, checkpoint=_daily(tmp_path))
        assert first.checkpoint_sent == ["office"] and len(_office_posts(robot)) == 1
        for later, db in ((timedelta(minutes=5), database), (timedelta(hours=8), replica)):
            again = run_alerts(db, routes, now=MORNING + later, sleep=lambda s: None, checkpoint=_daily(tmp_path))
            assert again.checkpoint_sent == [] and len(_office_posts(robot)) == 1
        next_day = run_alerts(replica, routes, now=MORNING + timedelta(days=1), sleep=lambda s: None,
                              checkpoint=_daily(tmp_path))
        assert next_day.checkpoint_sent == ["office"] and len(_office_posts(robot)) == 2
        with database.session() as s:
            rows = s.scalars(select(AlertDelivery).where(AlertDelivery.kind == "checkpoint")).all()
            assert sorted(r.key for r in rows) == ["checkpoint:2026-06-10", "checkpoint:2026-06-11"]
            assert {r.status for r in rows} == {"sent"}
    finally:
        database.dispose()
        replica.dispose()
    posted = json.loads(_office_posts(robot)[0].splitlines()[-1])
    assert posted["count"] == len(_records(office)) and len(posted["mac"]) == 64
    local = (tmp_path / "data" / "audit-checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(local) == 2 and json.loads(local[0])["head"] == posted["head"]


def test_the_posted_checkpoint_catches_a_cut_when_the_local_file_is_gone(office: str, robot: Robot, tmp_path: Path):
    routes = load_routes(routes_file(tmp_path, robot))
    database = Database(office)
    try:
        run_alerts(database, routes, now=MORNING, sleep=lambda s: None, checkpoint=_daily(tmp_path))
    finally:
        database.dispose()
    chat = tmp_path / "工作群聊天记录.txt"
    chat.write_text("\n".join(_office_posts(robot)), encoding="utf-8")
    os.remove(tmp_path / "data" / "audit-checkpoints.jsonl")
    _cut_last(office)
    assert yq(office, "audit", "verify").code == 0  # nothing left in the database notices …
    result = yq(office, "audit", "verify", "--against", str(chat))
    assert result.code == 1 and error_code(result) == "E_AUDIT_CUT"  # … the chat's copy does
    assert "每日检查点" in result.err


def test_quiet_hours_hold_the_daily_checkpoint(office: str, robot: Robot, tmp_path: Path):
    path = routes_file(tmp_path, robot)
    path.write_text('[quiet]\nstart = "22:00"\nend = "07:00"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    routes = load_routes(path)
    night = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)  # 23:00 Beijing
    database = Database(office)
    try:
        assert run_alerts(database, routes, now=night, sleep=lambda s: None, checkpoint=_daily(tmp_path)).checkpoint_sent == []
        assert _office_posts(robot) == []
        morning = night + timedelta(hours=9)  # 08:00 next day
        assert run_alerts(database, routes, now=morning, sleep=lambda s: None,
                          checkpoint=_daily(tmp_path)).checkpoint_sent == ["office"]
    finally:
        database.dispose()


def test_a_claim_left_by_a_killed_replica_is_taken_over_after_the_timeout(office: str, robot: Robot, tmp_path: Path):
    routes = load_routes(routes_file(tmp_path, robot))
    database = Database(office)
    try:
        # A replica claimed today's post and died before posting.
        assert _claim(database, "checkpoint:2026-06-10", "office", "审计检查点", MORNING)
        assert not _claim(database, "checkpoint:2026-06-10", "office", "审计检查点", MORNING)
        soon = run_alerts(database, routes, now=MORNING + timedelta(minutes=1), sleep=lambda s: None,
                          checkpoint=_daily(tmp_path))
        assert soon.checkpoint_sent == [] and _office_posts(robot) == []
        late = run_alerts(database, routes, now=MORNING + CLAIM_TIMEOUT + timedelta(minutes=1),
                          sleep=lambda s: None, checkpoint=_daily(tmp_path))
        assert late.checkpoint_sent == ["office"] and len(_office_posts(robot)) == 1
    finally:
        database.dispose()


def test_a_failed_checkpoint_post_is_retried_by_the_next_run(office: str, robot: Robot, tmp_path: Path):
    routes = load_routes(routes_file(tmp_path, robot))
    robot.fail = 100
    database = Database(office)
    try:
        failed = run_alerts(database, routes, now=MORNING, sleep=lambda s: None, checkpoint=_daily(tmp_path))
        assert failed.checkpoint_sent == []
        robot.fail = 0
        retried = run_alerts(database, routes, now=MORNING + timedelta(minutes=1), sleep=lambda s: None,
                             checkpoint=_daily(tmp_path))
        assert retried.checkpoint_sent == ["office"]
    finally:
        database.dispose()


# --- bulletins and score snapshots are checkpoints -----------------------------------------------
def test_a_bulletin_is_a_checkpoint_and_a_cut_after_it_is_caught(office: str, tmp_path: Path):
    count = len(_records(office))
    bulletin = yq(office, "bulletin", "--year", "2025", "--quarter", "1", "--now", "2026-01-10 12:00")
    assert bulletin.code == 0, bulletin.err
    assert f"（共 {count} 条记录）" in bulletin.out
    assert yq(office, "audit", "verify").code == 0
    _cut_last(office)
    result = yq(office, "audit", "verify")
    assert result.code == 1 and error_code(result) == "E_AUDIT_CUT", result.err
    assert "2025 年第 1 季度通报" in result.err and f"第 {count} 至 {count} 条记录被删除" in result.err


def test_a_freeze_is_a_checkpoint_and_cutting_its_own_record_is_caught(office: str, tmp_path: Path):
    frozen = yq(office, "score", "--year", "2025", "--freeze", "--now", "2026-01-10 12:00")
    assert frozen.code == 0, frozen.err
    assert "审计检查点" in frozen.out
    os.remove(tmp_path / "data" / "audit-checkpoints.jsonl")  # only the snapshot in the database is left
    assert yq(office, "audit", "verify").code == 0
    _cut_last(office)  # the freeze's own audit record: the snapshot's data head is still in the chain
    result = yq(office, "audit", "verify")
    assert result.code == 1 and error_code(result) == "E_AUDIT_CUT", result.err
    assert "评分快照 #1" in result.err


def test_deleting_the_snapshot_too_is_caught_by_the_checkpoint_file(office: str):
    assert yq(office, "score", "--year", "2025", "--freeze", "--now", "2026-01-10 12:00").code == 0
    _cut_last(office)
    _tamper(office, "DELETE FROM score_snapshots")
    result = yq(office, "audit", "verify")
    assert result.code == 1 and error_code(result) == "E_AUDIT_CUT"
    assert "评分快照 #1" in result.err  # named by the file's line, which carries what took it


def test_checkpoint_lines_carry_what_took_them(office: str, tmp_path: Path):
    assert yq(office, "bulletin", "--year", "2025", "--quarter", "2", "--now", "2026-01-10 12:00").code == 0
    lines = auditkey.read_checkpoints(tmp_path / "data" / "audit-checkpoints.jsonl", missing_ok=False)
    assert [c.what for c in lines] == ["2025 年第 2 季度通报"] and lines[0].mac
    database = Database(office)
    try:
        with database.session() as s:
            assert lines[0].count == s.scalar(text("SELECT count(*) FROM audit_log"))
    finally:
        database.dispose()
