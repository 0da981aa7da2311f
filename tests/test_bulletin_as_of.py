"""Bulletins as of their date: nothing recorded after --now, open quarters only as 征求意见稿, codes by name."""
from __future__ import annotations

import pytest

from tests.cliutil import Result, error_code, yq


def ok(result: Result) -> Result:
    assert result.code == 0, result.err
    return result


@pytest.fixture
def url(db_url: str) -> str:
    ok(yq(db_url, "init"))
    incident = ok(yq(db_url, "incident", "add", "--title", "网民反映某路段积水", "--unit", "灵宝市", "--no-classify",
                     "--first-post-at", "2026-09-20 09:00", "--level", "一般", "--not-sudden")).out.strip()
    ok(yq(db_url, "incident", "act", incident, "--kind", "回应", "--at", "2026-09-20 12:00", "--channel", "微博",
          "--reason", "补录"))
    letter = ok(yq(db_url, "referral", "add", incident, "--unit", "灵宝市", "--due-workdays", "5",
                   "--sent-at", "2026-09-21 10:00")).out.strip()
    ok(yq(db_url, "referral", "reply", letter, "--at", "2026-10-14 10:00"))
    ok(yq(db_url, "daily", "add", "灵宝市", "--date", "2026-11-10", "--points", "-1", "--reason", "漏报舆情"))
    ok(yq(db_url, "daily", "add", "灵宝市", "--date", "2026-11-20", "--points", "-1", "--reason", "迟报舆情"))
    ok(yq(db_url, "special", "add", "灵宝市", "--year", "2026", "--item", "bonus.leader", "--points", "1",
          "--evidence", "市长批示表扬", "--date", "2026-09-25"))
    return db_url


def test_reply_after_now_is_not_shown(url: str):
    q3 = ok(yq(url, "bulletin", "--year", "2026", "--quarter", "3", "--now", "2026-10-05 12:00")).out
    assert "2026-10-14" not in q3 and "超期未复" in q3
    later = ok(yq(url, "bulletin", "--year", "2026", "--quarter", "3", "--now", "2026-10-20 12:00")).out
    assert "2026-10-14" in later and "逾期回复" in later


def test_special_items_show_their_chinese_name(url: str):
    q3 = ok(yq(url, "bulletin", "--year", "2026", "--quarter", "3", "--now", "2026-10-05 12:00")).out
    assert "被市级（含）以上领导批示表扬" in q3 and "bonus.leader" not in q3


def test_open_quarter_is_refused_unless_draft_and_the_draft_shows_nothing_later(url: str):
    refused = yq(url, "bulletin", "--year", "2026", "--quarter", "4", "--now", "2026-11-15 12:00")
    assert refused.code == 1 and error_code(refused) == "E_BULLETIN_QUARTER_OPEN"
    draft = ok(yq(url, "bulletin", "--year", "2026", "--quarter", "4", "--now", "2026-11-15 12:00", "--draft")).out
    assert "征求意见稿" in draft.splitlines()[0]
    assert "漏报舆情" in draft and "迟报舆情" not in draft
    future = yq(url, "bulletin", "--year", "2027", "--quarter", "1", "--draft")
    assert future.code == 1 and error_code(future) == "E_BULLETIN_NOT_STARTED"
    final = ok(yq(url, "bulletin", "--year", "2026", "--quarter", "3", "--now", "2026-10-05 12:00")).out
    assert "征求意见稿" not in final
