"""Server-side render time of the countdown board (AppTest) with a heavy history, against the same
board with an empty history, in the same process and on the same SQLite file.

Both runs show the same open incidents. The heavy run adds 1 000 000 feed items and 100 000 closed
incidents (bulk Core inserts into `items` / `incidents`). Target: ratio ≤ 1.5.
Run: .venv/bin/python bench/board_speed.py [items] [closed_incidents]
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from yuqing import cli

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPEN_INCIDENTS = 40
RUNS = 15
CHUNK = 20_000


def _render_seconds(runs: int) -> float:
    """Median wall time of a full board run; cached reads are dropped first so the queries count."""
    from streamlit.testing.v1 import AppTest

    from yuqing.db.service import Actor
    from yuqing.pages import common

    times = []
    for _ in range(runs + 1):
        common.refresh()
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        at.session_state["yq_auth"] = {"actor": Actor("bench", "admin"), "seen": datetime.now(UTC)}
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception:
            raise SystemExit(at.exception[0].value)
        if "处置中舆情" not in [m.label for m in at.metric]:
            raise SystemExit("the board did not render")
    return statistics.median(times[1:])  # the first run imports modules and warms the engine


def _open_incidents(url: str) -> None:
    from yuqing.db.service import Actor, NewIncident, Writer
    from yuqing.db.session import Database

    now = datetime.now(UTC)
    units = ["渑池", "灵宝", "卢氏", "义马", "陕州区", "湖滨区", "市应急管理局", "市住房城乡建设局"]
    database = Database(url)
    with database.session() as session:
        writer = Writer(session, Actor("bench"), now=now, preset="sanmenxia-2017")
        for i in range(OPEN_INCIDENTS):
            writer.add_incident(NewIncident(
                title=f"基准测试舆情 {i}：网民反映某小区问题", unit=units[i % len(units)],
                first_post_at=now - timedelta(minutes=37 * i), level=("一般", "较大", "重大")[i % 3],
                sudden=i % 4 == 0, classify=False,
            ))
    database.dispose()


def _history(url: str, items: int, closed: int) -> float:
    from sqlalchemy import insert, select

    from yuqing.db.models import Incident, Item, Unit
    from yuqing.db.session import Database

    database = Database(url)
    started = time.perf_counter()
    now = datetime.now(UTC)
    with database.engine.begin() as conn:
        unit_ids = list(conn.scalars(select(Unit.id)))
        for offset in range(0, closed, CHUNK):
            rows = []
            for n in range(offset, min(offset + CHUNK, closed)):
                start = now - timedelta(days=30 + n % 700, minutes=n % 1440)
                rows.append({
                    "title": f"历史舆情 {n}", "unit_id": unit_ids[n % len(unit_ids)], "status": "closed",
                    "preset": "sanmenxia-2017", "level": "一般", "sudden": False, "first_post_at": start,
                    "detected_at": start, "logged_at": start, "started_at": start, "closed_at": start + timedelta(days=2),
                    "created_by": "bench", "suggested_fields": [],
                })
            conn.execute(insert(Incident.__table__), rows)
        for offset in range(0, items, CHUNK):
            rows = []
            for n in range(offset, min(offset + CHUNK, items)):
                at = now - timedelta(minutes=n % 500_000)
                rows.append({
                    "source": "基准信息源", "title": f"信息 {n}", "link": "", "normalized_link": "",
                    "summary": "", "content_text": "", "author": "", "published_at": at, "fetched_at": at,
                    "content_hash": f"{n:064x}", "flagged": False, "triage_status": "ignored",
                })
            conn.execute(insert(Item.__table__), rows)
    database.dispose()
    return time.perf_counter() - started


def _quiet() -> None:
    """AppTest outside `streamlit run` warns about the missing runtime on every cache call."""
    import logging

    logging.disable(logging.WARNING)


def main(items: int = 1_000_000, closed: int = 100_000) -> None:
    _quiet()
    from yuqing.pages import common
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'board.sqlite3'}"
        os.environ["YUQING_DATABASE_URL"] = url
        os.environ["YUQING_DATA_DIR"] = folder
        os.environ.pop("YUQING_AUTH_HEADER", None)
        if cli.run(["--db", url, "init"], out=open(os.devnull, "w")) != 0:
            raise SystemExit("yuqing init failed")
        _open_incidents(url)
        empty = _render_seconds(RUNS)
        print(f"board, empty history:   {empty * 1000:8.1f} ms (median of {RUNS}, {OPEN_INCIDENTS} open incidents)")
        common.reset()
        loaded = _history(url, items, closed)
        print(f"inserted {items:,} items and {closed:,} closed incidents in {loaded:.1f} s")
        heavy = _render_seconds(RUNS)
        print(f"board, heavy history:   {heavy * 1000:8.1f} ms (median of {RUNS})")
        common.reset()
        ratio = heavy / empty
        print(f"ratio heavy / empty: {ratio:.2f} (target ≤ 1.5) {'OK' if ratio <= 1.5 else 'TOO SLOW'}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
