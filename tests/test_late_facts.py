"""Late facts on closed incidents: an action dated before the close, with a reason; reopen by the office."""
from __future__ import annotations

import pytest

from tests.cliutil import ago, error_code, yq


@pytest.fixture
def closed(db_url: str) -> tuple[str, str]:
    assert yq(db_url, "init").code == 0
    incident = yq(db_url, "incident", "add", "--title", "网民反映某小区停水", "--unit", "灵宝市", "--no-classify",
                  "--first-post-at", ago(30), "--level", "一般", "--not-sudden").out.strip()
    assert yq(db_url, "incident", "close", incident, "--at", ago(2)).code == 0
    return db_url, incident


def test_action_before_the_close_needs_a_reason_and_is_audited_as_late(closed):
    url, incident = closed
    bare = yq(url, "incident", "act", incident, "--kind", "回应", "--at", ago(20))
    assert bare.code == 1 and error_code(bare) == "E_LATE_ENTRY_REASON"
    late = yq(url, "incident", "act", incident, "--kind", "回应", "--at", ago(20), "--channel", "微博",
              "--reason", "县里当日已在微博回应，核查时才发现")
    assert late.code == 0, late.err
    shown = yq(url, "incident", "show", incident, "--json").json()
    assert shown["status"] == "closed" and shown["windows"][0]["state"] == "met"
    log = yq(url, "audit", "log", "--entity", "action", "--json").json()
    assert [r["action"] for r in log] == ["late_entry"] and log[0]["reason"].startswith("县里")


def test_action_after_the_close_is_refused(closed):
    url, incident = closed
    after = yq(url, "incident", "act", incident, "--kind", "回应", "--at", ago(1), "--reason", "补录")
    assert after.code == 1 and error_code(after) == "E_INCIDENT_CLOSED"


def test_reopen_by_the_office_then_record_after_the_old_close(closed, monkeypatch):
    url, incident = closed
    assert yq(url, "users", "add", "lb", "--role", "staff", "--unit", "灵宝市", "--password-stdin",
              stdin="long-password-1\n", monkeypatch=monkeypatch).code == 0
    staff = yq(url, "--as", "lb", "incident", "reopen", incident, "--reason", "误办结")
    assert staff.code == 1 and error_code(staff) == "E_FORBIDDEN"
    assert yq(url, "incident", "reopen", incident, "--reason", "误办结，事件仍在发酵").code == 0
    assert yq(url, "incident", "show", incident, "--json").json()["status"] == "open"
    assert yq(url, "incident", "act", incident, "--kind", "后续跟进", "--at", ago(1)).code == 0
    again = yq(url, "incident", "reopen", incident, "--reason", "x")
    assert again.code == 1 and error_code(again) == "E_INCIDENT_NOT_CLOSED"
    log = yq(url, "audit", "log", "--entity", "incident", "--id", incident, "--json").json()
    assert [r["action"] for r in log] == ["create", "close", "reopen"] and log[-1]["before"]["status"] == "closed"
