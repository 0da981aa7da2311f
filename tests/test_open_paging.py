"""Hundreds of open incidents: the board's page (most urgent first), its counts, and the paged lists
of `incident list` and the API — on both databases. Speed is measured in bench/board_speed.py."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.cliutil import yq
from tests.conftest import T0, writer
from timeline.clock import iso_beijing
from yuqing.board import board_tones, urgency
from yuqing.db.incidents import board_page, incident_page, iter_incidents, list_incidents
from yuqing.db.service import NewAction, NewIncident
from yuqing.db.session import Database

OPEN = 240
NOW = T0 + timedelta(hours=60)
UNITS = ("渑池县", "灵宝市", "卢氏县")


@pytest.fixture
def crowded(database: Database) -> Database:
    """240 open incidents started every 13 minutes back from NOW (some overdue, some at risk, some
    answered, a few reclassified to 重大) and 5 closed ones."""
    with database.session() as session:
        w = writer(session, now=NOW, actor="admin")
        for i in range(OPEN + 5):
            start = NOW - timedelta(minutes=13 * i + 1)
            incident = w.add_incident(NewIncident(
                title=f"压力测试舆情 {i}", unit=UNITS[i % 3], first_post_at=start,
                level=(None, "一般", "较大")[i % 3], sudden=False, classify=False,
            ))
            if i % 5 == 0 and i:
                w.record_action(incident.id, NewAction(kind="response", at=start + timedelta(hours=1), channels=("website",), reason="补录"))
            if i % 17 == 0:
                w.reclassify(incident.id, reason="核实为重大", level="重大")
            if i >= OPEN:
                w.close(incident.id)
    return database


def _expected(session, *, unit_code=None, levels=(), tones=()):
    """The board's order and counts worked out the slow way: every full open incident, judged."""
    rows = []
    for view in list_incidents(session, open_only=True, unit_code=unit_code):
        if levels and (view.level or "未定级") not in levels:
            continue
        verdict = view.verdict(NOW)
        if tones and not (board_tones(verdict) & set(tones)):
            continue
        rows.append((urgency(verdict), view.id, board_tones(verdict)))
    rows.sort(key=lambda r: (r[0], r[1]))
    counts = {t: sum(1 for r in rows if t in r[2]) for t in ("overdue", "at_risk", "on_track")}
    return [r[1] for r in rows], counts


def test_board_pages_follow_urgency_and_count_every_open_incident(crowded: Database):
    with crowded.session() as session:
        order, counts = _expected(session)
        assert len(order) == OPEN and counts["overdue"] > 20 and counts["at_risk"] > 5 and counts["on_track"] > 20
        seen = []
        for offset in range(0, OPEN, 50):
            page = board_page(session, NOW, limit=50, offset=offset)
            assert page.total == OPEN and page.counts == counts and page.pages == 5
            seen += [e.view.id for e in page.entries]
        assert seen == order
        first = board_page(session, NOW, limit=20)
        # Overdue first: the first page is all overdue, longest overdue first.
        assert all("overdue" in board_tones(e.verdict) for e in first.entries)
        overdue_by = [max(w.overdue_seconds or 0 for w in e.verdict.windows) for e in first.entries]
        assert overdue_by == sorted(overdue_by, reverse=True)
        assert not [e for e in first.entries if e.view.status != "open"]


def test_board_filters_run_with_the_counts(crowded: Database):
    with crowded.session() as session:
        for kwargs in (
            {"unit_code": "lingbao"}, {"levels": ("未定级",)}, {"levels": ("重大", "较大")}, {"tones": ("at_risk",)},
            {"unit_code": "mianchi", "tones": ("overdue",), "levels": ("一般", "重大")},
        ):
            order, counts = _expected(session, **kwargs)
            page = board_page(session, NOW, limit=30, offset=10, **kwargs)
            assert page.total == len(order) and page.counts == counts, kwargs
            assert [e.view.id for e in page.entries] == order[10:40], kwargs


def test_board_page_past_the_end_by_a_function_of_the_total(crowded: Database):
    with crowded.session() as session:
        page = board_page(session, NOW, limit=100, offset=lambda total: (total // 100) * 100)
        assert page.offset == 200 and len(page.entries) == OPEN - 200 and page.pages == 3


def test_incident_page_counts_in_the_query_and_pages_newest_first(crowded: Database):
    with crowded.session() as session:
        everything = [v.id for v in list_incidents(session, open_only=True)]
        page = incident_page(session, open_only=True, limit=25, offset=200)
        assert page.total == OPEN and list(page.ids) == everything[200:225]
        assert [v.id for v in iter_incidents(session, list(page.ids), chunk=7)] == everything[200:225]
        assert incident_page(session, open_only=True, unit_code="lushi").total == OPEN // 3
        assert incident_page(session).total == OPEN + 5


def test_cli_incident_list_pages_with_the_total(crowded: Database):
    url = crowded.url
    whole = yq(url, "incident", "list", "--open", "--json", "--now", iso_beijing(NOW))
    assert whole.code == 0 and whole.err == ""
    everything = json.loads(whole.out)
    assert len(everything) == OPEN  # no cap
    paged = yq(url, "incident", "list", "--open", "--json", "--limit", "30", "--offset", "60", "--now", iso_beijing(NOW))
    assert paged.code == 0
    assert json.loads(paged.out) == everything[60:90]
    assert "240" in paged.err and "61" in paged.err and "90" in paged.err
    beyond = yq(url, "incident", "list", "--open", "--json", "--offset", "1000")
    assert beyond.code == 0 and json.loads(beyond.out) == []
    text = yq(url, "incident", "list", "--open", "--limit", "2", "--now", iso_beijing(NOW))
    assert text.code == 0 and text.out.count("压力测试舆情") == 2 and "共 240 条" in text.out
    assert yq(url, "incident", "list", "--limit", "0").code == 2
    assert yq(url, "incident", "list", "--offset", "-1").code == 2


def test_streamed_json_is_what_a_whole_dump_prints(crowded: Database):
    import io

    from yuqing.cli.base import Context

    for values in ([], [{"a": 1}], [{"a": [1, 2], "b": "中"}, {"c": None}]):
        out = io.StringIO()
        Context(db_url=crowded.url, actor_name=None, out=out).json_list(iter(values))
        assert out.getvalue() == json.dumps(values, ensure_ascii=False, indent=2) + "\n"


def test_api_open_list_pages_with_the_total_in_headers(crowded: Database, tmp_path):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from yuqing.api import Api

    made = yq(crowded.url, "tokens", "add", "reader", "--role", "viewer")
    assert made.code == 0, made.err
    headers = {"Authorization": f"Bearer {made.out.strip()}"}
    api = Api(lambda: crowded, preset="sanmenxia-2017", evidence_dir=tmp_path / "evidence", clock=lambda: NOW)
    with TestClient(Starlette(routes=api.routes())) as client:
        whole = client.get("/api/v1/incidents", params={"open": "true"}, headers=headers)
        assert whole.status_code == 200 and len(whole.json()) == OPEN and whole.headers["X-Total-Count"] == str(OPEN)
        page = client.get("/api/v1/incidents", params={"open": "true", "limit": "40", "offset": "100"}, headers=headers)
        assert page.status_code == 200 and page.json() == whole.json()[100:140]
        assert page.headers["X-Total-Count"] == str(OPEN) and page.headers["X-Offset"] == "100"
        for bad in ({"limit": "0"}, {"offset": "-1"}, {"limit": "x"}):
            refused = client.get("/api/v1/incidents", params=bad, headers=headers)
            assert refused.status_code == 400 and refused.json()["error"]["code"] == "E_API_FIELD"


@pytest.mark.parametrize(("search", "open_only", "total", "first"), [
    ("", False, OPEN + 5, OPEN + 5),   # every incident counts; the newest listed first
    ("", True, OPEN, OPEN),            # the 5 closed ones (the newest ids) are left out
    ("舆情 23", False, 1 + 10, 240),    # 23 and 230–239 (the title contains the words)
    ("17", False, 1 + 13, 218),        # number 17 (舆情 16); titles with 17: 17, 117, 170–179, 217
    ("#17", False, 1, 17),             # the number only
    ("100%", False, 0, None),          # a LIKE wildcard is a character to look for, not a pattern
    ("不存在的事件", True, 0, None),
])
def test_pick_list_counts_every_match_and_lists_the_newest(crowded: Database, search, open_only, total, first):  # type: ignore[no-untyped-def]  # parametrized
    from yuqing.db.incidents import incident_choices

    with crowded.session() as session:
        page = incident_choices(session, search, open_only=open_only, limit=50)
    assert page.total == total
    assert len(page.choices) == min(total, 50)
    assert [c.id for c in page.choices] == sorted((c.id for c in page.choices), reverse=True)
    assert (page.choices[0].id if page.choices else None) == first
