"""The scoring commands on a realistic year (2025), on SQLite and PostgreSQL: referrals across the
National Day holiday, manual scores, special items, zeroing, daily records, appeals, snapshots,
exports, the quarterly bulletin, refusals and permissions."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from classify.units import load_units_file
from scoring import load_scheme
from tests.cliutil import Result, error_code, yq
from tests.conftest import writer
from timeline.clock import BEIJING
from yuqing import cli
from yuqing.db.models import AuditRecord
from yuqing.db.models_scoring import ManualScore
from yuqing.db.service import NewAction, NewIncident
from yuqing.db.session import Database
from yuqing.settings import UNITS_FILE

YEAR = 2025
NOW = "2026-01-31 12:00"
SCHEME = load_scheme(YEAR)
# Share of every manual indicator's points each unit gets (0.9 unless listed).
FRACTIONS = {"kjj": 0.7, "gxj": 0.5}


def bj(month: int, day: int, hour: int = 0, minute: int = 0, year: int = YEAR) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


def ok(result: Result) -> Result:
    assert result.code == 0, result.err
    return result


def manual_csv(path: Path, rows: list[list[Any]] | None = None) -> Path:
    if rows is None:
        rows = []
        for unit in load_units_file(UNITS_FILE)[1]:
            if unit.active:
                fraction = FRACTIONS.get(unit.code, 0.9)
                rows += [[unit.code, i.code, round(i.points * fraction, 2), "自评材料齐全"]
                         for i in SCHEME.tree(unit.kind).indicators if not i.computed]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["unit", "indicator", "points", "note"])
        out.writerows(rows)
    return path


def build_year(database: Database, url: str, folder: Path) -> dict[str, int]:
    """Incidents and actions through the write service, each at the moment it happened; the scoring
    records through the command line."""
    ids: dict[str, int] = {}
    with database.session() as s:
        def incident(name: str, unit: str, start: datetime, **kw: Any) -> None:
            new = NewIncident(title=f"舆情{name}", unit=unit, first_post_at=start, detected_at=start + timedelta(minutes=10),
                              classify=False, **kw)
            ids[name] = writer(s, now=start + timedelta(minutes=20)).add_incident(new).id

        def act(name: str, kind: str, at: datetime, channels: tuple[str, ...] = ("website",), principal: bool = False) -> None:
            writer(s, now=at + timedelta(minutes=1)).record_action(ids[name], NewAction(kind, at, channels, principal))

        # 灵宝市: a major sudden incident (release 2 h late, by the principal), an ordinary one answered
        # late on one channel, a secondary incident of the first, and a voided one never answered.
        incident("A", "灵宝市", bj(3, 10, 8), level="重大", sudden=True)
        act("A", "response", bj(3, 10, 10), ("weibo", "website"))
        act("A", "release", bj(3, 10, 15), ("website",), principal=True)
        act("A", "press_conference", bj(3, 11, 4), ("press",))
        act("A", "follow_up", bj(3, 12, 8), ("website",))
        incident("C", "灵宝市", bj(3, 12, 9), parent_id=ids["A"], level="一般", sudden=False)
        act("C", "response", bj(3, 12, 12), ("weibo", "wechat"))
        incident("B", "灵宝市", bj(6, 10, 14), level="一般", sudden=False)
        act("B", "response", bj(6, 11, 20), ("website",))
        incident("D", "灵宝市", bj(7, 1, 9), level="一般", sudden=False)
        writer(s, now=bj(7, 1, 12)).void(ids["D"], reason="误报")
        # 市教育局 (co-unit 卢氏县, which does not share under the default scheme): one never answered;
        # one sudden incident with no press conference and no principal.
        incident("E", "市教育局", bj(4, 2, 9), co_units=("卢氏县",), level="一般", sudden=False)
        incident("F", "市教育局", bj(5, 6, 9), level="较大", sudden=True)
        act("F", "response", bj(5, 6, 12), ("website",))
        act("F", "release", bj(5, 6, 12, 30), ("website", "weibo"))
        # 市应急管理局: everything on time, then closed.
        incident("G", "市应急管理局", bj(8, 8, 8), level="一般", sudden=False)
        act("G", "response", bj(8, 8, 9), ("website", "weibo"))
        writer(s, now=bj(8, 9, 9)).close(ids["G"], at=bj(8, 9, 9))

    # Referrals: 30 Sept + 3 working days crosses 国庆 (1–8 Oct) and lands on Saturday 11 Oct (调休上班).
    for incident_name, unit, sent, days in (("A", "灵宝", "2025-09-30 10:00", 3), ("E", "市教育局", "2025-09-30 10:00", 3),
                                            ("B", "灵宝", "2025-11-03 10:00", 2)):
        ids[f"R{incident_name}"] = int(ok(yq(url, "referral", "add", str(ids[incident_name]), "--unit", unit,
                                             "--due-workdays", str(days), "--sent-at", sent)).out)
    ok(yq(url, "referral", "reply", str(ids["RA"]), "--at", "2025-10-11 22:00"))
    ok(yq(url, "referral", "reply", str(ids["RE"]), "--at", "2025-10-12 09:00"))
    ok(yq(url, "manual-score", "import", str(manual_csv(folder / "manual.csv")), "--year", str(YEAR)))
    ok(yq(url, "special", "add", "fgw", "--year", str(YEAR), "--item", "bonus.media", "--points", "+1",
          "--evidence", "河南日报报道", "--date", "2025-05-20"))
    ok(yq(url, "special", "add", "市生态环境局", "--year", str(YEAR), "--item", "penalty.media", "--points", "-2",
          "--evidence", "负面报道", "--date", "2025-08-02"))
    ok(yq(url, "special", "zero", "卢氏县", "--year", str(YEAR), "--evidence", "自查材料弄虚作假", "--date", "2025-12-01"))
    ok(yq(url, "daily", "add", "灵宝", "--date", "2025-03-15", "--points", "-1", "--reason", "迟报舆情",
          "--indicator", "opinion.monitoring.reports"))
    ok(yq(url, "daily", "add", "渑池县", "--date", "2025-07-15", "--points", "-1", "--reason", "未按要求报送材料"))
    # 舆情搜集研判报告 is earned (mode earn): every unit's reports were endorsed by a leader this year.
    from yuqing.db.scoring_writes import add_daily

    with database.session() as s:
        w = writer(s, now=bj(12, 31, 12))
        for unit in load_units_file(UNITS_FILE)[1]:
            if unit.active:
                add_daily(w, unit.code, on=bj(12, 20, 10), points=3, reason="工作有效（领导批示认可）",
                          indicator="opinion.monitoring.reports")
    return ids


@pytest.fixture
def year(database: Database, db_url: str, tmp_path: Path) -> tuple[str, dict[str, int]]:
    return db_url, build_year(database, db_url, tmp_path)


def scores(url: str, *extra: str) -> dict[str, dict]:
    return {u["unit"]["code"]: u for u in ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--format", "json", *extra)).json()}


def indicator(unit: dict, code: str) -> dict:
    return next(i for i in unit["indicators"] if i["code"] == code)


def deduction(unit: dict, key: str) -> dict:
    return next(d for i in unit["indicators"] for d in i["deductions"] if d["key"] == key)


def audit_count(url: str) -> int:
    database = Database(url)
    try:
        with database.session() as s:
            return int(s.scalar(select(func.count()).select_from(AuditRecord)) or 0)
    finally:
        database.dispose()


def audit_head(url: str) -> str:
    line = next(x for x in ok(yq(url, "audit", "verify")).out.splitlines() if x.startswith("链头哈希"))
    return line.split("：", 1)[1].strip()


# --- the year's results -------------------------------------------------------------------------
def test_score_json_keeps_the_contract_with_totals_grades_and_ranks(year):
    url, ids = year
    result = scores(url)
    unit = result["lingbao"]
    for key in ("unit", "incidents", "windows", "indicators", "opinion_points", "opinion_max", "total", "grade", "rank"):
        assert key in unit
    assert set(unit["unit"]) == {"code", "name", "kind"} and unit["unit"]["kind"] == "county"
    assert set(unit["windows"]) == {"response", "release", "press_conference"}
    assert set(unit["windows"]["response"]) == {"applicable", "met", "late", "overdue", "open"}
    assert set(unit["indicators"][0]) >= {"code", "name", "points", "max", "deductions"}
    d = deduction(unit, f"{ids['A']}:release:late")
    assert set(d) >= {"incident_id", "window", "rule", "points", "evidence"} and d["incident_id"] == ids["A"]
    assert d["points"] == 1.0 and d["flagged"] is True and "发布权威信息" in d["evidence"]

    # 灵宝市: A, B and the secondary C count; the voided D does not.
    assert unit["incidents"] == 3
    assert unit["windows"]["response"] == {"applicable": 3, "met": 2, "late": 1, "overdue": 0, "open": 0}
    assert unit["windows"]["release"] == {"applicable": 1, "met": 0, "late": 1, "overdue": 0, "open": 0}
    keys = {d["key"] for i in unit["indicators"] for d in i["deductions"]}
    daily = {k for k in keys if k.startswith("daily-")}
    assert len(daily) == 1 and keys - daily == {
        f"{ids['A']}:release:late", f"{ids['B']}:response:late", f"{ids['B']}:-:few_channels",
        f"{ids['A']}:secondary-{ids['C']}:secondary_incident", f"{ids['B']}:referral-{ids['RB']}:referral_overdue",
    }
    assert not any(str(ids["D"]) == k.split(":")[0] for k in keys)
    assert indicator(unit, "opinion.monitoring.reports")["points"] == 2.0  # 3 − 1 daily record
    assert (unit["opinion_points"], unit["opinion_max"], unit["total"], unit["grade"]) == (15.0, 20.0, 87.0, "良好")

    # 市教育局: never answered (1), press conference overdue on a flagged incident (2), no principal (1),
    # a referral answered the day after its due date (0.5).
    jyj = result["jyj"]
    assert deduction(jyj, f"{ids['F']}:press_conference:overdue")["points"] == 2.0
    assert deduction(jyj, f"{ids['E']}:response:overdue")["points"] == 1.0
    assert deduction(jyj, f"{ids['E']}:referral-{ids['RE']}:referral_late")["points"] == 0.5
    assert (jyj["opinion_points"], jyj["total"], jyj["grade"]) == (10.5, 87.0, "良好")

    grades = {code: (u["total"], u["grade"], u["rank"]) for code, u in result.items()}
    assert grades["fgw"] == (92.5, "优秀", 1)          # bonus.media +1
    assert grades["yjglj"] == (91.5, "优秀", 2)        # everything on time; ties share rank 2
    assert grades["sthjj"] == (89.5, "良好", 36)       # penalty.media −2, after 34 departments at 91.5
    assert grades["jyj"] == (87.0, "良好", 37)
    assert grades["kjj"] == (74.5, "合格", 38) and grades["gxj"] == (57.5, "不合格", 39)
    assert grades["hubin"] == (92.0, "优秀", 1) and grades["mianchi"] == (91.0, "优秀", 6)  # daily −1 on the total
    assert grades["lingbao"] == (87.0, "良好", 7)
    assert grades["lushi"] == (0.0, "不合格", 8)       # 直接归零, although its co-unit incident E never counted for it
    assert result["lushi"]["incidents"] == 0
    assert [u["unit"]["kind"] for u in result.values()] == sorted((u["unit"]["kind"] for u in result.values()), reverse=True)
    assert "ghj" not in result and "cgj" in result  # merged units without records are left out


def test_referrals_count_working_days_across_the_holiday(year):
    url, ids = year
    listed = {r["id"]: r for r in ok(yq(url, "referral", "list", "--json", "--now", NOW)).json()}
    assert listed[ids["RA"]]["due_at"] == "2025-10-11T23:59:59+08:00"  # 国庆 off, Saturday 11 Oct is a working day
    assert [listed[ids[k]]["state"] for k in ("RA", "RE", "RB")] == ["met", "late", "overdue"]
    assert listed[ids["RB"]]["due_at"] == "2025-11-05T23:59:59+08:00"
    assert listed[ids["RE"]]["unit"]["code"] == "jyj" and listed[ids["RE"]]["due_workdays"] == 3
    text = ok(yq(url, "referral", "list", "--now", NOW)).out
    assert "逾期回复" in text and "超期未复" in text
    assert error_code(yq(url, "referral", "reply", str(ids["RA"]), "--at", "2025-10-12 08:00")) == "E_REFERRAL_REPLIED"


def test_appeals_overturned_stop_counting_visibly_and_upheld_keep_counting(year, monkeypatch):
    url, ids = year
    ok(yq(url, "users", "add", "lb", "--role", "staff", "--unit", "灵宝", "--password-stdin", stdin="password-123\n",
          monkeypatch=monkeypatch))
    release = f"{ids['A']}:release:late"
    never = f"{ids['E']}:response:overdue"
    # Staff of 灵宝市 may appeal their own unit's deduction, not another unit's.
    mine = int(ok(yq(url, "--as", "lb", "appeal", "add", release, "--reason", "已在微博发布，系统漏登")).out)
    other = yq(url, "--as", "lb", "appeal", "add", never, "--reason", "代为申诉")
    assert other.code == 1 and error_code(other) == "E_FORBIDDEN_UNIT"
    assert error_code(yq(url, "--as", "lb", "appeal", "decide", str(mine), "--overturn", "--reason", "自己决定")) == "E_FORBIDDEN"
    assert error_code(yq(url, "appeal", "add", release, "--reason", "再申诉一次")) == "E_APPEAL_PENDING"
    theirs = int(ok(yq(url, "appeal", "add", never, "--reason", "已电话回应")).out)

    before = scores(url)
    assert deduction(before["lingbao"], release)["overturned"] is False

    ok(yq(url, "appeal", "decide", str(mine), "--overturn", "--reason", "核实已按时发布"))
    ok(yq(url, "appeal", "decide", str(theirs), "--uphold", "--reason", "无回应记录"))
    twice = yq(url, "appeal", "decide", str(theirs), "--overturn", "--reason", "改判")
    assert twice.code == 1 and error_code(twice) == "E_APPEAL_DECIDED"

    after = scores(url)
    overturned = deduction(after["lingbao"], release)
    assert overturned["overturned"] is True and overturned["points"] == 1.0  # still listed, no longer counted
    assert indicator(after["lingbao"], "opinion.hot.timeliness")["points"] == \
        indicator(before["lingbao"], "opinion.hot.timeliness")["points"] + 1
    assert after["lingbao"]["total"] == 88.0
    assert deduction(after["jyj"], never)["overturned"] is False and after["jyj"]["total"] == before["jyj"]["total"]
    assert error_code(yq(url, "appeal", "add", release, "--reason", "又一次")) == "E_APPEAL_OVERTURNED"
    daily = next(d["key"] for d in indicator(after["lingbao"], "opinion.monitoring.reports")["deductions"])
    assert daily.startswith("daily-") and ok(yq(url, "--as", "lb", "appeal", "add", daily, "--reason", "已按时报送")).out.strip()


def test_freeze_then_a_change_then_diff_shows_it(year):
    url, _ = year
    missing = yq(url, "score", "--year", str(YEAR), "--diff")
    assert missing.code == 1 and error_code(missing) == "E_SNAPSHOT_NONE"
    head = audit_head(url)
    frozen = ok(yq(url, "score", "--year", str(YEAR), "--freeze", "--now", NOW)).out
    assert "快照 #1" in frozen and f"审计链头：{head}" in frozen and "sanmenxia-2017" in frozen
    assert "没有变化" in ok(yq(url, "score", "--year", str(YEAR), "--diff", "--now", NOW)).out

    ok(yq(url, "special", "add", "湖滨区", "--year", str(YEAR), "--item", "bonus.leader", "--points", "1",
          "--evidence", "市长批示表扬", "--date", "2025-12-20"))
    diff = ok(yq(url, "score", "--year", str(YEAR), "--diff", "--now", NOW)).out
    assert "数据哈希：已变" in diff
    line = next(x for x in diff.splitlines() if x.startswith("湖滨区人民政府"))
    assert "总分 92 → 93（+1）" in line and "排名 1 → 1" in line
    assert any(x.startswith("义马市人民政府") and "排名 1 → 2" in x for x in diff.splitlines())
    changes = ok(yq(url, "score", "--year", str(YEAR), "--diff", "--now", NOW, "--format", "json")).json()
    assert changes["snapshot"]["audit_head"] == head
    assert {c["unit"]["code"] for c in changes["changes"]} == {"hubin", "shanzhou", "yima", "sfq", "kfq"}


def test_exports_xlsx_csv_and_table(year, tmp_path):
    url, ids = year
    out = tmp_path / "score.xlsx"
    ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--format", "xlsx", "--out", str(out)))
    book = load_workbook(out, read_only=True)
    assert {"汇总", "时效明细", "扣分明细", "加减分"} <= set(book.sheetnames)
    summary = list(book["汇总"].iter_rows(values_only=True))
    head = summary[0]
    assert head[:5] == ("类别", "排名", "单位名称", "总分", "等次")  # the summary leads with the ranking
    assert summary[1][head.index("单位名称")] == "三门峡市发展和改革委员会" and summary[1][head.index("排名")] == 1
    timeliness = list(book["时效明细"].iter_rows(values_only=True))
    row = next(r for r in timeliness if r[0] == ids["A"] and r[9] == "发布权威信息")
    assert row[11] == datetime(2025, 3, 10, 13, 0)  # due, naive Beijing wall time
    assert any(r[4] == f"{ids['A']}:release:late" for r in book["扣分明细"].iter_rows(values_only=True))
    assert any(r[2] == "直接归零" for r in book["加减分"].iter_rows(values_only=True))
    book.close()

    csv_path = tmp_path / "score.csv"
    ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--format", "csv", "--out", str(csv_path)))
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    printed = ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--format", "csv")).out
    assert printed.startswith("\ufeff") and len(list(csv.reader(io.StringIO(printed[1:])))) == 1 + 47

    one = ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--unit", "灵宝", "--format", "json")).json()
    assert [u["unit"]["code"] for u in one] == ["lingbao"] and one[0]["rank"] == 7
    table = ok(yq(url, "score", "--year", str(YEAR), "--now", NOW)).out
    assert "灵宝市人民政府" in table and "良好" in table and "县（市、区）" in table
    refused = yq(url, "score", "--year", str(YEAR), "--format", "xlsx")
    assert refused.code == 1 and error_code(refused) == "E_XLSX_NEEDS_OUT"


def test_bulletin_lists_the_quarter_and_carries_the_audit_head(year, tmp_path):
    url, ids = year
    head = audit_head(url)
    q1 = ok(yq(url, "bulletin", "--year", str(YEAR), "--quarter", "1", "--now", NOW)).out
    assert q1.startswith("# 政务舆情处置情况通报（2025年第1季度）") and head in q1
    assert f"#{ids['A']} 〔重点〕舆情A" in q1 and "迟报舆情" in q1
    q3 = ok(yq(url, "bulletin", "--year", str(YEAR), "--quarter", "3", "--now", NOW)).out
    assert "### 舆情函件" in q3 and "逾期回复" in q3 and "按时回复" in q3
    out = tmp_path / "q4.xlsx"
    ok(yq(url, "bulletin", "--year", str(YEAR), "--quarter", "4", "--now", NOW, "--format", "xlsx", "--out", str(out)))
    book = load_workbook(out, read_only=True)
    assert ("审计链头", head) in [tuple(r) for r in book["说明"].iter_rows(values_only=True)]
    book.close()
    bad = yq(url, "bulletin", "--year", str(YEAR), "--quarter", "5")
    assert bad.code == 1 and error_code(bad) == "E_QUARTER"


# --- refusals and permissions --------------------------------------------------------------------
REFUSALS = [
    (["manual-score", "set", "火星市", "org.principal", "2", "--year", "2025", "--note", "x"], "E_UNIT_UNKNOWN"),
    (["manual-score", "set", "灵宝", "org.nothing", "2", "--year", "2025", "--note", "x"], "E_INDICATOR_UNKNOWN"),
    (["manual-score", "set", "灵宝", "opinion.hot.timeliness", "2", "--year", "2025", "--note", "x"], "E_INDICATOR_COMPUTED"),
    (["manual-score", "set", "灵宝", "org.principal", "3.5", "--year", "2025", "--note", "x"], "E_POINTS_RANGE"),
    (["manual-score", "set", "灵宝", "org.principal", "2", "--year", "2016", "--note", "x"], "E_SCHEME_NO_YEAR"),
    (["score", "--year", "2016"], "E_SCHEME_NO_YEAR"),
    (["special", "add", "灵宝", "--year", "2025", "--item", "bonus.media", "--points", "-1", "--evidence", "x"], "E_SPECIAL_SIGN"),
    (["special", "add", "灵宝", "--year", "2025", "--item", "penalty.media", "--points", "2", "--evidence", "x"], "E_SPECIAL_SIGN"),
    (["special", "add", "灵宝", "--year", "2025", "--item", "bonus.moon", "--points", "1", "--evidence", "x"], "E_SPECIAL_UNKNOWN"),
    (["special", "add", "灵宝", "--year", "2025", "--item", "bonus.media", "--points", "1", "--evidence", "x",
      "--date", "2024-12-31"], "E_DATE_NOT_IN_YEAR"),
    (["special", "zero", "灵宝", "--year", "2025", "--evidence", " "], "E_TEXT_REQUIRED"),
    (["daily", "add", "灵宝", "--date", "2025-03-01", "--points", "0", "--reason", "x"], "E_POINTS_VALUE"),
    (["daily", "add", "灵宝", "--date", "2025-03-01", "--points", "1", "--reason", "x", "--indicator", "nope"], "E_INDICATOR_UNKNOWN"),
    (["appeal", "add", "999999:release:late", "--reason", "x"], "E_DEDUCTION_UNKNOWN"),
    (["appeal", "add", "胡写", "--reason", "x"], "E_DEDUCTION_UNKNOWN"),
    (["appeal", "decide", "999", "--overturn", "--reason", "x"], "E_APPEAL_MISSING"),
    (["referral", "add", "999999", "--unit", "灵宝", "--due-workdays", "3"], "E_INCIDENT_MISSING"),
    (["referral", "reply", "999", "--at", "2025-10-01 10:00"], "E_REFERRAL_MISSING"),
    (["rectify", "add", "灵宝", "--year", "2016", "--problem", "x", "--due", "2016-05-01"], "E_SCHEME_NO_YEAR"),
    (["rectify", "done", "999", "--at", "2025-05-01", "--note", "x"], "E_RECTIFY_MISSING"),
    (["score", "--year", "2025", "--format", "xlsx"], "E_XLSX_NEEDS_OUT"),
    (["bulletin", "--year", "2025", "--quarter", "5"], "E_QUARTER"),
    (["bulletin", "--year", "2025", "--quarter", "1", "--format", "xlsx"], "E_XLSX_NEEDS_OUT"),
    (["score", "--year", "2025", "--format", "csv", "--out", "/nonexistent-dir/score.csv"], "E_FILE_WRITE"),
]


def test_bad_input_is_refused_with_a_code_and_writes_nothing(year):
    url, ids = year
    cases = REFUSALS + [
        (["referral", "add", str(ids["D"]), "--unit", "灵宝", "--due-workdays", "3"], "E_INCIDENT_VOIDED"),
        (["referral", "add", str(ids["B"]), "--unit", "灵宝", "--due-workdays", "0", "--sent-at", "2025-07-01 09:00"],
         "E_WORKDAYS_COUNT"),
        (["referral", "add", str(ids["B"]), "--unit", "灵宝", "--due-workdays", "3", "--sent-at", "2025-06-01 09:00"],
         "E_REFERRAL_BEFORE_START"),
        (["referral", "reply", str(ids["RB"]), "--at", "2025-11-01 09:00"], "E_REPLY_BEFORE_SENT"),
    ]
    before = audit_count(url)
    for argv, code in cases:
        result = yq(url, *argv)
        assert (result.code, error_code(result)) == (1, code), argv
        assert result.out == "", argv
    assert audit_count(url) == before


def test_referral_due_in_a_year_no_calendar_knows_is_refused(database, db_url):
    # chinesecalendar starts in 2004 and the holiday file lists no 2003: refused, never guessed.
    with database.session() as s:
        old = writer(s, now=datetime(2003, 5, 6, 2, tzinfo=UTC)).add_incident(
            NewIncident(title="旧舆情", unit="灵宝市", first_post_at=datetime(2003, 5, 6, 1, tzinfo=UTC), classify=False))
    result = yq(db_url, "referral", "add", str(old.id), "--unit", "灵宝", "--due-workdays", "3", "--sent-at", "2003-05-07 10:00")
    assert result.code == 1 and error_code(result) == "E_WORKDAY_UNKNOWN"


def test_every_scoring_command_has_help():
    import argparse


    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                for name, child in action.choices.items():
                    yield path + (name,), helps.get(name)
                    yield from walk(child, path + (name,))

    ours = {"referral", "manual-score", "special", "daily", "appeal", "rectify", "bulletin", "score"}
    found = [(path, text) for path, text in walk(cli.build_parser(), ()) if path[0] in ours]
    assert len(found) == 22 and all(text for _, text in found), [p for p, t in found if not t]


def test_wrong_usage_exits_2(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'unused.sqlite3'}"  # parsing fails before any database is opened
    for argv in (["score"], ["score", "--year", "2025", "--freeze", "--diff"], ["appeal", "decide", "1", "--reason", "x"],
                 ["special", "add", "灵宝", "--year", "2025", "--item", "bonus.media", "--points", "many", "--evidence", "x"]):
        assert yq(db_url, *argv).code == 2, argv


def test_staff_may_not_score_or_freeze(year, monkeypatch):
    url, _ = year
    ok(yq(url, "users", "add", "lb", "--role", "staff", "--unit", "灵宝", "--password-stdin", stdin="password-123\n",
          monkeypatch=monkeypatch))
    before = audit_count(url)
    for argv in (["manual-score", "set", "灵宝", "org.principal", "3", "--year", "2025", "--note", "自评"],
                 ["special", "add", "灵宝", "--year", "2025", "--item", "bonus.media", "--points", "1", "--evidence", "x"],
                 ["special", "zero", "市教育局", "--year", "2025", "--evidence", "x"],
                 ["daily", "add", "灵宝", "--date", "2025-03-01", "--points", "1", "--reason", "x"],
                 ["referral", "add", "1", "--unit", "灵宝", "--due-workdays", "3"],
                 ["score", "--year", "2025", "--freeze"]):
        result = yq(url, "--as", "lb", *argv)
        assert (result.code, error_code(result)) == (1, "E_FORBIDDEN"), argv
    assert audit_count(url) == before
    assert ok(yq(url, "--as", "lb", "score", "--year", "2025", "--now", NOW, "--unit", "灵宝", "--format", "json")).json()


# --- manual scores, rectifications ---------------------------------------------------------------
def test_manual_score_import_is_all_or_nothing(database, db_url, tmp_path):
    rows = [["灵宝", "org.principal", "3", "好"], ["灵宝", "org.nothing", "1", ""], ["市教育局", "org.principal", "2.5", ""],
            ["灵宝", "org.deputy", "9", "超出"], ["火星市", "org.deputy", "1", ""], ["灵宝", "org.principal", "2", "重复"]]
    result = yq(db_url, "manual-score", "import", str(manual_csv(tmp_path / "bad.csv", rows)), "--year", str(YEAR))
    assert result.code == 1 and error_code(result) == "E_MANUAL_IMPORT_ROWS"
    for number in (3, 5, 6, 7):
        assert f"第 {number} 行：" in result.err
    assert "第 2 行：" not in result.err and "第 4 行：" not in result.err
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(ManualScore)) == 0

    good = yq(db_url, "manual-score", "import", str(manual_csv(tmp_path / "good.csv", [rows[0], rows[2]])), "--year", str(YEAR))
    assert good.code == 0 and "2 条" in good.out
    ok(yq(db_url, "manual-score", "set", "灵宝", "org.principal", "2.5", "--year", str(YEAR), "--note", "复核"))
    lingbao = scores(db_url, "--unit", "灵宝")["lingbao"]
    assert indicator(lingbao, "org.principal")["points"] == 2.5 and lingbao["total"] is None  # others not entered yet
    log = ok(yq(db_url, "audit", "log", "--entity", "manual_score", "--json")).json()
    assert [r["action"] for r in log] == ["import", "set"] and log[1]["before"]["points"] == 3.0


def test_rectification_add_done_list(database, db_url):
    rid = int(ok(yq(db_url, "rectify", "add", "灵宝", "--year", str(YEAR), "--problem", "政府网站栏目更新不及时",
                    "--due", "2025-06-30 18:00")).out)
    assert ok(yq(db_url, "rectify", "list", "--json", "--now", "2025-07-01 09:00")).json()[0]["state"] == "overdue"
    ok(yq(db_url, "rectify", "done", str(rid), "--at", "2025-07-02 10:00", "--note", "已补发栏目内容"))
    listed = ok(yq(db_url, "rectify", "list", "--json", "--year", str(YEAR))).json()
    assert listed[0]["state"] == "late" and listed[0]["done_at"] == "2025-07-02T10:00:00+08:00"
    again = yq(db_url, "rectify", "done", str(rid), "--at", "2025-07-03 10:00", "--note", "x")
    assert error_code(again) == "E_RECTIFY_DONE"
