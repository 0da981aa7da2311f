"""Attribution by window: a transfer does not move blame that had already fallen due."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from scoring.facts import ScoredIncident, TransferFact
from tests.cliutil import error_code, yq
from timeline.clock import BEIJING
from timeline.engine import Verdict, WindowVerdict


def bj(month: int, day: int, hour: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BEIJING).astimezone(UTC)


def window(due: datetime, satisfied: datetime | None = None) -> WindowVerdict:
    return WindowVerdict("response", 24, True, due, "met" if satisfied else "overdue", satisfied, None, 0, False, False)


INCIDENT = ScoredIncident(1, "t", "cgj", bj(11, 1, 10), Verdict(False, "sanmenxia-2017"),
                          transfers=(TransferFact(bj(11, 2, 10), "zjj", "cgj"),))


@pytest.mark.parametrize(("due", "satisfied", "unit"), [
    (bj(11, 2, 9), None, "zjj"),              # due before the transfer: the old lead
    (bj(11, 2, 10), None, "zjj"),             # due at the transfer instant: the old lead's time ran out
    (bj(11, 2, 11), None, "cgj"),             # due after: the new lead
    (bj(11, 2, 11), bj(11, 2, 9), "zjj"),     # satisfied before the transfer by the old lead
])
def test_window_counts_for_the_lead_at_its_due_or_satisfying_instant(due, satisfied, unit):
    assert INCIDENT.window_unit(window(due, satisfied)) == unit


def unit_row(rows: list[dict], code: str) -> dict:
    return next(r for r in rows if r["unit"]["code"] == code)


def timeliness(row: dict) -> list[dict]:
    return [d for i in row["indicators"] if i["source"] == "timeliness" for d in i["deductions"]]


def test_transfer_after_the_deadline_leaves_the_overdue_with_the_old_unit(db_url: str, tmp_path):
    assert yq(db_url, "init").code == 0
    added = yq(db_url, "incident", "add", "--title", "网民反映某小区违建", "--unit", "住建局", "--no-classify",
               "--first-post-at", "2026-11-01 10:00", "--detected-at", "2026-11-01 10:00", "--level", "一般",
               "--not-sudden")
    incident = added.out.strip()
    moved = yq(db_url, "incident", "transfer", incident, "--unit", "城管局", "--reason", "职责调整",
               "--at", "2026-12-01 09:00")
    assert moved.code == 0, moved.err
    rows = yq(db_url, "score", "--year", "2026", "--format", "json", "--now", "2026-12-01T12:00:00+08:00").json()
    old, new = unit_row(rows, "zjj"), unit_row(rows, "cgj")
    assert [d["window"] for d in timeliness(old)] == ["response"] and timeliness(new) == []
    assert old["windows"]["response"]["overdue"] == 1 and new["windows"]["response"]["applicable"] == 0
    shown = yq(db_url, "incident", "show", incident, "--json", "--now", "2026-12-01T12:00:00+08:00").json()
    assert shown["unit"]["code"] == "cgj" and shown["windows"][0]["counts_for"]["code"] == "zjj"
    out = tmp_path / "score.xlsx"
    assert yq(db_url, "score", "--year", "2026", "--format", "xlsx", "--out", str(out),
              "--now", "2026-12-01T12:00:00+08:00").code == 0
    book = load_workbook(out, read_only=True)
    detail = list(book["时效明细"].iter_rows(values_only=True))
    book.close()
    row = dict(zip(detail[0], next(r for r in detail[1:] if r[0] == int(incident))))
    assert row["牵头单位"] == "三门峡市城市管理局" and row["计入单位"] == "三门峡市住房和城乡建设局"
    bulletin = yq(db_url, "bulletin", "--year", "2026", "--quarter", "4", "--draft",
                  "--now", "2026-12-01T12:00:00+08:00").out
    section = bulletin.split("## 三门峡市住房和城乡建设局", 1)[1].split("\n## ", 1)[0]
    assert "网民反映某小区违建" in section


def test_transfer_at_is_checked_like_an_action_time(db_url: str):
    assert yq(db_url, "init").code == 0
    incident = yq(db_url, "incident", "add", "--title", "网民反映某路段积水", "--unit", "住建局", "--no-classify",
                  "--first-post-at", "2026-11-01 10:00").out.strip()
    early = yq(db_url, "incident", "transfer", incident, "--unit", "城管局", "--reason", "职责", "--at", "2026-10-31 10:00")
    assert early.code == 1 and error_code(early) == "E_TRANSFER_BEFORE_START"
    future = (datetime.now(UTC) + timedelta(days=2)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    late = yq(db_url, "incident", "transfer", incident, "--unit", "城管局", "--reason", "职责", "--at", future)
    assert late.code == 1 and error_code(late) == "E_TIME_IN_FUTURE"
    assert yq(db_url, "incident", "transfer", incident, "--unit", "城管局", "--reason", "职责", "--at", "2026-11-05 10:00").code == 0
    back = yq(db_url, "incident", "transfer", incident, "--unit", "住建局", "--reason", "退回", "--at", "2026-11-04 10:00")
    assert back.code == 1 and error_code(back) == "E_TRANSFER_BEFORE_LAST"
    log = yq(db_url, "audit", "log", "--entity", "incident", "--id", incident, "--json").json()
    assert log[-1]["after"] == {"unit": "cgj", "at": "2026-11-05T10:00:00+08:00"}
