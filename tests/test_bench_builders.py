"""The benchmarks' bulk builders write rows the application reads, on both databases: a builder that
no longer fits the schema (a NOT NULL column added by a migration, such as the office of 0018 and
0021) breaks `make bench` without any test saying so. Each builder runs at a tiny size here and the
application's own reads find what it wrote."""
from __future__ import annotations

import importlib
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

from sqlalchemy import func, select

from yuqing.db.incidents import open_ranking
from yuqing.db.models import Incident, Item
from yuqing.db.session import Database
from yuqing.db.triage import queue_counts

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # the scripts import their neighbours (_common, score_speed) by name
    return importlib.import_module(name)


def test_the_score_bench_year_is_scored_by_the_application(db_url: str):
    score_speed = bench("score_speed")
    actions = score_speed.build(db_url, 60, score_speed.NOW)
    database = Database(db_url)
    try:
        from yuqing.db.scoring_reads import load_year

        data = database.read(load_year, score_speed.YEAR, now=score_speed.NOW)
        results = data.score()
        with database.session() as session:
            stored = session.scalar(select(func.count()).select_from(Incident))
    finally:
        database.dispose()
    assert actions > 0 and stored == 60
    assert len(data.incidents) == 60 and results  # every incident of the year read back and scored


def test_the_pages_bench_queue_is_the_applications_triage_queue(url: str):
    bench("pages_speed").add_items(url, 30)
    database = Database(url)
    try:
        counts = database.read(queue_counts)
    finally:
        database.dispose()
    assert counts["pending"].items == 30 and counts["pending"].groups == 10


def test_the_board_bench_history_and_open_incidents_are_read_by_the_board(url: str):
    board_speed = bench("board_speed")
    board_speed._history(url, 20, 10)
    board_speed._bulk_open(url, 12)  # replaces the incidents by 12 open ones, their windows rebuilt
    database = Database(url)
    try:
        from datetime import UTC, datetime

        now = datetime.now(UTC) + timedelta(minutes=1)
        ranking = database.read(open_ranking, now)
        with database.session() as session:
            items = session.scalar(select(func.count()).select_from(Item))
    finally:
        database.dispose()
    assert ranking.total == 12 and items == 20
