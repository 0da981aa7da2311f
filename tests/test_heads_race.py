"""Intake racing a decision on one group, on PostgreSQL (two connections; SQLite runs one writer at a
time, so the race cannot happen there).

A decision moves a group's head out of 待研判 while, on another connection, an arrival joins the same
group and settles its head. The settle had read the head as still pending (the decision not yet
committed), found it better than the arrival and unmarked the arrival: once the decision committed,
the arrival's group had no head and vanished from the page and the counts. The settle now locks the
heads it reads (yuqing.db.heads._settle), so it waits for the decision and reads the head again.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.conftest import T0, writer
from yuqing.db.heads import refresh_heads, settle_arrivals
from yuqing.db.models import Item
from yuqing.db.session import Database
from yuqing.db.triage import accept

DEADLINE = 30.0  # seconds any step below may wait before the test fails


def _item(i: int, *, flagged: bool, head: bool) -> Item:
    return Item(source="测试源", title=f"同一事件的信息 {i}", link=f"https://n.example.cn/race/{i}", normalized_link="",
                summary="", content_text="", author="", published_at=T0 - timedelta(minutes=i), content_hash=f"race{i:060d}",
                fetched_at=T0, flagged=flagged, unit_code="mianchi", group_key="race", classification={"flagged": flagged},
                triage_status="pending", triage_reason="flagged" if flagged else "topic", group_head=head)


def _waiting_backends(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND wait_event_type = 'Lock'")).scalar() or 0)


def test_an_arrival_settling_while_its_group_is_decided_keeps_its_group_a_head(database: Database, db_url: str):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite 一次只有一个写入者：研判与入库不会同时改同一组")
    with database.session() as session:
        rows = [_item(1, flagged=True, head=True), _item(2, flagged=False, head=False)]
        session.add_all(rows)
        session.flush()
        office, old_head = rows[0].office_id, rows[0].id
        refresh_heads(session, office, ["race"])
    settled: list[BaseException | None] = []

    def arrive() -> None:  # the intake worker: store an arrival (a head until settled), settle the group
        try:
            with database.session() as session:
                session.add(_item(3, flagged=False, head=True))
                session.flush()
                settle_arrivals(session, office, [("race", "pending")])
            settled.append(None)
        except BaseException as exc:  # reported by the main thread
            settled.append(exc)

    with database.session() as session:
        # The decision takes the whole pending group (the flagged head and its member) into an incident
        # and settles the heads, but has not committed when the arrival settles.
        accept(writer(session), old_head, unit="mianchi")
        worker = threading.Thread(target=arrive, daemon=True)
        worker.start()
        deadline = time.monotonic() + DEADLINE
        # Either the settle waits for this transaction's locks (the fix) or it has already finished.
        while not settled and _waiting_backends(database) == 0:
            assert time.monotonic() < deadline, "the arrival neither settled nor waited"
            time.sleep(0.02)
    worker.join(DEADLINE)
    assert not worker.is_alive() and settled == [None], settled
    with database.session() as session:
        heads = session.scalars(select(Item.id).where(Item.group_key == "race", Item.triage_status == "pending",
                                                      Item.group_head)).all()
        pending = session.scalar(select(func.count(Item.id)).where(Item.group_key == "race", Item.triage_status == "pending"))
        accepted_heads = session.scalar(select(func.count(Item.id)).where(
            Item.group_key == "race", Item.triage_status == "accepted", Item.group_head))
    assert pending == 1 and len(heads) == 1  # the arrival is its pending group's head
    assert accepted_heads == 1  # and the decided group kept its own
