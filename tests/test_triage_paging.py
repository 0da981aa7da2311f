"""Issue 19: no silent caps on the triage queue. More pending items than the old cap of 500: `triage
list` returns every one or a page with the total, the API pages with the total in headers, the counts
come from one aggregate query and the 待研判 page shows a page of groups and the true size — on both
databases."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event

from tests.cliutil import yq
from tests.conftest import T0
from timeline.clock import iso_beijing
from yuqing.db.heads import refresh_heads
from yuqing.db.models import Item
from yuqing.db.session import Database
from yuqing.db.triage import QueueCount, group_page, queue, queue_counts
from yuqing.pages.common import TRIAGE_PAGE_GROUPS as SHOWN_GROUPS

PENDING = 620  # more than the 500 the queue used to stop at
IGNORED = 30
UNITS = ("mianchi", "lingbao", "lushi", None)


def _fill(database: Database) -> None:
    """PENDING pending items in groups of 1–3 (every 7th flagged), IGNORED ignored ones, 5 accepted."""
    rows = []
    for i in range(PENDING + IGNORED + 5):
        state = "pending" if i < PENDING else "ignored" if i < PENDING + IGNORED else "accepted"
        flagged = i % 7 == 0
        # Every 5th alone, the rest in threes (a few of two); as intake keys them, only pending items
        # share keys (an ignored one stands alone), and a decided group was decided as one.
        group = f"{state}-{i // 3}" if i % 5 and state != "ignored" else None
        rows.append(Item(
            source="测试源", title=f"压力测试信息 {i}", link=f"https://n.example.cn/{i}", normalized_link="", summary="",
            content_text="", author="", published_at=None if i % 11 == 0 else T0 - timedelta(minutes=i * 7 % 997),
            content_hash=f"{i:064d}", fetched_at=T0, flagged=flagged, unit_code=UNITS[i % 4], group_key=group,
            classification={"flagged": flagged, "topics": ["燃气"]}, triage_status=state,
            triage_reason="flagged" if flagged else "topic",
        ))
    with database.session() as session:
        session.add_all(rows)
        session.flush()
        refresh_heads(session, rows[0].office_id, {row.group_key for row in rows})  # as intake keeps them


@pytest.fixture
def crowded(database: Database) -> Database:
    _fill(database)
    return database


def _groups_the_slow_way(database: Database, state: str) -> list[tuple[str, list[int]]]:
    """Every item in queue order, grouped in the order each group first appears (what the page did)."""
    with database.session() as session:
        found: dict[str, list[int]] = {}
        for item in queue(session, state=state):
            found.setdefault(item.group, []).append(item.id)
    return list(found.items())


def test_the_queue_has_no_cap_and_pages_in_order(crowded: Database):
    with crowded.session() as session:
        everything = [i.id for i in queue(session)]
        assert len(everything) == PENDING
        assert [i.id for i in queue(session, limit=100, offset=450)] == everything[450:550]
        assert queue(session, offset=PENDING) == []
        assert len(queue(session, state="all")) == PENDING + IGNORED + 5


def test_counts_come_from_one_aggregate_query(crowded: Database):
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # noqa: ANN001 — SQLAlchemy's event signature
        statements.append(statement)

    expected = {state: _groups_the_slow_way(crowded, state) for state in ("pending", "ignored", "decided", "all")}
    event.listen(crowded.engine, "before_cursor_execute", seen)
    try:
        with crowded.session() as session:
            counts = queue_counts(session)
    finally:
        event.remove(crowded.engine, "before_cursor_execute", seen)
    assert len([s for s in statements if "items" in s]) == 1
    assert counts["pending"] == QueueCount(PENDING, len(expected["pending"]))
    assert counts["ignored"] == QueueCount(IGNORED, len(expected["ignored"]))
    assert counts["decided"].items == 5 and counts["all"].items == PENDING + IGNORED + 5
    assert counts["all"].groups == len(expected["all"])


def test_group_pages_rank_groups_where_their_first_item_stands(crowded: Database):
    for state, size in (("pending", 40), ("ignored", 5)):
        expected = _groups_the_slow_way(crowded, state)
        assert len(expected) > 2 * size
        seen = []
        with crowded.session() as session:
            for offset in range(0, len(expected), size):
                page = group_page(session, state=state, limit=size, offset=offset)
                assert page.total_groups == len(expected) and page.total_items == sum(len(m) for _, m in expected)
                seen += [(g.key, [i.id for i in g.items]) for g in page.groups]
            assert seen == expected
            last = group_page(session, state=state, limit=size, offset=lambda total: (total - 1) // size * size)  # noqa: B023 — used at once
            assert last.offset == (len(expected) - 1) // size * size and last.pages == -(-len(expected) // size)
            assert [g.key for g in last.groups] == [k for k, _ in expected[last.offset:]]


def test_cli_triage_list_returns_everything_or_a_page_with_the_total(crowded: Database):
    url = crowded.url
    now = iso_beijing(T0)
    whole = yq(url, "triage", "list", "--json", "--now", now)
    assert whole.code == 0 and whole.err == ""
    everything = json.loads(whole.out)
    assert len(everything) == PENDING  # not 500
    assert set(everything[0]) >= {"id", "title", "link", "published_at", "source", "classification", "unit", "group",
                                  "state", "reason", "incident", "similar_incidents"}
    paged = yq(url, "triage", "list", "--json", "--limit", "100", "--offset", "500", "--now", now)
    assert paged.code == 0 and json.loads(paged.out) == everything[500:600]
    assert "共 620 条" in paged.err and "501" in paged.err and "600" in paged.err
    beyond = yq(url, "triage", "list", "--json", "--offset", "5000")
    assert beyond.code == 0 and json.loads(beyond.out) == [] and "620" in beyond.err
    text = yq(url, "triage", "list", "--limit", "3", "--now", now)
    assert text.code == 0 and text.out.count("压力测试信息") == 3 and "共 620 条" in text.out
    ignored = yq(url, "triage", "list", "--state", "ignored", "--json")
    assert len(ignored.json()) == IGNORED
    assert yq(url, "triage", "list", "--limit", "0").code == 2
    assert yq(url, "triage", "list", "--offset", "-1").code == 2


def test_api_triage_pages_with_the_total_in_headers(crowded: Database, tmp_path):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from yuqing.api import Api

    made = yq(crowded.url, "tokens", "add", "reader", "--role", "viewer")
    assert made.code == 0, made.err
    headers = {"Authorization": f"Bearer {made.out.strip()}"}
    api = Api(lambda: crowded, preset="sanmenxia-2017", evidence_dir=tmp_path / "evidence", clock=lambda: T0)
    cli = yq(crowded.url, "triage", "list", "--json", "--now", iso_beijing(T0)).json()
    with TestClient(Starlette(routes=api.routes())) as client:
        whole = client.get("/api/v1/triage", headers=headers)
        assert whole.status_code == 200 and whole.json() == cli and whole.headers["X-Total-Count"] == str(PENDING)
        page = client.get("/api/v1/triage", params={"limit": "50", "offset": "580"}, headers=headers)
        assert page.status_code == 200 and page.json() == cli[580:]
        assert page.headers["X-Total-Count"] == str(PENDING) and page.headers["X-Offset"] == "580"
        for bad in ({"limit": "0"}, {"offset": "-1"}, {"limit": "x"}):
            refused = client.get("/api/v1/triage", params=bad, headers=headers)
            assert refused.status_code == 400 and refused.json()["error"]["code"] == "E_API_FIELD"


def test_the_triage_page_shows_the_true_size_and_pages_groups(db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch):
    from tests.test_dashboard import page_text, run_app
    from yuqing.pages import common

    monkeypatch.setenv("YUQING_DATABASE_URL", db_url)
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("YUQING_AUTH_HEADER", raising=False)
    common.reset()
    try:
        assert yq(db_url, "init").code == 0
        database = Database(db_url)
        try:
            _fill(database)
            expected = _groups_the_slow_way(database, "pending")
        finally:
            database.dispose()
        at = run_app(page="triage")
        labels = [t.label for t in at.tabs]
        assert f"待研判队列（{len(expected)}）" in labels and "无需研判（" in labels[1]
        cards = [b for b in at.button if b.key.startswith("tr_open_")]  # every card's decision panel toggle
        size = SHOWN_GROUPS
        assert len(cards) == size + min(size, len(_groups_the_slow_way_ignored(db_url)))
        text = page_text(at)
        pages = -(-len(expected) // size)
        assert f"第 1/{pages} 页，本页 {size} 组，共 {len(expected)} 组 {PENDING} 条信息" in text
        shown = "- #{} "
        head, last_shown = expected[0][1][0], expected[size - 1][1][0]
        assert shown.format(head) in text and shown.format(last_shown) in text and shown.format(expected[size][1][0]) not in text
        at.number_input(key="triage_page_pending").set_value(pages).run()
        assert not at.exception
        text = page_text(at)
        last = expected[(pages - 1) * size:]
        assert f"第 {pages}/{pages} 页，本页 {len(last)} 组" in text
        assert shown.format(last[-1][1][0]) in text and shown.format(head) not in text
    finally:
        common.reset()


def _groups_the_slow_way_ignored(db_url: str) -> list[tuple[str, list[int]]]:
    database = Database(db_url)
    try:
        return _groups_the_slow_way(database, "ignored")
    finally:
        database.dispose()


def test_audit_log_lists_every_record_or_a_page_with_the_total(database: Database):
    from tests.conftest import writer

    with database.session() as session:
        w = writer(session, actor="admin")
        for i in range(1100):  # more than the 1 000 `audit log` used to stop at
            w.audit("item", i % 40, "probe", None, {"n": i}, f"第 {i} 条")
    url = database.url
    whole = yq(url, "audit", "log", "--json")
    assert whole.code == 0 and whole.err == ""
    records = json.loads(whole.out)
    probes = [r for r in records if r["action"] == "probe"]
    assert [r["after"]["n"] for r in probes] == list(range(1100))
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)  # oldest first
    paged = yq(url, "audit", "log", "--json", "--limit", "10", "--offset", "1000")
    assert paged.code == 0 and json.loads(paged.out) == records[1000:1010]
    assert f"共 {len(records)} 条" in paged.err
    one = yq(url, "audit", "log", "--entity", "item", "--id", "7", "--limit", "5")
    assert one.code == 0 and one.out.count("item#7 probe") == 5 and "共 28 条" in one.out


def test_a_unit_s_pool_offers_each_item_exactly_the_incidents_same_kind_accepts():
    # The page indexes a unit's open incidents by category and topic once (yuqing.db.triage._Pool)
    # instead of asking ingest.triage.same_kind of each; the two must agree for every kind of item.
    import itertools
    import random

    from ingest.triage import same_kind
    from yuqing.db.triage import _Candidate, _Pool

    rng = random.Random(19)
    categories = [None, "事故灾难", "自然灾害", "社会安全"]
    topics = ["燃气", "暴雨", "拆迁", "教育", "医疗"]
    candidates = [_Candidate(i, f"标题{i}", rng.choice(categories), tuple(rng.sample(topics, rng.randint(0, 2))), "hubin",
                             _tokens=f"标题 {i}") for i in range(300)]
    pool = _Pool(candidates)
    kinds = [None, {}] + [{"category": c} for c in categories if c] + [
        {"topics": list(t)} for n in range(3) for t in itertools.combinations(topics, n)]
    for classification in kinds:
        expected = [at for at, c in enumerate(candidates) if same_kind(classification, c.category, list(c.topics))]
        assert pool.of_kind(classification) == expected, classification
    assert 0 < len(pool.of_kind({"category": "事故灾难"})) < len(candidates)


@pytest.mark.parametrize("classification, category, topics, same", [
    ({"category": "事故灾难"}, "事故灾难", [], True),
    ({"category": "事故灾难"}, None, ["燃气"], True),  # an incident of no category may be any kind
    ({"category": "事故灾难"}, "自然灾害", ["燃气"], False),  # categories disagree: a shared topic does not join them
    ({"topics": ["燃气"]}, "事故灾难", ["燃气", "暴雨"], True),  # no category: a shared topic is the kind
    ({"topics": ["燃气"]}, "事故灾难", ["暴雨"], False),
    ({"topics": ["燃气"]}, None, [], True),
    ({}, "事故灾难", ["燃气"], False),
    (None, None, None, True),
])
def test_same_kind_is_the_rule_the_pools_index_by(classification, category, topics, same):
    from ingest.triage import same_kind

    assert same_kind(classification, category, topics) is same


def test_a_key_decided_apart_is_one_group_per_state_on_the_page_as_in_the_counts(database: Database):
    # A late arrival joining a group just being accepted is decided on its own: its key then spans two
    # states. The counts count a group per key and state; the page of several states had listed the
    # key once with every state's items (a total of 2 and one group shown).
    def row(i: int, state: str) -> Item:
        return Item(source="测试源", title=f"分开研判的信息 {i}", link=f"https://n.example.cn/apart/{i}", normalized_link="",
                    summary="", content_text="", author="", published_at=T0 - timedelta(minutes=i), content_hash=f"apart{i:059d}",
                    fetched_at=T0, flagged=False, unit_code="lushi", group_key="apart", classification={"flagged": False},
                    triage_status=state, triage_reason="topic")

    rows = [row(1, "accepted"), row(2, "accepted"), row(3, "dismissed")]
    with database.session() as session:
        session.add_all(rows)
        session.flush()
        refresh_heads(session, rows[0].office_id, ["apart"])
    with database.session() as session:
        counts = queue_counts(session)["decided"]
        page = group_page(session, state="decided", limit=10)
    assert counts == QueueCount(3, 2)
    assert sorted([i.state for i in g.items] for g in page.groups) == [["accepted", "accepted"], ["dismissed"]]
    assert len(page.groups) == page.total_groups == 2


def test_the_page_s_counts_are_kept_for_an_unchanged_queue_and_counted_again_after_a_change(crowded: Database):
    # Counting every head of a year's queue was a third of the 待研判 page's cost on every view: the
    # page's counts (now=…) are kept until an item arrives or a decision is audited.
    from tests.conftest import writer
    from yuqing.db.triage import accept

    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # noqa: ANN001 — SQLAlchemy's event signature
        statements.append(statement)

    def counted(now=T0) -> tuple[dict[str, QueueCount], int]:  # noqa: ANN001 - a datetime
        statements.clear()
        event.listen(crowded.engine, "before_cursor_execute", seen)
        try:
            with crowded.session() as session:
                return queue_counts(session, now=now), len([s for s in statements if "GROUP BY" in s])
        finally:
            event.remove(crowded.engine, "before_cursor_execute", seen)

    first, aggregates = counted()
    assert aggregates == 1 and first["pending"].items == PENDING
    again, aggregates = counted()
    assert again == first and aggregates == 0
    assert counted(T0 + timedelta(minutes=1))[1] == 1  # kept a minute at most
    # A decision (audited) is counted by the next view.
    with crowded.session() as session:
        head = group_page(session, limit=1).groups[0]
        accept(writer(session), head.head.id, unit="mianchi")
    after, aggregates = counted()
    assert aggregates == 1 and after["pending"].items == PENDING - len(head.items)
    assert after["decided"].items == 5 + len(head.items)
    # So is an arrival (a new item, not audited).
    with crowded.session() as session:
        row = Item(source="测试源", title="新到的信息", link="https://n.example.cn/new", normalized_link="", summary="",
                   content_text="", author="", published_at=T0, content_hash="new".ljust(64, "0"), fetched_at=T0, flagged=False,
                   unit_code="lushi", group_key="new", classification={"flagged": False}, triage_status="pending",
                   triage_reason="topic")
        session.add(row)
        session.flush()
        refresh_heads(session, row.office_id, ["new"])
    arrived, aggregates = counted()
    assert aggregates == 1 and arrived["pending"] == QueueCount(after["pending"].items + 1, after["pending"].groups + 1)
    # Without `now` (triage list, the API) always counted afresh.
    with crowded.session() as session:
        assert queue_counts(session) == arrived


def test_a_new_item_keeps_the_similar_incident_pools_and_a_new_incident_renews_them(crowded: Database):
    # The pools depend on the incidents, not on the items: intake (an item every few seconds on a
    # large office) must not make every view read and index the units' open incidents again.
    from tests.conftest import writer
    from yuqing.db.service import NewIncident

    statements: list[str] = []

    def seen(conn, cursor, statement, *args):  # noqa: ANN001 — SQLAlchemy's event signature
        statements.append(statement)

    def pools_read() -> int:
        statements.clear()
        event.listen(crowded.engine, "before_cursor_execute", seen)
        try:
            with crowded.session() as session:
                group_page(session, limit=5, now=T0)
        finally:
            event.remove(crowded.engine, "before_cursor_execute", seen)
        return len([s for s in statements if "FROM incidents JOIN units" in s])

    assert pools_read() >= 1
    assert pools_read() == 0  # an unchanged queue: kept
    with crowded.session() as session:
        row = Item(source="测试源", title="又一条新到的信息", link="https://n.example.cn/new2", normalized_link="", summary="",
                   content_text="", author="", published_at=T0, content_hash="new2".ljust(64, "0"), fetched_at=T0,
                   flagged=False, unit_code="lushi", group_key="new2", classification={"flagged": False},
                   triage_status="pending", triage_reason="topic")
        session.add(row)
        session.flush()
        refresh_heads(session, row.office_id, ["new2"])
    assert pools_read() == 0  # an arrival: the incidents are the same
    with crowded.session() as session:
        writer(session).add_incident(NewIncident(title="卢氏县新登记的舆情", unit="lushi", first_post_at=T0, classify=False))
    assert pools_read() >= 1  # a new incident: the pools are read again


def test_a_pool_remembers_what_it_found_per_title_and_kind():
    from yuqing.db.triage import QueueItem, _Candidate, _Pool, similar_incidents

    pool = _Pool([_Candidate(1, "渑池县某小区发生燃气爆炸", "事故灾难", (), "mianchi"),
                  _Candidate(2, "渑池县某小区发生燃气爆炸", "社会安全", (), "mianchi")])

    def item(category: str) -> QueueItem:
        return QueueItem(9, "渑池县某小区发生燃气爆炸已致2人受伤", "", T0, False, T0, "源", {"category": category}, "mianchi", "9",
                         "pending", "flagged", None)

    for _ in range(2):  # the second time from what the pool remembers: the same, per kind
        assert [s.id for s in similar_incidents(item("事故灾难"), pool)] == [1]
        assert [s.id for s in similar_incidents(item("社会安全"), pool)] == [2]
    assert len(pool.found) == 2
