"""The stored open windows (yuqing/db/windows.py) against the timeline engine, on both databases:
for a few hundred random open incidents with random actions, the board's SQL order, counts and tone
filters equal the engine's judgement of every full incident at several `now` values; every write of
the write service keeps the stored instants in step; the migration backfills them."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from tests.cliutil import yq
from tests.conftest import T0, hours, writer
from timeline.clock import LATEST, iso_beijing
from yuqing.board import board_tones, urgency
from yuqing.db import migrate, windows
from yuqing.db.incidents import board_page, get_incident, list_incidents, open_ranking
from yuqing.db.models import Item, OpenWindow
from yuqing.db.service import NewAction, NewIncident
from yuqing.db.session import Database

NOW = T0 + hours(72)
COUNT = 300
UNITS = ("渑池县", "灵宝市", "卢氏县", "义马市")
KINDS = ("response", "release", "press_conference", "follow_up")
# Before some recorded actions, at the write time, across Beijing midnight (NOW is 14:00 Beijing:
# +10 h and +10 h 00 min 01 s straddle 00:00), and far enough on that every unmet window is overdue.
NOWS = (NOW - hours(30), NOW - hours(6), NOW, NOW + hours(10) - timedelta(seconds=1), NOW + hours(10),
        NOW + timedelta(hours=10, seconds=1), NOW + hours(26), NOW + hours(200))
TONE_SETS = ((), ("overdue",), ("at_risk",), ("on_track",), ("met", "late"), ("at_risk", "late"), ("not_applicable",))


def _random_incidents(database: Database, seed: int) -> None:
    """COUNT incidents started up to 70 h before NOW (some exactly on a boundary from a NOWS value),
    random gradings, 0–4 actions each at random times (some exactly at a window's due instant),
    a few reclassified, transferred, closed, reopened or voided."""
    rng = random.Random(seed)
    with database.session() as session:
        w = writer(session, now=NOW, actor="admin")
        for i in range(COUNT):
            if i % 29 == 0:
                start = NOWS[i % len(NOWS)] - hours(rng.choice((5, 24, 20, 4)))  # a due or amber instant on a `now`
            else:
                start = NOW - timedelta(seconds=rng.randrange(60, 70 * 3600))
            start = min(start, NOW)
            incident = w.add_incident(NewIncident(
                title=f"随机舆情 {i}", unit=UNITS[i % len(UNITS)], first_post_at=start,
                level=rng.choice((None, "一般", "较大", "重大", "特别重大")), sudden=rng.choice((None, False, True)),
                classify=False,
            ))
            room = int((NOW - incident.started_at).total_seconds())
            for _ in range(rng.randrange(5)):
                at = incident.started_at + (rng.choice((hours(5), hours(24))) if rng.random() < 0.2
                                            else timedelta(seconds=rng.randrange(room + 1)))
                if at <= NOW:
                    w.record_action(incident.id, NewAction(kind=rng.choice(KINDS), at=at, reason="补录"))
            roll = rng.random()
            if roll < 0.08:
                w.reclassify(incident.id, reason="核实", level="一般" if incident.level == "重大" else "重大",
                             sudden=rng.choice((True, False)))
            elif roll < 0.12:
                w.transfer(incident.id, unit=UNITS[(i + 1) % len(UNITS)], reason="属地")
            elif roll < 0.18:
                w.close(incident.id)
            elif roll < 0.21:
                w.close(incident.id)
                w.reopen(incident.id, reason="误办结")
            elif roll < 0.24:
                w.void(incident.id, reason="重复")


def _expected(session, now, *, unit_code=None, levels=(), tones=()):
    """The board the slow way: every full open incident judged by the engine."""
    rows = []
    for view in list_incidents(session, open_only=True, unit_code=unit_code):
        if levels and (view.level or "未定级") not in levels:
            continue
        verdict = view.verdict(now)
        present = board_tones(verdict)
        if tones and not (present & set(tones)):
            continue
        rows.append((urgency(verdict), view.id, present))
    rows.sort(key=lambda r: (r[0], r[1]))
    counts = {t: sum(1 for r in rows if t in r[2]) for t in ("overdue", "at_risk", "on_track")}
    return [r[1] for r in rows], counts


def _stored(session) -> dict[int, dict[str, tuple]]:
    found: dict[int, dict[str, tuple]] = {}
    for row in session.scalars(select(OpenWindow)):
        found.setdefault(row.incident_id, {})[row.key] = (row.due_at, row.satisfied_at)
    return found


def _assert_in_step(session) -> None:
    """The stored windows are exactly the applicable windows of the open incidents, as the engine
    judges each full incident (due instant, earliest satisfying action); none for the others."""
    want = {}
    for view in list_incidents(session):
        if view.status != "open":
            continue
        verdict = view.verdict(LATEST)
        want[view.id] = {w.key: (w.due_at, w.satisfied_at) for w in verdict.windows if w.applicable}
    assert _stored(session) == want


@pytest.fixture
def crowd(database: Database) -> Database:
    _random_incidents(database, seed=18)
    return database


def test_sql_order_and_counts_equal_the_engine_at_every_now(crowd: Database):
    with crowd.session() as session:
        _assert_in_step(session)
        seen_tones = set()
        for now in NOWS:
            for tones in TONE_SETS:
                order, counts = _expected(session, now, tones=tones)
                ranking = open_ranking(session, now, tones=tones)
                assert list(ranking.ids) == order, (now, tones)
                assert ranking.total == len(order) and ranking.counts == counts, (now, tones)
                if not tones:
                    seen_tones |= {t for t, n in counts.items() if n}
            page = board_page(session, now, limit=25, offset=50)
            assert [e.view.id for e in page.entries] == _expected(session, now)[0][50:75]
        # The data is varied enough for the comparison to mean something.
        assert seen_tones == {"overdue", "at_risk", "on_track"}
        assert 180 < len(_expected(session, NOW)[0]) < COUNT


def test_metrics_and_alert_candidates_from_the_stored_windows_equal_the_engine(crowd: Database):
    """/metrics counts windows by state in SQL and the alert loop judges only the incidents the stored
    windows say can be alerted; both equal judging every full open incident, at every `now`."""
    from collections import Counter

    from yuqing.alerts import IncidentClock, due_alerts
    from yuqing.db.alerting import _clocks
    from yuqing.db.monitoring import store_state

    states_seen = set()
    with crowd.session() as session:
        views = list_incidents(session, open_only=True)
        for now in NOWS:
            want: Counter[tuple[str, str]] = Counter(
                (w.key, w.state) for v in views for w in v.verdict(now).windows if w.applicable)
            state = store_state(session, now=now)
            assert state.windows == dict(want), now
            assert state.open_incidents == len(views)
            assert state.overdue_windows == sum(n for (_, st), n in want.items() if st == "overdue")
            states_seen |= {st for _, st in want}

            every = [IncidentClock(v.id, v.title, v.unit.code, v.unit.name, v.verdict(now).flagged, v.verdict(now))
                     for v in views]
            expected = due_alerts(every, [], already_sent=set(), now=now)
            chosen = _clocks(session, now)
            assert due_alerts(chosen, [], already_sent=set(), now=now) == expected, now
            # Only the incidents some alert is due for are loaded and judged.
            assert {c.incident_id for c in chosen} == {a.incident_id for a in expected}, now
    assert states_seen == {"open", "overdue", "met", "late"}


def test_filters_with_the_stored_windows(crowd: Database):
    with crowd.session() as session:
        for now in (NOW - hours(6), NOW + hours(10)):
            for kwargs in ({"unit_code": "lingbao"}, {"levels": ("未定级", "重大")}, {"unit_code": "mianchi", "tones": ("overdue", "met")}):
                order, counts = _expected(session, now, **kwargs)
                ranking = open_ranking(session, now, limit=20, offset=5, **kwargs)
                assert list(ranking.ids) == order[5:25] and ranking.total == len(order) and ranking.counts == counts


def test_every_write_keeps_the_stored_windows_in_step(database: Database):
    from yuqing.db.triage import merge

    def step(work) -> None:
        with database.session() as session:
            work(writer(session, now=NOW, actor="admin"))
        with database.session() as session:
            _assert_in_step(session)
            for now in (NOW - hours(2), NOW, NOW + hours(30)):
                order, counts = _expected(session, now)
                ranking = open_ranking(session, now)
                assert list(ranking.ids) == order and ranking.counts == counts

    made: dict[str, int] = {}

    def add(w) -> None:
        for name, start, level in (("a", NOW - hours(3), "一般"), ("b", NOW - hours(20), "较大"), ("c", NOW - hours(1), None)):
            made[name] = w.add_incident(NewIncident(title=f"写入 {name}", unit="灵宝市", first_post_at=start, level=level,
                                                    sudden=False, classify=False)).id

    step(add)
    # An action: the response window of b is met; a release alone does not touch a's unflagged windows.
    step(lambda w: w.record_action(made["b"], NewAction(kind="response", at=NOW - hours(1))))
    step(lambda w: w.record_action(made["a"], NewAction(kind="follow_up", at=NOW - hours(1))))
    # Reclassification to 重大: a gains the release and press-conference windows, measured from its start.
    step(lambda w: w.reclassify(made["a"], reason="核实为重大", level="重大"))
    step(lambda w: w.record_action(made["a"], NewAction(kind="release", at=NOW)))
    step(lambda w: w.reclassify(made["a"], reason="核实为一般", level="一般"))
    step(lambda w: w.transfer(made["c"], unit="渑池县", reason="属地"))
    step(lambda w: w.close(made["b"]))
    # A fact found late on a closed incident changes nothing on the board…
    step(lambda w: w.record_action(made["b"], NewAction(kind="press_conference", at=NOW - hours(2), reason="补录")))
    # …and is counted once the incident is reopened.
    step(lambda w: w.reopen(made["b"], reason="误办结"))
    step(lambda w: w.void(made["c"], reason="重复"))

    # Triage: merging an earlier item moves the start, and every window with it.
    def merge_earlier(w) -> None:
        item = Item(source="测试", title="更早的原帖", link="", normalized_link="", summary="", content_text="", author="",
                    published_at=NOW - hours(30), content_hash="e" * 64, fetched_at=NOW - hours(29), classification={},
                    flagged=False, unit_code="lingbao", group_key="g-earlier", triage_status="pending")
        w.session.add(item)
        w.session.flush()
        merge(w, item.id, made["a"])

    step(merge_earlier)
    with database.session() as session:
        assert get_incident(session, made["a"]).started_at == NOW - hours(30)
        assert _stored(session)[made["a"]]["response"][0] == NOW - hours(6)


def test_reindex_rebuilds_what_was_written_around_the_service(crowd: Database, monkeypatch: pytest.MonkeyPatch):
    from tests.cliutil import error_code
    from tests.test_accounts import add_user

    with crowd.session() as session:
        before = _stored(session)
        session.execute(delete(OpenWindow))
        assert open_ranking(session, NOW).counts == {"overdue": 0, "at_risk": 0, "on_track": 0}
    assert add_user(crowd.url, "boss", "viewer", monkeypatch=monkeypatch) == 0
    refused = yq(crowd.url, "--as", "boss", "incident", "reindex")
    assert refused.code == 1 and error_code(refused) == "E_FORBIDDEN"
    done = yq(crowd.url, "incident", "reindex")
    assert done.code == 0, done.err
    with crowd.session() as session:
        assert _stored(session) == before
        assert str(len(before)) in done.out
        _assert_in_step(session)
        session.execute(delete(OpenWindow))
    # `yuqing init` (run after an upgrade or a preset edit) rebuilds them too.
    assert yq(crowd.url, "init").code == 0
    with crowd.session() as session:
        assert _stored(session) == before


def test_the_migration_backfills_the_open_windows(crowd: Database):
    with crowd.session() as session:
        before = _stored(session)
    migrate.downgrade(crowd.engine, "0015")
    migrate.upgrade(crowd.engine)
    with crowd.session() as session:
        assert _stored(session) == before and len(before) > 180


def test_cli_and_api_open_lists_use_the_board_order(crowd: Database, tmp_path):
    import json

    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from yuqing.api import Api

    with crowd.session() as session:
        order, _ = _expected(session, NOW)
    listed = yq(crowd.url, "incident", "list", "--open", "--json", "--limit", "30", "--offset", "20", "--now", iso_beijing(NOW))
    assert listed.code == 0 and [i["id"] for i in json.loads(listed.out)] == order[20:50]
    made = yq(crowd.url, "tokens", "add", "reader", "--role", "viewer")
    headers = {"Authorization": f"Bearer {made.out.strip()}"}
    api = Api(lambda: crowd, preset="sanmenxia-2017", evidence_dir=tmp_path / "evidence", clock=lambda: NOW)
    with TestClient(Starlette(routes=api.routes())) as client:
        page = client.get("/api/v1/incidents", params={"open": "true", "limit": "40", "offset": "10"}, headers=headers)
    assert page.status_code == 200 and [i["id"] for i in page.json()] == order[10:50]
    assert page.headers["X-Total-Count"] == str(len(order))


def test_windows_module_refuses_a_naive_now():
    with pytest.raises(ValueError):
        windows.ranked(NOW.replace(tzinfo=None), select(OpenWindow.incident_id))


from tests.test_offices import add as add_in_office  # noqa: E402
from tests.test_offices import offices  # noqa: E402,F401  (the fixture)


def test_an_offices_reindex_leaves_the_other_offices_windows(offices: str):  # noqa: F811
    city = add_in_office(offices, "city", "市发改委", "市里的舆情")
    county = add_in_office(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    database = Database(offices)
    try:
        with database.session() as session:
            before = _stored(session)
        assert set(before) == {city, county}
        assert yq(offices, "incident", "reindex", actor="lbadmin").code == 0
        with database.session() as session:
            assert _stored(session) == before
    finally:
        database.dispose()
    opened = yq(offices, "incident", "list", "--open", "--json", actor="lbadmin")
    assert opened.code == 0 and [i["id"] for i in opened.json()] == [county]
