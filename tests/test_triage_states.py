"""Every stored item is visible with its state and reason; rows a person chose always reach the queue;
assigned units are kept; possible duplicates of an incident are named (both databases)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from classify.units import UnitResolver, load_units_file
from ingest.parse import parse_feed
from tests.cliutil import ago, error_code, yq
from tests.conftest import T0
from tests.feedserver import rss
from yuqing.db.items import store_items
from yuqing.db.service import Actor, Writer
from yuqing.db.session import Database
from yuqing.errors import YuqingError
from yuqing.settings import UNITS_FILE
from yuqing.worker import Poller

STAFF = Actor("lb-staff", "staff", "lingbao")


def poll_items(database: Database, items: list[tuple[str, str, str, str]]) -> None:
    """Store feed items as the poller does (not chosen by a person)."""
    from yuqing.db.feeds import add_feed

    fetched = datetime.fromisoformat("2026-11-24T02:00:00+00:00")
    parsed = parse_feed(rss(items), fetched_at=fetched)
    poller = Poller(database, preset="sanmenxia-2017")
    with database.session() as s:
        feed = add_feed(Writer(s, Actor("office"), now=fetched, preset="sanmenxia-2017"), "https://feed.example.cn/rss")
        store_items(s, feed, parsed.items, now=fetched, classify=poller.classify(s))


def listing(database: Database, state: str, *now: str) -> dict[str, dict]:
    result = yq(database.url, "triage", "list", "--state", state, "--json", *(("--now", now[0]) if now else ()))
    assert result.code == 0, result.err
    return {i["title"]: i for i in result.json()}


def test_ignored_items_are_listed_with_their_reason_and_can_be_accepted(database: Database):
    poll_items(database, [
        ("a", "三门峡一景区游客坠崖身亡", "https://n.example.cn/1", "一名游客在景区坠崖身亡。"),
        ("b", "某公司发布新款手机", "https://n.example.cn/2", "新款手机搭载更大屏幕。"),
    ])
    ignored = listing(database, "ignored")
    assert ignored["某公司发布新款手机"]["state"] == "ignored"
    assert ignored["某公司发布新款手机"]["reason"] == "no_topic"
    assert "某公司发布新款手机" not in listing(database, "pending")
    # a flagged item naming no place waits in the office's queue; the unit is chosen at accept
    pending = listing(database, "pending")
    fall = pending["三门峡一景区游客坠崖身亡"]
    assert fall["state"] == "pending" and fall["reason"] == "flagged_no_unit" and fall["unit"] is None
    refused = yq(database.url, "triage", "accept", str(fall["id"]))
    assert refused.code == 1 and error_code(refused) == "E_TRIAGE_NO_UNIT"
    assert yq(database.url, "triage", "accept", str(fall["id"]), "--unit", "市文化广电和旅游局").code == 0
    phone = ignored["某公司发布新款手机"]["id"]
    accepted = yq(database.url, "triage", "accept", str(phone), "--unit", "灵宝市")
    assert accepted.code == 0, accepted.err
    decided = listing(database, "decided")
    assert decided["某公司发布新款手机"]["state"] == "accepted" and decided["某公司发布新款手机"]["incident"] == int(accepted.out)
    assert set(listing(database, "all")) == {"三门峡一景区游客坠崖身亡", "某公司发布新款手机"}
    again = yq(database.url, "triage", "accept", str(phone), "--unit", "灵宝市")
    assert again.code == 1 and error_code(again) == "E_ITEM_DECIDED"


def test_staff_cannot_accept_an_item_that_names_no_unit(database: Database):
    from yuqing.db.triage import accept

    poll_items(database, [("a", "三门峡一景区游客坠崖身亡", "https://n.example.cn/1", "一名游客在景区坠崖身亡。")])
    item = listing(database, "pending")["三门峡一景区游客坠崖身亡"]["id"]
    with pytest.raises(YuqingError) as info, database.session() as s:
        accept(Writer(s, STAFF, now=T0, preset="sanmenxia-2017"), item, unit="灵宝市")
    assert info.value.code == "E_FORBIDDEN_UNIT"


def test_an_ignored_item_can_be_merged_into_an_incident(database: Database):
    poll_items(database, [("b", "某公司发布新款手机", "https://n.example.cn/2", "新款手机搭载更大屏幕。")])
    incident = yq(database.url, "incident", "add", "--title", "手机", "--unit", "灵宝市", "--no-classify",
                  "--first-post", "2026-11-24 08:00")
    assert incident.code == 0, incident.err
    item = listing(database, "ignored")["某公司发布新款手机"]["id"]
    assert yq(database.url, "triage", "merge", str(item), incident.out.strip()).code == 0
    assert listing(database, "decided")["某公司发布新款手机"]["state"] == "merged"


def test_imported_rows_without_topic_or_place_are_all_pending(database: Database, tmp_path: Path):
    path = tmp_path / "vendor.csv"
    path.write_text(
        "标题,内容,发布时间\n"
        "三门峡一景区游客坠崖身亡,一名游客坠崖身亡,2026-11-24 08:00\n"
        "某公司发布新款手机,新款手机搭载更大屏幕,2026-11-24 08:10\n"
        "义马市某中学教师体罚学生致耳膜穿孔,家长发帖,2026-11-24 08:20\n",
        encoding="utf-8")
    assert yq(database.url, "import", str(path)).code == 0
    pending = listing(database, "pending")
    assert len(pending) == 3
    assert {i["state"] for i in pending.values()} == {"pending"}
    assert {i["reason"] for i in pending.values()} == {"chosen_row"}
    assert listing(database, "ignored") == {}


def test_hotline_12345_keeps_the_assigned_unit(database: Database, tmp_path: Path):
    path = tmp_path / "12345.csv"
    path.write_text(
        "工单编号,来电时间,诉求标题,诉求内容,承办单位\n"
        "A001,2026-11-24 07:05,灵宝市某小区楼道墙体开裂,楼道墙体开裂物业不管,市住建局\n"
        "A002,2026-11-24 07:15,陕州区某村停水三天,停水三天无人管,不存在的单位\n"
        "A003,2026-11-24 07:25,卢氏县某路段路灯不亮,路灯不亮,\n",
        encoding="utf-8")
    assert yq(database.url, "import", str(path), "--mapping", "hotline-12345").code == 0
    pending = listing(database, "pending")
    assert pending["灵宝市某小区楼道墙体开裂"]["unit"] == "zjj"  # the column wins over the place named
    assert pending["灵宝市某小区楼道墙体开裂"]["reason"] == "chosen_row"
    assert pending["陕州区某村停水三天"]["reason"] == "chosen_row_unit_unknown"
    assert pending["陕州区某村停水三天"]["unit"] == "shanzhou"
    assert pending["卢氏县某路段路灯不亮"]["unit"] == "lushi" and pending["卢氏县某路段路灯不亮"]["reason"] == "chosen_row"


def test_a_feed_item_names_the_hand_logged_incident_it_resembles(database: Database):
    logged = yq(database.url, "incident", "add", "--title", "渑池县某小区燃气爆炸", "--unit", "渑池县",
                "--first-post", "2026-11-24 09:00")
    assert logged.code == 0, logged.err
    poll_items(database, [
        ("g", "渑池县某小区发生燃气爆炸，已致2人死亡", "https://n.example.cn/g", "渑池县城区一小区发生燃气爆炸，已致2人死亡。"),
        ("f", "灵宝市突降暴雨引发山洪，3人失联", "https://n.example.cn/f", "灵宝市多个乡镇突降暴雨引发山洪。"),
    ])
    pending = listing(database, "pending")
    similar = pending["渑池县某小区发生燃气爆炸，已致2人死亡"]["similar_incidents"]
    assert [s["id"] for s in similar] == [int(logged.out)]
    assert 0.0 < similar[0]["score"] <= 1.0 and similar[0]["title"] == "渑池县某小区燃气爆炸"
    assert pending["灵宝市突降暴雨引发山洪，3人失联"]["similar_incidents"] == []
    text = yq(database.url, "triage", "list")
    assert f"可能是舆情 #{logged.out.strip()}" in text.out


def test_an_incident_closed_more_than_7_days_ago_is_not_offered(database: Database):
    logged = yq(database.url, "incident", "add", "--title", "渑池县某小区燃气爆炸",
                "--unit", "渑池县", "--first-post", "2026-11-24 09:00")
    assert logged.code == 0, logged.err
    assert yq(database.url, "incident", "close", logged.out.strip()).code == 0
    poll_items(database, [
        ("g", "渑池县某小区发生燃气爆炸，已致2人死亡", "https://n.example.cn/g", "渑池县城区一小区发生燃气爆炸，已致2人死亡。"),
    ])
    title = "渑池县某小区发生燃气爆炸，已致2人死亡"
    assert [s["id"] for s in listing(database, "pending", ago(hours=-6 * 24))[title]["similar_incidents"]] == [int(logged.out)]
    assert listing(database, "pending", ago(hours=-8 * 24))[title]["similar_incidents"] == []


ANNEX_1 = ("市发展改革委、教育局、科技局、工业和信息化委、民族宗教委、公安局、民政局、司法局、财政局、人力资源社会保障局、"
           "国土资源局、环保局、住房城乡建设局、城乡规划局、城管执法局、交通运输局、水利局、农业畜牧局、林业园林局、商务局、"
           "文化广电新闻出版局、卫生计生委、审计局、地税局、工商局、质监局、体育局、统计局、旅游发展委、粮食局、安全监管局、"
           "食品药品监督管理局、事管局、行政服务中心、人防办、供销社、扶贫办、黄河河务局、住房公积金管理中心、残联、"
           "市政府外侨办、市政府法制办、市政府金融办、市政府驻北京联络处、市政府驻郑州办事处").split("、")


def test_annex_1_has_45_units():
    assert len(ANNEX_1) == 45


@pytest.mark.parametrize("name", ANNEX_1)
@pytest.mark.parametrize("form", ["{}", "市{}", "三门峡市{}"])
def test_every_annex_1_name_resolves(name: str, form: str):
    text = form.format(name.removeprefix("市")) if form != "{}" else name
    unit = UnitResolver(load_units_file(UNITS_FILE)[1], place="三门峡市").resolve(text)
    assert unit.active, f"{text} resolved to a merged unit"


@pytest.mark.parametrize("predecessor", [p for u in load_units_file(UNITS_FILE)[1] for p in u.predecessors])
def test_every_predecessor_name_resolves(predecessor: str):
    assert UnitResolver(load_units_file(UNITS_FILE)[1], place="三门峡市").resolve(predecessor).active


@pytest.mark.parametrize("text, code", [
    ("人力资源社会保障局", "rsj"), ("食品药品监督管理局", "scjgj"), ("市食品药品监督管理局", "scjgj"),
    ("质监局", "scjgj"), ("市住建局", "zjj"), ("粮食局", "fgw"),
])
def test_annex_names_reach_the_successor(text: str, code: str):
    assert UnitResolver(load_units_file(UNITS_FILE)[1], place="三门峡市").resolve(text).code == code


def test_unit_option_takes_annex_names(database: Database):
    result = yq(database.url, "incident", "add", "--title", "某事", "--unit", "人力资源社会保障局", "--no-classify",
                "--first-post", "2026-11-24 08:00")
    assert result.code == 0, result.err


def test_pushed_items_are_rows_a_person_chose(database: Database):
    from yuqing.db.pushes import push_items

    with database.session() as s:
        report = push_items(Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017"),
                            [{"title": "某公司发布新款手机", "published_at": "2026-06-10 08:00"}],
                            poller=Poller(database, preset="sanmenxia-2017"))
    assert [state for _, state in report.items] == ["pending"]
    assert listing(database, "pending")["某公司发布新款手机"]["reason"] == "chosen_row"
