"""Feeds into items: dedup, failures on the feed row, triage, imports, workers, interrupted runs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests.cliutil import error_code, yq
from tests.conftest import SHARED_DATA
from tests.feedserver import FeedServer, rss
from yuqing.db.models import Feed, Item, ItemSighting
from yuqing.db.session import Database

ROOT = Path(__file__).resolve().parents[1]
FEEDS = SHARED_DATA / "feeds"

GAS = ("gas-1", "渑池县某小区发生燃气爆炸，已致2人死亡", "https://news.example.cn/a/1?utm_source=wx", "渑池县城区一小区发生燃气爆炸，已致2人死亡5人受伤，消防正在救援。")
GAS_REPOST = ("other-guid", "渑池县小区燃气爆炸致2死", "https://news.example.cn/a/1", "渑池县城区一小区发生燃气爆炸，已致2人死亡5人受伤，消防正在救援。")
FLOOD = ("flood-1", "灵宝市突降暴雨引发山洪，3人失联", "https://news.example.cn/a/2", "灵宝市多个乡镇突降暴雨引发山洪，目前3人失联，当地正在搜救。")
TECH = ("tech-1", "某公司发布新款手机", "https://news.example.cn/a/3", "新款手机搭载更大屏幕和更长续航。")


@pytest.fixture
def server():
    with FeedServer() as s:
        yield s


@pytest.fixture
def url(db_url: str) -> str:
    assert yq(db_url, "init").code == 0
    return db_url


def count(url: str, model) -> int:
    database = Database(url)
    try:
        with database.session() as s:
            return int(s.scalar(select(func.count()).select_from(model)))
    finally:
        database.dispose()


def snapshot(url: str) -> tuple:
    database = Database(url)
    try:
        with database.session() as s:
            items = sorted((i.content_hash, i.title, i.triage_status, i.group_key is not None) for i in s.scalars(select(Item)))
            sightings = sorted((u, g) for u, g in s.execute(select(Feed.url, ItemSighting.guid).join(ItemSighting, ItemSighting.feed_id == Feed.id)))
            feeds = sorted((f.url, f.error_count, f.last_error_code) for f in s.scalars(select(Feed)))
        return items, sightings, feeds
    finally:
        database.dispose()


def test_same_link_from_two_feeds_is_one_item_seen_by_both(url: str, server: FeedServer):
    a = server.serve("/a.xml", rss([GAS, TECH]))
    b = server.serve("/b.xml", rss([GAS_REPOST]))
    yq(url, "feeds", "add", a)
    yq(url, "feeds", "add", b)
    result = yq(url, "ingest", "once", "--json").json()
    assert (result["feeds"], result["items_new"], result["items_duplicate"]) == (2, 2, 1)
    assert count(url, Item) == 2 and count(url, ItemSighting) == 3


def test_edited_title_is_not_a_new_item(url: str, server: FeedServer):
    a = server.serve("/a.xml", rss([GAS]))
    yq(url, "feeds", "add", a)
    yq(url, "ingest", "once")
    edited = ("gas-1-v2", "【更新】" + GAS[1], "https://news.example.cn/a/1-edited", GAS[3])
    server.serve("/a.xml", rss([edited]))
    database = Database(url)
    with database.session() as s:
        s.execute(text("UPDATE feeds SET next_poll_at = NULL"))
    database.dispose()
    result = yq(url, "ingest", "once", "--json").json()
    assert result["items_new"] == 0 and result["items_duplicate"] == 1


def test_unchanged_feed_is_not_modified_and_adds_nothing(url: str, server: FeedServer):
    a = server.serve("/a.xml", rss([GAS, FLOOD]))
    yq(url, "feeds", "add", a)
    assert yq(url, "ingest", "once", "--json").json()["items_new"] == 2
    database = Database(url)
    with database.session() as s:
        s.execute(text("UPDATE feeds SET next_poll_at = NULL"))
    database.dispose()
    second = yq(url, "ingest", "once", "--json").json()
    assert second == {"feeds": 1, "feeds_unchanged": 1, "items_new": 0, "items_duplicate": 0, "errors": []}


def test_failure_is_stored_on_the_feed_and_reset_on_success(url: str, server: FeedServer):
    a = server.serve("/a.xml", b"oops", status=500)
    yq(url, "feeds", "add", a)
    result = yq(url, "ingest", "once", "--json").json()
    assert len(result["errors"]) == 1 and "500" in result["errors"][0]["error"]
    feed = yq(url, "feeds", "list", "--json").json()[0]
    assert feed["error_count"] == 1 and "500" in feed["last_error"] and feed["failing_since"]
    server.serve("/a.xml", rss([GAS]))
    database = Database(url)
    with database.session() as s:
        s.execute(text("UPDATE feeds SET next_poll_at = NULL"))
    database.dispose()
    yq(url, "ingest", "once")
    feed = yq(url, "feeds", "list", "--json").json()[0]
    assert feed["error_count"] == 0 and feed["last_error"] is None and feed["items_24h"] == 1


def test_flagged_items_wait_in_triage_grouped_by_event(url: str, server: FeedServer):
    gas2 = ("gas-2", "渑池燃气爆炸事故救援进展", "https://news.example.cn/a/9", "渑池县城区小区燃气爆炸事故，已致2人死亡，伤者送医。")
    yq(url, "feeds", "add", server.serve("/a.xml", rss([GAS, FLOOD, TECH, gas2])))
    yq(url, "ingest", "once")
    queue = yq(url, "triage", "list", "--json").json()
    titles = {i["title"]: i for i in queue}
    assert TECH[1] not in titles
    assert {"id", "title", "published_at", "source", "classification", "group"} <= set(queue[0])
    assert titles[GAS[1]]["group"] == titles[gas2[1]]["group"]
    assert titles[GAS[1]]["group"] != titles[FLOOD[1]]["group"]  # another place, another kind
    assert titles[GAS[1]]["classification"]["flagged"] is True


def test_accept_creates_the_incident_from_the_item_times(url: str, server: FeedServer):
    yq(url, "feeds", "add", server.serve("/a.xml", rss([GAS, FLOOD])))
    yq(url, "ingest", "once")
    item = next(i for i in yq(url, "triage", "list", "--json").json() if i["title"] == GAS[1])
    accepted = yq(url, "triage", "accept", str(item["id"]))
    assert accepted.code == 0
    incident = yq(url, "incident", "show", accepted.out.strip(), "--json").json()
    assert incident["first_post_at"] == item["published_at"] == "2026-11-24T09:00:00+08:00"
    assert incident["detected_at"] == item["fetched_at"]
    assert incident["unit"]["code"] == "mianchi" and incident["flagged"] is True
    assert set(incident["suggested_fields"]) >= {"sudden", "category"}
    again = yq(url, "triage", "accept", str(item["id"]))
    assert again.code == 1 and error_code(again) == "E_ITEM_DECIDED"
    assert item["id"] not in [i["id"] for i in yq(url, "triage", "list", "--json").json()]


def test_merge_moves_the_incident_start_to_the_earliest_item(url: str, server: FeedServer):
    yq(url, "feeds", "add", server.serve("/a.xml", rss([GAS])))
    yq(url, "ingest", "once")
    incident = yq(url, "incident", "add", "--title", "渑池燃气爆炸", "--unit", "渑池", "--first-post-at",
                  "2026-11-24 12:00", "--no-classify").out.strip()
    item = yq(url, "triage", "list", "--json").json()[0]
    assert yq(url, "triage", "merge", str(item["id"]), incident).code == 0
    shown = yq(url, "incident", "show", incident, "--json").json()
    assert shown["started_at"] == "2026-11-24T09:00:00+08:00"
    log = yq(url, "audit", "log", "--entity", "incident", "--id", incident, "--json").json()
    assert log[-1]["action"] == "earlier_start"


def test_dismiss_needs_a_reason_and_takes_the_group(url: str, server: FeedServer):
    yq(url, "feeds", "add", server.serve("/a.xml", rss([GAS, FLOOD])))
    yq(url, "ingest", "once")
    item = yq(url, "triage", "list", "--json").json()[0]
    refused = yq(url, "triage", "dismiss", str(item["id"]), "--reason", " ")
    assert refused.code == 1 and error_code(refused) == "E_REASON_REQUIRED"
    assert yq(url, "triage", "dismiss", str(item["id"]), "--reason", "外地新闻").code == 0
    assert len(yq(url, "triage", "list", "--json").json()) == 1


@pytest.mark.parametrize("argv, code", [
    (["feeds", "add", "ftp://x/y"], "E_FETCH_BAD_URL"),
    (["feeds", "add", "http://x/y", "--timezone", "Mars/Base"], "E_FEED_TIMEZONE"),
    (["feeds", "add", "http://x/y", "--interval", "5"], "E_FEED_INTERVAL"),
    (["feeds", "add", "http://x/y", "--unit", "火星"], "E_UNIT_UNKNOWN"),
    (["feeds", "disable", "99"], "E_FEED_MISSING"),
    (["triage", "accept", "99"], "E_ITEM_MISSING"),
    (["import", "/tmp/nothing.xlsx"], "E_FILE_READ"),
    (["import", "/tmp/list.txt"], "E_IMPORT_FORMAT"),
    (["import", "/tmp/x.csv", "--mapping", "nope"], "E_MAPPING_UNKNOWN"),
])
def test_bad_ingest_input_is_refused(url: str, argv, code):
    result = yq(url, *argv)
    assert result.code == 1 and error_code(result) == code


def test_duplicate_feed_and_sqlite_workers_are_refused(url: str):
    yq(url, "feeds", "add", "http://127.0.0.1:9/feed.xml")
    assert error_code(yq(url, "feeds", "add", "http://127.0.0.1:9/feed.xml")) == "E_FEED_EXISTS"
    if url.startswith("sqlite"):
        assert error_code(yq(url, "ingest", "once", "--workers", "2")) == "E_SQLITE_ONE_WORKER"


def test_feeds_disable_enable_remove(url: str, server: FeedServer):
    feed = yq(url, "feeds", "add", server.serve("/a.xml", rss([GAS])), "--name", "渑池融媒").out.strip()
    yq(url, "feeds", "disable", feed)
    assert yq(url, "ingest", "once", "--json").json()["feeds"] == 0
    yq(url, "feeds", "enable", feed)
    assert yq(url, "ingest", "once", "--json").json()["items_new"] == 1
    assert yq(url, "feeds", "remove", feed).code == 0
    assert yq(url, "feeds", "list", "--json").json() == [] and count(url, Item) == 1


def test_every_test_feed_file_is_handled_and_a_second_run_adds_nothing(url: str):
    if not FEEDS.is_dir():
        pytest.skip(f"shared data not found at {FEEDS}: feed-corpus test skipped")
    files = sorted(str(p) for p in FEEDS.rglob("*") if p.is_file() and p.name != "README.md")
    assert len(files) >= 915
    first = yq(url, "ingest", "file", *files, "--json")
    assert first.code == 0 and "Traceback" not in first.err
    report = first.json()
    assert report["feeds"] == len(files)
    # Nothing lost: every entry the parser yields is either stored or recognised as a duplicate.
    from ingest.parse import parse_feed
    from yuqing.errors import YuqingError

    entries = 0
    for name in files:
        try:
            entries += len(parse_feed(Path(name).read_bytes(), fetched_at=datetime.now(UTC)).items)
        except YuqingError:
            pass
    assert report["items_new"] + report["items_duplicate"] == entries
    assert report["items_new"] > 100
    database = Database(url)
    try:
        with database.session() as s:
            failing = s.scalar(select(func.count()).select_from(Feed).where(Feed.error_count > 0))
            stored_errors = s.scalar(select(func.count()).select_from(Feed).where(Feed.last_error.is_not(None)))
    finally:
        database.dispose()
    assert failing == len(report["errors"]) == stored_errors
    second = yq(url, "ingest", "file", *files, "--json").json()
    assert second["items_new"] == 0 and second["feeds"] == len(files)


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)


IMPORT_ROWS = [
    ["标题", "内容", "链接", "发布时间", "来源"],
    ["卢氏县网民反映拖欠农民工工资", "卢氏县某工地拖欠农民工工资半年，多次讨薪无果", "https://bbs.example.cn/t/1", datetime(2026, 11, 24, 8, 30), "人民网留言板"],
    ["", "", "", "2026-11-24 09:00", "空行"],
    ["湖滨区供暖不热投诉", "湖滨区某小区供暖不热，居民投诉", "", "不是时间", "12345"],
    ["义马市化工厂异味", "义马市化工园区异味扰民", "https://bbs.example.cn/t/3", "2026年11月24日 10:15", "微博"],
]


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_spreadsheet_import_reports_bad_rows_and_keeps_the_rest(url: str, tmp_path: Path, kind: str):
    path = tmp_path / f"vendor.{kind}"
    if kind == "xlsx":
        write_xlsx(path, IMPORT_ROWS)
    else:
        import csv

        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows([[c.strftime("%Y-%m-%d %H:%M") if isinstance(c, datetime) else c for c in r] for r in IMPORT_ROWS])
    result = yq(url, "import", str(path), "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["items_new"] == 2 and report["items_duplicate"] == 0
    assert [e["row"] for e in report["errors"]] == [3, 4]
    queue = {i["title"]: i for i in yq(url, "triage", "list", "--json").json()}
    assert queue["卢氏县网民反映拖欠农民工工资"]["published_at"] == "2026-11-24T08:30:00+08:00"
    assert queue["卢氏县网民反映拖欠农民工工资"]["source"] == "人民网留言板"
    assert yq(url, "import", str(path), "--json").json()["items_new"] == 0


def test_gb18030_csv_with_hotline_mapping(url: str, tmp_path: Path):
    path = tmp_path / "12345.csv"
    path.write_bytes("工单编号,来电时间,诉求标题,诉求内容\nA001,2026-11-24 07:05,停水,陕州区某村停水三天无人管\n".encode("gb18030"))
    report = yq(url, "import", str(path), "--mapping", "hotline-12345", "--json").json()
    assert report["items_new"] == 1 and report["errors"] == []


def test_import_with_missing_columns_says_which(url: str, tmp_path: Path):
    path = tmp_path / "bad.csv"
    path.write_text("名称,备注\n甲,乙\n", encoding="utf-8")
    result = yq(url, "import", str(path))
    assert result.code == 1 and error_code(result) == "E_IMPORT_COLUMNS" and "发布时间" in result.err


def many_feeds(server: FeedServer, n: int, per: int, *, delay: float = 0.0) -> list[str]:
    urls = []
    for f in range(n):
        items = [(f"g{f}-{i}", f"第{f}号源第{i}条：灵宝市网民反映供暖问题{i}", f"https://example.cn/{f}/{i}",
                  f"灵宝市网民投诉供暖不热，编号{f}-{i}") for i in range(per)]
        # Every feed also carries the same shared story, so workers race on one link.
        items.append(("shared", "三门峡市发布寒潮预警", "https://example.cn/shared", "三门峡市气象台发布寒潮预警。"))
        urls.append(server.serve(f"/f{f}.xml", rss(items), delay=delay))
    return urls


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_four_workers_share_the_feeds_without_duplicates(url: str, server: FeedServer):
    for feed_url in many_feeds(server, 12, 15, delay=0.05):
        yq(url, "feeds", "add", feed_url)
    env = {**os.environ, "YUQING_DATABASE_URL": url}
    procs = [subprocess.Popen([sys.executable, "-c", "from yuqing import cli; cli.main()", "ingest", "once", "--json"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outputs]
    import json

    reports = [json.loads(o[0]) for o in outputs]
    assert sum(r["feeds"] for r in reports) == 12
    assert all(hits == 1 for path, hits in server.hits.items())
    assert count(url, Item) == 12 * 15 + 1
    assert count(url, ItemSighting) == 12 * 16
    assert sum(r["items_new"] for r in reports) == 12 * 15 + 1


def test_worker_killed_mid_run_then_rerun_matches_an_uninterrupted_run(db_url: str, tmp_path: Path, server: FeedServer):
    url = db_url
    assert yq(url, "init").code == 0
    reference = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    assert yq(reference, "init").code == 0
    urls = many_feeds(server, 6, 10, delay=0.4)
    for feed_url in urls:
        yq(url, "feeds", "add", feed_url)
        yq(reference, "feeds", "add", feed_url)
    env = {**os.environ, "YUQING_DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-c", "from yuqing import cli; cli.main()", "ingest", "once"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while sum(server.hits.values()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert yq(url, "ingest", "once").code == 0
    assert yq(reference, "ingest", "once").code == 0
    assert snapshot(url) == snapshot(reference)
