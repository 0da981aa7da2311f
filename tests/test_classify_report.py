"""`yuqing classify report`: the classifier's stored suggestions against what people decided, per
field, with hand-computed figures (both databases)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from classify.agreement import FieldAgreement, agreement
from classify.ruleset import rules_version
from tests.cliutil import error_code, yq
from yuqing.db.agreement import classify_report
from yuqing.db.service import Actor, NewIncident, Suggestion, Writer
from yuqing.db.session import Database

OFFICE = Actor("office", "admin")
CURRENT = rules_version()


def figures(result: Any) -> dict[str, tuple[float | None, float | None, int]]:
    return {name: (f["precision"], f["recall"], f["n"]) for name, f in result["fields"].items()}


# --- the arithmetic ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pairs", "precision", "recall", "n"),
    [
        ([], None, None, 0),
        ([("a", "a")], 1.0, 1.0, 1),
        ([("a", "b")], 0.0, 0.0, 1),
        ([(None, "a")], None, 0.0, 1),  # nothing suggested: precision undefined, a miss for recall
        ([("a", None)], 0.0, None, 1),  # a suggestion where people decided there is none
        ([(None, None)], None, None, 1),
        ([("a", "a"), ("a", "b"), (None, "c"), ("d", None)], 1 / 3, 1 / 3, 4),
        ([("a", "a"), ("b", "b"), (None, "c")], 1.0, 2 / 3, 3),
    ],
)
def test_precision_is_over_suggestions_made_and_recall_over_decisions_with_a_truth(pairs, precision, recall, n):
    result = agreement(("category", s, d) for s, d in pairs)["category"]
    assert (result.precision, result.recall, result.n) == (precision, recall, n)


def test_a_field_without_decisions_is_reported_with_n_0():
    result = agreement([("sudden", "sudden", "sudden")])
    assert result["unit"] == FieldAgreement() and result["unit"].precision is None
    assert list(result) == ["sudden", "category", "level", "unit"]


# --- through the command line, with the real classifier --------------------------------------------
@pytest.fixture
def demo(db_url: str) -> str:
    assert yq(db_url, "init", "--demo").code == 0
    return db_url


def ok(db_url: str, *args: str) -> str:
    result = yq(db_url, *args)
    assert result.code == 0, result.err
    return result.out.strip()


def item_ids(db_url: str) -> dict[str, int]:
    return {i["title"]: i["id"] for i in yq(db_url, "triage", "list", "--state", "all", "--json").json()}


def classified(db_url: str, text: str) -> tuple[Any, ...]:
    o = yq(db_url, "classify", text).json()
    return o["sudden"], o["category"], o["level"], (o["unit"] or {}).get("code")


def test_report_compares_stored_suggestions_with_decisions(demo: str):
    # What the classifier says of each text (the premises of the figures below).
    assert classified(demo, "卢氏县山区突降暴雨，一村庄道路被冲毁") == (True, "自然灾害", None, "lushi")
    assert classified(demo, "卢氏县一在建工地发生坍塌，已致4人死亡") == (True, "事故灾难", "较大", "lushi")
    traffic = "渑池县发生交通事故，一辆货车与客车相撞，造成3人死亡"
    assert classified(demo, traffic) == (True, "事故灾难", "较大", "mianchi")
    assert classified(demo, "市教育局召开安全生产工作会议") == (False, None, None, "jyj")
    items = item_ids(demo)
    # Items (sudden only). Accepted: suggested sudden, the incident stays sudden → correct.
    rain = ok(demo, "triage", "accept", str(items["卢氏县山区突降暴雨，一村庄道路被冲毁"]))
    # Merged into that sudden incident, suggested not sudden → a miss.
    ok(demo, "triage", "merge", str(items["陕州区多名农民工反映工资被拖欠半年"]), rain)
    # Dismissed, not suggested sudden → agreement with no value; the two 燃气爆燃 items (one group),
    # suggested sudden → two wrong suggestions.
    ok(demo, "triage", "dismiss", str(items["三门峡市召开全市安全生产工作会议"]), "--reason", "会议新闻")
    ok(demo, "triage", "dismiss", str(items["灵宝市举行地震应急演练"]), "--reason", "演练")
    ok(demo, "triage", "dismiss", str(items["网友：渑池一小区突发爆燃，现场浓烟滚滚"]), "--reason", "已另行登记")
    # Incidents logged by hand: the person's values, reclassifications and transfers are the decisions.
    ok(demo, "incident", "add", "--title", "卢氏县一在建工地发生坍塌，已致4人死亡", "--unit", "卢氏", "--level", "重大")
    school = ok(demo, "incident", "add", "--title", "市教育局召开安全生产工作会议", "--unit", "市教育局")
    ok(demo, "incident", "reclassify", school, "--sudden", "--category", "事故灾难", "--level", "一般", "--reason", "会上通报一起事故")
    road = ok(demo, "incident", "add", "--title", traffic, "--unit", "渑池")
    ok(demo, "incident", "reclassify", road, "--not-sudden", "--reason", "系普通交通事故")
    ok(demo, "incident", "transfer", road, "--unit", "市公安局", "--reason", "交警处理")
    # Left out: a voided incident, and one logged without the classifier (like every demo incident).
    void = ok(demo, "incident", "add", "--title", traffic, "--unit", "渑池")
    ok(demo, "incident", "void", void, "--reason", "重复")
    ok(demo, "incident", "add", "--title", traffic, "--unit", "渑池", "--no-classify")

    result = yq(demo, "classify", "report", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert set(report) == {"rules_version", "fields"} and report["rules_version"] == CURRENT
    # sudden (9): rain ✓, merged miss, 2 dismissed agreeing, 2 dismissed wrong, 坍塌 ✓, school miss, road wrong
    #   suggestions made 5 (rain, 2 爆燃, 坍塌, road), truths 4 (rain, merged, 坍塌, school), correct 2
    # category (4 incidents: rain, 坍塌, school, road): made 3, truths 4, correct 3
    # level: rain (—, —), 坍塌 (较大, 重大), school (—, 一般), road (较大, 较大): made 2, truths 3, correct 1
    # unit: rain ✓, 坍塌 ✓, school ✓, road mianchi → 市公安局: made 4, truths 4, correct 3
    assert figures(report) == {
        "sudden": (0.4, 0.5, 9),
        "category": (1.0, 0.75, 4),
        "level": (0.5, 0.3333, 4),
        "unit": (0.75, 0.75, 4),
    }
    logged = yq(demo, "incident", "show", school, "--json").json()["logged_at"][:4]
    assert yq(demo, "classify", "report", "--json", "--year", logged).json() == report

    table = ok(demo, "classify", "report").splitlines()
    assert CURRENT in table[0] and "全部年份" in table[0]
    assert table[1].split() == ["项目", "精确率", "召回率", "决定数", "n"]
    assert table[2].split() == ["突发属性", "40.0%", "50.0%", "9"]
    assert table[4].split() == ["事件级别", "50.0%", "33.3%", "4"]


def test_a_year_without_records_reports_n_0_and_dashes(demo: str):
    ok(demo, "triage", "dismiss", str(item_ids(demo)["灵宝市举行地震应急演练"]), "--reason", "演练")
    report = yq(demo, "classify", "report", "--year", "2001", "--json").json()
    assert figures(report) == dict.fromkeys(("sudden", "category", "level", "unit"), (None, None, 0))
    table = ok(demo, "classify", "report", "--year", "2001").splitlines()
    assert "2001 年" in table[0]
    assert table[2].split() == ["突发属性", "—", "—", "0"]


@pytest.mark.parametrize("year", ["20x6", "1999", "2100", "２０２６", ""])
def test_a_bad_year_is_refused_in_chinese(db_url: str, year: str):
    assert yq(db_url, "init").code == 0
    result = yq(db_url, "classify", "report", "--year", year)
    assert result.code == 1 and error_code(result) == "E_REPORT_YEAR"
    assert "年份" in result.err and result.out == ""


def test_report_options_belong_to_report(db_url: str):
    assert yq(db_url, "classify", "某地发生爆炸", "--json").code == 2
    assert yq(db_url, "classify", "report", "多余的文本").code == 2


# --- through the write service: the year is the Beijing year of the logged time ---------------------
def suggestions(table: dict[str, tuple[bool, str | None, str | None, str | None, str]]) -> Any:
    def suggest(title: str, _summary: str | None) -> Suggestion:
        sudden, category, level, unit, version = table[title]
        return Suggestion(level=level, sudden=sudden, category=category, rules_version=version,
                          details={"unit": {"code": unit, "name": unit} if unit else None})

    return suggest


def at_beijing(text: str) -> datetime:
    from timeline.clock import BEIJING

    return datetime.fromisoformat(text).replace(tzinfo=BEIJING).astimezone(UTC)


def test_the_year_follows_beijing_time_and_other_rule_versions_are_counted(database: Database):
    from ingest.parse import parse_feed
    from tests.feedserver import rss
    from yuqing.db.feeds import add_feed
    from yuqing.db.items import store_items
    from yuqing.db.triage import dismiss

    suggest = suggestions({
        "甲地发生事故": (True, "事故灾难", "较大", "lingbao", "old-1"),
        "乙地发生事故": (True, "事故灾难", "一般", "lingbao", CURRENT),
    })
    last_of_2025 = at_beijing("2025-12-31T23:30:00")  # 15:30 UTC, still 2025 in Beijing
    first_of_2026 = at_beijing("2026-01-01T00:10:00")  # 2025-12-31 16:10 UTC, already 2026 in Beijing
    assert last_of_2025.year == first_of_2026.year == 2025
    with database.session() as s:
        Writer(s, OFFICE, now=last_of_2025, preset="sanmenxia-2017", classify=suggest).add_incident(
            NewIncident(title="甲地发生事故", unit="灵宝市"))
    with database.session() as s:
        Writer(s, OFFICE, now=first_of_2026, preset="sanmenxia-2017", classify=suggest).add_incident(
            NewIncident(title="乙地发生事故", unit="陕州区", level="较大"))
    with database.session() as s:
        w = Writer(s, OFFICE, now=first_of_2026, preset="sanmenxia-2017")
        feed = add_feed(w, "https://feed.example.cn/rss")
        item = {"sudden": True, "flagged": True, "category": "事故灾难", "level": None, "topics": [],
                "unit": {"code": "lingbao", "name": "灵宝市"}, "keywords": [], "figures": {}, "rules_version": CURRENT}
        parsed = parse_feed(rss([("a", "丙地网传爆炸", "https://n.example.cn/1", "网传丙地爆炸。")]), fetched_at=first_of_2026)
        store_items(s, feed, parsed.items, now=first_of_2026, classify=lambda _t, _x: dict(item))
    with database.session() as s:
        from sqlalchemy import select

        from yuqing.db.models import Item

        dismiss(Writer(s, OFFICE, now=first_of_2026, preset="sanmenxia-2017"), s.scalars(select(Item.id)).one(),
                reason="谣言，已核实无此事")

    def report(year: int | None) -> Any:
        return database.read(classify_report, rules_version=CURRENT, year=year)

    y2025, y2026, every = report(2025), report(2026), report(None)
    assert figures(y2025.as_json()) == {"sudden": (1.0, 1.0, 1), "category": (1.0, 1.0, 1),
                                        "level": (1.0, 1.0, 1), "unit": (1.0, 1.0, 1)}
    assert y2025.other_versions == 1
    # 2026: 乙 sudden ✓ and the dismissed item suggested sudden ✗; 乙's level 一般 → 较大, unit 灵宝 → 陕州
    assert figures(y2026.as_json()) == {"sudden": (0.5, 1.0, 2), "category": (1.0, 1.0, 1),
                                        "level": (0.0, 0.0, 1), "unit": (0.0, 0.0, 1)}
    assert y2026.other_versions == 0
    assert figures(every.as_json())["sudden"] == (0.6667, 1.0, 3) and every.other_versions == 1


def test_an_incident_whose_every_field_a_person_gave_keeps_the_suggestion_for_the_report(db_url: str):
    assert yq(db_url, "init").code == 0
    incident = ok(db_url, "incident", "add", "--title", "卢氏县一在建工地发生坍塌，已致4人死亡", "--unit", "卢氏",
                  "--level", "一般", "--not-sudden", "--category", "事故灾难")
    shown = yq(db_url, "incident", "show", incident, "--json").json()
    assert shown["suggested_fields"] == [] and shown["rules_version"] == CURRENT
    # suggested (sudden, 事故灾难, 较大, 卢氏) against the person's (not sudden, 事故灾难, 一般, 卢氏)
    assert figures(yq(db_url, "classify", "report", "--json").json()) == {
        "sudden": (0.0, None, 1), "category": (1.0, 1.0, 1), "level": (0.0, 0.0, 1), "unit": (1.0, 1.0, 1),
    }
