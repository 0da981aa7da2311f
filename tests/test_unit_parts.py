"""Units do their own part: reply to letters, report rectifications done, attach appeal evidence —
each allowed for the unit's own staff, refused for another unit's, audited; the office decides."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cliutil import Result, error_code, yq


def ok(result: Result) -> Result:
    assert result.code == 0, result.err
    return result


@pytest.fixture
def url(db_url: str, monkeypatch) -> str:
    ok(yq(db_url, "init"))
    for name, unit in (("lb", "灵宝市"), ("jy", "市教育局")):
        ok(yq(db_url, "users", "add", name, "--role", "staff", "--unit", unit, "--password-stdin",
              stdin="long-password-1\n", monkeypatch=monkeypatch))
    return db_url


def letter(url: str) -> str:
    incident = ok(yq(url, "incident", "add", "--title", "网民反映某路段积水", "--unit", "灵宝市", "--no-classify",
                     "--first-post-at", "2026-11-02 09:00")).out.strip()
    return ok(yq(url, "referral", "add", incident, "--unit", "灵宝市", "--due-workdays", "5",
                 "--sent-at", "2026-11-02 10:00")).out.strip()


def test_referral_reply_by_the_own_unit_with_evidence_and_note(url: str, tmp_path: Path):
    referral = letter(url)
    proof = tmp_path / "回复函.pdf"
    proof.write_bytes(b"%PDF-1.4 reply")
    other = yq(url, "--as", "jy", "referral", "reply", referral, "--at", "2026-11-05 10:00")
    assert other.code == 1 and error_code(other) == "E_FORBIDDEN_UNIT"
    ok(yq(url, "--as", "lb", "referral", "reply", referral, "--at", "2026-11-05 10:00",
          "--evidence-file", str(proof), "--note", "已核查并回复"))
    log = yq(url, "audit", "log", "--entity", "referral", "--json").json()
    assert [r["action"] for r in log] == ["create", "reply"] and log[-1]["actor"] == "lb"
    assert len(log[-1]["after"]["evidence_sha256"]) == 64 and log[-1]["after"]["note"] == "已核查并回复"


def test_rectification_answers_keys_and_is_reported_done_by_its_unit(url: str):
    daily = ok(yq(url, "daily", "add", "灵宝市", "--date", "2026-10-10", "--points", "-1", "--reason", "迟报舆情")).out.strip()
    special = ok(yq(url, "special", "add", "灵宝市", "--year", "2026", "--item", "penalty.media", "--points", "-1",
                    "--evidence", "负面报道", "--date", "2026-10-12")).out.strip()
    foreign = ok(yq(url, "daily", "add", "市教育局", "--date", "2026-10-10", "--points", "-1", "--reason", "漏报")).out.strip()
    wrong = yq(url, "rectify", "add", "灵宝市", "--year", "2026", "--problem", "迟报", "--due", "2026-11-30",
               "--answers", f"daily-{foreign}")
    assert wrong.code == 1 and error_code(wrong) == "E_ANSWER_NOT_UNIT"
    rect = ok(yq(url, "rectify", "add", "灵宝市", "--year", "2026", "--problem", "舆情迟报", "--due", "2026-11-30",
                 "--answers", f"daily-{daily}", f"special-{special}")).out.strip()
    listed = yq(url, "rectify", "list", "--json").json()
    assert listed[0]["answers"] == [f"daily-{daily}", f"special-{special}"]
    other = yq(url, "--as", "jy", "rectify", "done", rect, "--at", "2026-11-20", "--note", "已整改")
    assert other.code == 1 and error_code(other) == "E_FORBIDDEN_UNIT"
    ok(yq(url, "--as", "lb", "rectify", "done", rect, "--at", "2026-11-20", "--note", "建立舆情日报制度"))
    log = yq(url, "audit", "log", "--entity", "rectification", "--json").json()
    assert [r["action"] for r in log] == ["create", "done"] and log[-1]["actor"] == "lb"
    draft = ok(yq(url, "bulletin", "--year", "2026", "--quarter", "4", "--draft")).out
    assert "### 整改" in draft and "舆情迟报" in draft and f"日常考核记录 {daily}" in draft and "按期完成" in draft
    # As of a moment before the office set it, the rectification is not yet known.
    before = ok(yq(url, "bulletin", "--year", "2026", "--quarter", "4", "--draft", "--now", "2026-11-15 12:00")).out
    assert "舆情迟报" not in before


def test_appeal_evidence_by_the_own_unit(url: str, tmp_path: Path):
    daily = ok(yq(url, "daily", "add", "灵宝市", "--date", "2026-10-10", "--points", "-1", "--reason", "迟报舆情",
                  "--indicator", "opinion.monitoring.reports")).out.strip()
    proof = tmp_path / "截图.png"
    proof.write_bytes(b"\x89PNG proof")
    other = yq(url, "--as", "jy", "appeal", "add", f"daily-{daily}", "--reason", "已按时报送", "--evidence-file", str(proof))
    assert other.code == 1 and error_code(other) == "E_FORBIDDEN_UNIT"
    ok(yq(url, "--as", "lb", "appeal", "add", f"daily-{daily}", "--reason", "已按时报送", "--evidence-file", str(proof)))
    log = yq(url, "audit", "log", "--entity", "appeal", "--json").json()
    assert log[-1]["actor"] == "lb" and len(log[-1]["after"]["evidence_sha256"]) == 64
    staff_decides = yq(url, "--as", "lb", "appeal", "decide", "1", "--overturn", "--reason", "x")
    assert staff_decides.code == 1 and error_code(staff_decides) == "E_FORBIDDEN"
