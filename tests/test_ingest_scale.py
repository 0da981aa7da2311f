"""Intake whose cost follows the work (issues 11 and 19): grouping against one representative per
open group, one pass per `ingest once`, unchanged bodies not parsed again."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from ingest.triage import (
    GROUP_SPAN_LIMIT,
    SAME_EVENT_SPAN,
    GroupIndex,
    ItemFacts,
    Representative,
    fingerprint,
    same_event,
)
from tests.cliutil import yq
from tests.feedserver import FeedServer, rss
from yuqing.db.models import Feed, Incident, Item, Office
from yuqing.db.session import Database
from yuqing.worker import Poller

T = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
GAS = ("gas-1", "渑池县某小区发生燃气爆炸，已致2人死亡", "https://news.example.cn/a/1",
       "渑池县城区一小区发生燃气爆炸，已致2人死亡5人受伤，消防正在救援。")
GAS2 = ("gas-2", "渑池燃气爆炸事故救援进展", "https://news.example.cn/a/9", "渑池县城区小区燃气爆炸事故，已致2人死亡，伤者送医。")
FLOOD = ("flood-1", "灵宝市突降暴雨引发山洪，3人失联", "https://news.example.cn/a/2",
         "灵宝市多个乡镇突降暴雨引发山洪，目前3人失联，当地正在搜救。")


def facts(ident: int, title: str, *, unit: str | None = "A", kind: str | None = "事故灾难", at: datetime | None = T,
          keywords: tuple[str, ...] = ()) -> ItemFacts:
    return ItemFacts(ident, title, "", at, unit, kind, frozenset(keywords))


# --- the pure rule -------------------------------------------------------------------------------

def test_fingerprint_round_trips_bigrams_and_trigger_words():
    item = facts(1, "渑池县 燃气\t爆炸", keywords=("爆炸", "死亡"))
    stored = Representative.stored("k", fingerprint(item), item.published_at)
    assert stored.bigrams == item.bigrams and stored.keywords == item.keywords
    empty = Representative.stored("k", fingerprint(facts(2, "")))
    assert empty.bigrams == frozenset() and empty.keywords == frozenset()


@pytest.mark.parametrize("other, joins", [
    (facts(2, "渑池县小区燃气爆炸致2死"), True),
    (facts(2, "渑池县小区燃气爆炸致2死", unit="B"), False),  # another place
    (facts(2, "渑池县小区燃气爆炸致2死", kind="自然灾害"), False),  # another kind
    (facts(2, "渑池县小区燃气爆炸致2死", at=T + SAME_EVENT_SPAN), True),  # the boundary is inside
    (facts(2, "渑池县小区燃气爆炸致2死", at=T + SAME_EVENT_SPAN + timedelta(seconds=1)), False),
    (facts(2, "某公司发布新款手机"), False),  # unrelated words
    (facts(2, "渑池县小区燃气爆炸致2死", unit=None), False),  # no unit: always alone
])
def test_a_new_item_joins_a_group_exactly_when_the_pair_rule_says_same_event(other: ItemFacts, joins: bool):
    first = facts(1, "渑池县某小区发生燃气爆炸，已致2人死亡")
    index = GroupIndex()
    assert index.place(first, "g1") == "g1"
    assert (index.place(other, "g2") == "g1") is joins
    assert same_event(first, other) is joins


def test_the_most_similar_open_group_wins_and_members_do_not_become_representatives():
    index = GroupIndex()
    index.place(facts(1, "渑池县某小区发生燃气爆炸"), "gas")
    index.place(facts(2, "灵宝市突降暴雨引发山洪"), "flood")
    assert index.place(facts(3, "灵宝市暴雨引发山洪致3人失联"), "new") == "flood"
    assert index.place(facts(4, "渑池县小区燃气爆炸"), "new") == "gas"
    # Two groups opened, two members joined: only the two representatives are compared.
    assert sum(len(b) for b in index._buckets.values()) == 2


def test_a_group_spans_its_items_times_so_an_event_reported_over_days_stays_one_group():
    # Each report is within 48 hours of the one before: all one group, though the third is 80 hours
    # after the first (the representative's own time alone had opened a second group).
    index = GroupIndex()
    assert index.place(facts(1, "渑池县某小区发生燃气爆炸，已致2人死亡"), "g1") == "g1"
    assert index.place(facts(2, "渑池县小区燃气爆炸致2死", at=T + timedelta(hours=40)), "g2") == "g1"
    assert index.place(facts(3, "渑池县小区燃气爆炸事故善后", at=T + timedelta(hours=80)), "g3") == "g1"
    assert index.place(facts(4, "渑池县小区燃气爆炸致2死", at=T - timedelta(hours=47)), "g4") == "g1"  # a late report
    # 42 hours after the last, but the group would then span 7 days and an hour: a group of its own.
    assert GROUP_SPAN_LIMIT == timedelta(days=7)
    assert index.place(facts(5, "渑池县小区燃气爆炸致2死", at=T + timedelta(hours=122)), "g5") == "g5"
    (group, later) = index._buckets[("A", "事故灾难")]
    assert (group.first_at, group.last_at) == (T - timedelta(hours=47), T + timedelta(hours=80))
    assert (later.key, later.first_at, later.last_at) == ("g5", T + timedelta(hours=122), T + timedelta(hours=122))


# --- grouping at intake, on both databases -------------------------------------------------------

def test_a_later_poll_joins_the_group_through_the_stored_representative(url: str, server: FeedServer):
    path = "/a.xml"
    yq(url, "feeds", "add", server.serve(path, rss([GAS, FLOOD])))
    assert yq(url, "ingest", "once").code == 0
    database = Database(url)
    try:
        with database.session() as s:
            stored = {i.title: i for i in s.scalars(select(Item))}
            assert stored[GAS[1]].fingerprint and stored[GAS[1]].event_kind
            s.execute(text("UPDATE feeds SET next_poll_at = NULL, etag = NULL"))
    finally:
        database.dispose()
    server.serve(path, rss([GAS, FLOOD, GAS2]))
    assert yq(url, "ingest", "once").code == 0
    queue = {i["title"]: i["group"] for i in yq(url, "triage", "list", "--json").json()}
    assert queue[GAS2[1]] == queue[GAS[1]] != queue[FLOOD[1]]


def _dated_rss(items: list[tuple[str, str, str, str, str]]) -> bytes:
    """items: (guid, title, link, description, pubDate in RFC 822)."""
    body = "".join(f"<item><guid>{g}</guid><title>{t}</title><link>{l}</link><description>{d}</description>"
                   f"<pubDate>{when}</pubDate></item>" for g, t, l, d, when in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>测试频道</title>{body}</channel></rss>'.encode()


def test_a_late_report_joins_the_group_whose_first_items_it_is_near(url: str, server: FeedServer):
    # The group's head is its newest item; a report of the first day polled later was compared with
    # the head's time alone (60 hours away) and opened a group of its own, though 20 hours from the
    # group's first item. The head keeps the group's span (migration 0025), and intake windows on it.
    first = (*GAS, "Fri, 20 Nov 2026 09:00:00 +0800")
    newer = (*GAS2, "Sun, 22 Nov 2026 01:00:00 +0800")  # 40 hours later: joins, and heads the group
    late = ("gas-0", "渑池县一小区燃气爆炸致2人死亡", "https://news.example.cn/a/0", "渑池县城区小区燃气爆炸，2人死亡。",
            "Thu, 19 Nov 2026 13:00:00 +0800")  # 20 hours before the first, 60 before the head
    path = "/late.xml"
    yq(url, "feeds", "add", server.serve(path, _dated_rss([first])))
    database = Database(url)
    try:
        for items in ([first, newer], [first, newer, late]):
            assert yq(url, "ingest", "once").code == 0
            with database.session() as s:
                s.execute(text("UPDATE feeds SET next_poll_at = NULL, etag = NULL"))
            server.serve(path, _dated_rss(items))
        assert yq(url, "ingest", "once").code == 0
        with database.session() as s:
            head = s.scalars(select(Item).where(Item.group_head, Item.triage_status == "pending")).all()
    finally:
        database.dispose()
    queue = {i["title"]: i["group"] for i in yq(url, "triage", "list", "--json").json()}
    assert len(queue) == 3 and len(set(queue.values())) == 1, queue
    (head,) = head  # one group, headed by its newest item, holding the whole group's span
    assert head.title == GAS2[1]
    assert (head.group_first_at, head.group_last_at) == (datetime(2026, 11, 19, 5, tzinfo=UTC),
                                                         datetime(2026, 11, 21, 17, tzinfo=UTC))


def test_a_decided_group_is_not_open_any_more(url: str, server: FeedServer):
    path = "/a.xml"
    yq(url, "feeds", "add", server.serve(path, rss([GAS])))
    yq(url, "ingest", "once")
    first = yq(url, "triage", "list", "--json").json()[0]
    assert yq(url, "triage", "dismiss", str(first["id"]), "--reason", "误报").code == 0
    database = Database(url)
    try:
        with database.session() as s:
            s.execute(text("UPDATE feeds SET next_poll_at = NULL, etag = NULL"))
    finally:
        database.dispose()
    server.serve(path, rss([GAS, GAS2]))
    yq(url, "ingest", "once")
    (second,) = yq(url, "triage", "list", "--json").json()
    assert second["title"] == GAS2[1] and second["group"] != first["group"]


def undated_rss(dated: list[tuple[str, str, str, str]], undated: list[tuple[str, str, str, str]]) -> bytes:
    """`rss` with some items carrying no pubDate at all (published_at stays empty)."""
    body = rss(dated).decode()
    extra = "".join(f"<item><guid>{g}</guid><title>{t}</title><link>{l}</link><description>{d}</description></item>"
                    for g, t, l, d in undated)
    return body.replace("</channel>", extra + "</channel>").encode()


@pytest.mark.parametrize("first_undated", [True, False], ids=["undated-group", "undated-newcomer"])
def test_an_undated_item_and_a_dated_one_of_the_same_event_share_a_group(url: str, server: FeedServer,
                                                                          first_undated: bool):
    # The open groups are read as two selects, dated ones near the batch's times and undated ones
    # (UNION ALL): an undated representative is still found by a dated newcomer, and the reverse.
    path = "/undated.xml"
    first = undated_rss([FLOOD], [GAS]) if first_undated else undated_rss([GAS, FLOOD], [])
    yq(url, "feeds", "add", server.serve(path, first))
    assert yq(url, "ingest", "once").code == 0
    database = Database(url)
    try:
        with database.session() as s:
            assert (s.scalar(select(Item.published_at).where(Item.title == GAS[1])) is None) is first_undated
            s.execute(text("UPDATE feeds SET next_poll_at = NULL, etag = NULL"))
    finally:
        database.dispose()
    second = undated_rss([GAS2, FLOOD], [GAS]) if first_undated else undated_rss([GAS, FLOOD], [GAS2])
    server.serve(path, second)
    assert yq(url, "ingest", "once").code == 0
    queue = {i["title"]: i["group"] for i in yq(url, "triage", "list", "--json").json()}
    assert queue[GAS2[1]] == queue[GAS[1]] != queue[FLOOD[1]]


# --- a batch is written in one statement per table ----------------------------------------------

@contextmanager
def inserts_into(table: str) -> Iterator[list[str]]:
    """The INSERT statements sent to `table` by any engine while the block runs."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
            sent.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


def offices_of_items(url: str) -> set[int]:
    database = Database(url)
    try:
        with database.session() as s:
            root = s.scalar(select(Office.id).order_by(Office.id).limit(1))
            return {office - root for office in s.scalars(select(Item.office_id))}
    finally:
        database.dispose()


def test_an_import_batch_is_one_insert_of_items_and_each_row_has_its_feeds_office(url: str, tmp_path: Path):
    # The bulk path had been failing on office_id (NOT NULL, filled only by the ORM's flush hook) and
    # every batch fell back to one insert per row: 12× slower than classification alone at 10 000 rows.
    path = tmp_path / "rows.csv"
    path.write_text("标题,内容,发布时间\n" + "".join(
        f"卢氏县网民反映第{i}号小区停水,卢氏县某小区第{i}号楼停水三天，居民生活受影响,2026-11-{1 + i % 20:02d} 08:{i:02d}\n"
        for i in range(30)), encoding="utf-8")
    with inserts_into("items") as items, inserts_into("item_sightings") as sightings:
        result = yq(url, "import", str(path), "--json")
    assert result.code == 0 and result.json()["items_new"] == 30
    assert len(items) == 1 and len(sightings) == 1
    assert offices_of_items(url) == {0}  # the root office, the import feed's


def test_a_polled_feed_is_one_insert_of_items(url: str, server: FeedServer):
    yq(url, "feeds", "add", server.serve("/a.xml", rss([GAS, FLOOD, GAS2])))
    with inserts_into("items") as items:
        assert yq(url, "ingest", "once").code == 0
    assert len(items) == 1
    assert offices_of_items(url) == {0}
    queue = {i["title"]: i["group"] for i in yq(url, "triage", "list", "--json").json()}
    assert queue[GAS2[1]] == queue[GAS[1]] != queue[FLOOD[1]]


# --- one pass per run, unchanged bodies ----------------------------------------------------------

def test_ingest_once_polls_each_feed_once_even_when_the_run_outlasts_the_interval(url: str, server: FeedServer):
    paths = [f"/f{n}.xml" for n in range(3)]
    for n, path in enumerate(paths):
        yq(url, "feeds", "add", server.serve(path, rss([(f"g{n}", f"标题{n}", f"https://x.example.cn/{n}", "正文")])),
           "--interval", "60")
    moments = iter(T + timedelta(seconds=600 * n) for n in range(30))
    last = [T]

    def clock() -> datetime:  # each reading ten minutes later (a slow run), then it stops moving
        last[0] = next(moments, last[0])
        return last[0]

    database = Database(url)
    try:
        with database.session() as s:
            s.execute(text("UPDATE feeds SET next_poll_at = NULL"))
        report = Poller(database, preset="sanmenxia-2017", clock=clock).poll_due()
    finally:
        database.dispose()
    assert report.feeds == 3
    assert [server.hits[p] for p in paths] == [1, 1, 1]


def test_a_feed_without_validators_sending_the_same_body_is_not_parsed_again(url: str, server: FeedServer):
    server.validators = False
    path = "/plain.xml"
    yq(url, "feeds", "add", server.serve(path, rss([GAS, FLOOD])))
    first = yq(url, "ingest", "once", "--json").json()
    assert first["items_new"] == 2 and first["feeds_unchanged"] == 0

    def again() -> dict:
        database = Database(url)
        try:
            with database.session() as s:
                s.execute(text("UPDATE feeds SET next_poll_at = NULL"))
                assert s.scalar(select(Feed.etag)) is None  # the server really sent no validator
        finally:
            database.dispose()
        return yq(url, "ingest", "once", "--json").json()

    second = again()
    assert second["feeds"] == 1 and second["feeds_unchanged"] == 1 and second["items_new"] == 0
    assert server.hits[path] == 2
    server.serve(path, rss([GAS, FLOOD, GAS2]))  # new bytes are parsed
    third = again()
    assert third["feeds_unchanged"] == 0 and third["items_new"] == 1


# --- the day only (issue 19 item 5) --------------------------------------------------------------

def test_an_item_dated_with_the_day_only_shows_the_day_and_starts_no_clock(url: str, server: FeedServer):
    body = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>频道</title>'
            f"<item><guid>{GAS[0]}</guid><title>{GAS[1]}</title><link>{GAS[2]}</link><description>{GAS[3]}</description>"
            "<pubDate>2009年8月8日下午</pubDate></item></channel></rss>").encode()
    yq(url, "feeds", "add", server.serve("/day.xml", body))
    assert yq(url, "ingest", "once").code == 0
    (item,) = yq(url, "triage", "list", "--json").json()
    assert item["published_at"] is None
    assert item["published_date"] == "2009-08-08" and item["published_date_only"] is True
    assert "2009-08-08（仅日期" in yq(url, "triage", "list").out
    assert yq(url, "triage", "accept", str(item["id"])).code == 0
    database = Database(url)
    try:
        with database.session() as s:
            incident = s.scalar(select(Incident))
            assert incident is not None and incident.first_post_at is None  # not 2009-08-08 00:00
    finally:
        database.dispose()


def sqlite_plan(url: str, call: Any, wanted: Any) -> str:
    """SQLite's query plan of the last statement `call(session)` sent for which `wanted(statement)`."""
    database = Database(url)
    sent: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    try:
        with database.session(write=False) as s:
            event.listen(database.engine, "before_cursor_execute", seen)
            try:
                call(s)
            finally:
                event.remove(database.engine, "before_cursor_execute", seen)
            statement, parameters = [(st, p) for st, p in sent if wanted(st)][-1]
            return " | ".join(row[-1] for row in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                                parameters))
    finally:
        database.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_open_groups_are_read_by_an_index_range_on_time_not_the_whole_bucket(url: str):
    # With `published_at BETWEEN … OR published_at IS NULL` SQLite searched the index on (status,
    # unit, kind) only and read every pending item of the bucket: 100 000 rows took 13× 10 000. The
    # window is now on the groups' spans (migration 0025): a range on the span's end, by the index.
    from yuqing.db.items import _open_groups

    plan = sqlite_plan(url, lambda s: _open_groups(s, s.scalar(select(Office.id).limit(1)), "hubin", "事故灾难", [T]),
                       lambda statement: True)
    assert ("ix_items_open_groups (office_id=? AND triage_status=? AND unit_code=? AND event_kind=? AND group_head=? "
            "AND group_last_at>? AND group_last_at<?)") in plan
    assert ("ix_items_open_groups (office_id=? AND triage_status=? AND unit_code=? AND event_kind=? AND group_head=? "
            "AND group_last_at=?)") in plan  # the undated groups' arm (IS NULL)


# --- each group's head, kept at intake and at decisions (issue 19) --------------------------------

def heads_in_queue_order(url: str) -> tuple[set[int], set[int]]:
    """(the items marked as heads, the first item of each group and state in `queue` order)."""
    from yuqing.db.triage import queue

    database = Database(url)
    try:
        with database.session() as s:
            marked = set(s.scalars(select(Item.id).where(Item.group_head)))
            first: dict[tuple[str, str], int] = {}
            for item in queue(s, state="all"):
                first.setdefault((item.group, item.state), item.id)
    finally:
        database.dispose()
    return marked, set(first.values())


def test_the_head_of_a_group_moves_to_a_newer_member_and_a_decision_keeps_one(url: str, server: FeedServer):
    from yuqing.db.triage import group_page

    path = "/heads.xml"
    yq(url, "feeds", "add", server.serve(path, rss([GAS, FLOOD])))
    assert yq(url, "ingest", "once").code == 0
    database = Database(url)
    try:
        with database.session() as s:
            s.execute(text("UPDATE feeds SET next_poll_at = NULL, etag = NULL"))
    finally:
        database.dispose()
    server.serve(path, rss([FLOOD, GAS, GAS2]))  # GAS2 is the newest report of the gas explosion
    assert yq(url, "ingest", "once").code == 0
    marked, expected = heads_in_queue_order(url)
    assert marked == expected and len(marked) == 2
    queue = yq(url, "triage", "list", "--json").json()
    gas2 = next(i for i in queue if i["title"] == GAS2[1])
    gas = next(i for i in queue if i["title"] == GAS[1])
    assert gas2["group"] == gas["group"] and gas2["id"] in marked and gas["id"] not in marked
    database = Database(url)
    try:
        with database.session() as s:
            page = group_page(s, state="pending", limit=10)
            assert [[i.id for i in g.items] for g in page.groups] == [
                [i["id"] for i in queue if i["group"] == key] for key in dict.fromkeys(i["group"] for i in queue)]
            assert page.total_groups == 2 and page.total_items == 3
    finally:
        database.dispose()
    assert yq(url, "triage", "accept", str(gas["id"])).code == 0  # the whole group leaves the queue as one
    marked, expected = heads_in_queue_order(url)
    assert marked == expected and len(marked) == 2
    counts = yq(url, "triage", "list", "--json").json()
    assert [i["title"] for i in counts] == [FLOOD[1]]


def test_migration_0023_marks_the_head_of_each_existing_group(url: str, server: FeedServer):
    from yuqing.db import migrate

    yq(url, "feeds", "add", server.serve("/m.xml", rss([GAS, FLOOD, GAS2])))
    assert yq(url, "ingest", "once").code == 0
    before, expected = heads_in_queue_order(url)
    assert before == expected and len(expected) == 2
    database = Database(url)
    try:
        migrate.downgrade(database.engine, "0022")
        with database.engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM items")).scalar_one()
        migrate.upgrade(database.engine)
        with database.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM items")).scalar_one() == count == 3
    finally:
        database.dispose()
    after, expected = heads_in_queue_order(url)
    assert after == expected == before


def test_migration_0025_gives_each_existing_head_its_group_s_span(url: str, server: FeedServer):
    from yuqing.db import migrate

    yq(url, "feeds", "add", server.serve("/m.xml", rss([GAS, FLOOD, GAS2])))  # GAS and GAS2 one group, 1 minute apart
    assert yq(url, "ingest", "once").code == 0
    database = Database(url)
    try:
        with database.session() as s:
            spans = {i.title: (i.group_first_at, i.group_last_at) for i in s.scalars(select(Item).where(Item.group_head))}
        migrate.downgrade(database.engine, "0024")
        migrate.upgrade(database.engine)
        with database.session() as s:
            rows = s.scalars(select(Item)).all()
            after = {i.title: (i.group_first_at, i.group_last_at) for i in rows if i.group_head}
            times = {i.title: i.published_at for i in rows}
    finally:
        database.dispose()
    assert after == spans and len(after) == 2
    assert after[GAS2[1]] == (times[GAS[1]], times[GAS2[1]]) and times[GAS[1]] < times[GAS2[1]]
    assert after[FLOOD[1]] == (times[FLOOD[1]], times[FLOOD[1]])


def _member(ident: int, key: str, *, at: datetime | None, flagged: bool = False, head: bool = False,
            status: str = "pending") -> Item:
    return Item(source="测试源", title=f"燃气泄漏 {ident}", link=f"https://n.example.cn/h{ident}", normalized_link="",
                summary="", content_text="", author="", published_at=at, content_hash=f"h{ident:063d}", fetched_at=T,
                flagged=flagged, unit_code="hubin", group_key=key, classification={"flagged": flagged},
                triage_status=status, triage_reason="topic", group_head=head)


def test_an_arrival_settles_its_group_by_the_heads_alone(url: str):
    # Intake reads a group's heads, not its members (a group of a year's reports cost each batch a
    # read of all of them: 1 000 feeds took 26.6× the time of 100). Two workers may each leave a
    # head in one group; the next arrival leaves the best one only.
    from yuqing.db.heads import settle_arrivals

    database = Database(url)
    try:
        with database.session() as s:
            office = s.scalar(select(Office.id).limit(1))
            assert office is not None
            old = [_member(i, "g", at=T - timedelta(hours=i)) for i in range(1, 40)]
            old[0].group_head = True  # the newest of the group, as intake left it
            s.add_all(old)
            s.flush()
            later = _member(100, "g", at=T - timedelta(minutes=30), head=True)
            s.add(later)
            s.flush()
            settle_arrivals(s, office, [("g", "pending")])
            assert set(s.scalars(select(Item.id).where(Item.group_head, Item.group_key == "g"))) == {later.id}
            older = _member(101, "g", at=T - timedelta(days=3), head=True)  # no better than the head
            racing = _member(102, "g", at=T - timedelta(minutes=10), head=True)  # another worker's head
            s.add_all([older, racing])
            s.flush()
            settle_arrivals(s, office, [("g", "pending")])
            assert set(s.scalars(select(Item.id).where(Item.group_head, Item.group_key == "g"))) == {racing.id}
            flagged = _member(103, "g", at=None, flagged=True, head=True)  # flagged ranks first, even undated
            other = _member(104, "g", at=T, head=True, status="ignored")  # another state: its own group
            s.add_all([flagged, other])
            s.flush()
            settle_arrivals(s, office, [("g", "pending"), ("g", "ignored")])
            assert set(s.scalars(select(Item.id).where(Item.group_head, Item.group_key == "g"))) == {flagged.id, other.id}
    finally:
        database.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_arrival_reads_its_groups_heads_by_all_four_index_columns(url: str):
    from yuqing.db.heads import settle_arrivals

    plan = sqlite_plan(url, lambda s: settle_arrivals(s, s.scalar(select(Office.id).limit(1)), [("g", "pending")]),
                       lambda statement: "group_head" in statement)
    assert "ix_items_office_group (office_id=? AND group_key=? AND triage_status=? AND group_head=?)" in plan


# --- only the indexes a read needs (issue 19: each index costs every new item a page of the write) ---

ITEM_INDEXES = {"ux_items_office_link_key", "ix_items_open_groups", "ix_items_office_heads", "ix_items_office_group",
                "ix_items_incident_id", "ix_items_office_fetched"}
DROPPED_IN_0026 = {"ix_items_triage", "ix_items_published_at", "ix_items_group_key", "ix_items_office_triage"}


def item_indexes(engine: Engine) -> set[str]:
    from sqlalchemy import inspect

    # PostgreSQL lists the unique constraint's own index too (SQLite does not): constraints aside.
    return {index["name"] for index in inspect(engine).get_indexes("items")
            if index["name"] and not index.get("duplicates_constraint")}


def test_items_keep_only_the_indexes_a_read_needs_and_0026_drops_the_others(url: str):
    from yuqing.db import migrate

    database = Database(url)
    try:
        assert item_indexes(database.engine) == ITEM_INDEXES
        migrate.downgrade(database.engine, "0025")
        assert item_indexes(database.engine) == ITEM_INDEXES - {"ix_items_office_fetched"} | DROPPED_IN_0026
        migrate.upgrade(database.engine)
        assert item_indexes(database.engine) == ITEM_INDEXES
    finally:
        database.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_read_of_an_office_s_items_is_a_search_of_an_index(url: str, server: FeedServer):
    # The office's lists, counts, pages, decisions and feeds page read items by the office-led
    # indexes (so the installation-wide ones, 0026, are not needed): each step on items is a SEARCH
    # (an index range or the primary key), never a SCAN of the table or of a whole index. The feeds
    # page had read every item of the office for its 24-hour counts.
    from tests.conftest import writer
    from yuqing.db.feeds import list_feeds
    from yuqing.db.triage import STATES, dismiss, group_page, queue, queue_counts, queue_total

    yq(url, "feeds", "add", server.serve("/q.xml", rss([GAS, FLOOD, GAS2])))
    assert yq(url, "ingest", "once").code == 0
    database = Database(url)
    sent: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if many:  # an executemany: the plan of its first row's
            parameters = parameters[0] if parameters else None
        if parameters is not None and statement.lstrip().upper().startswith(("SELECT", "UPDATE")) and " item" in statement:
            sent.append((statement, parameters))

    try:
        with database.session() as s:
            office = s.scalar(select(Office.id).limit(1))
        mine = database.for_office(office)
        with mine.session() as s:
            grouped = s.scalar(select(Item.id).where(Item.title == GAS2[1]))  # the test's own lookup, unchecked
            assert grouped is not None
            event.listen(database.engine, "before_cursor_execute", seen)
            try:
                for state in STATES:
                    queue(s, state=state, now=T)
                    queue_total(s, state=state)
                    group_page(s, state=state, now=T)
                queue_counts(s)
                list_feeds(s, now=T)
                dismiss(writer(s), grouped, reason="测试")  # a decision reads and settles the group
            finally:
                event.remove(database.engine, "before_cursor_execute", seen)
            assert len(sent) >= 3 * len(STATES) + 3
            for statement, parameters in sent:
                plan = [row[-1] for row in s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                steps = [step for step in plan if " items" in f" {step}" or " item_sightings" in f" {step}"]
                assert steps and all(step.startswith(("SEARCH items", "SEARCH item_sightings")) for step in steps), \
                    (statement, plan)
                if "GROUP BY items.triage_status" not in statement:  # the counts read the office's index, once
                    assert not [step for step in steps if step.endswith("(office_id=?)")], (statement, plan)
    finally:
        database.dispose()
