"""Server-side render time of the countdown board (AppTest) with a heavy history, against the same
board with an empty history, in the same process and on the same SQLite file.

Both runs show the same open incidents. The heavy run adds 1 000 000 feed items and 100 000 closed
incidents (bulk Core inserts into `items` / `incidents`). Target: ratio ≤ 1.5.
Run: .venv/bin/python bench/board_speed.py [items] [closed_incidents]
     (default 200 000 items and 20 000 closed, the size `make bench` runs; full size: 1000000 100000)

The open-incident axis (issue 18): 10, 100, 500 and 5 000 open incidents (a third answered, a third
overdue), timing the board's data call (yuqing.db.incidents.board_page, one page of 20) and a full
server-side render (AppTest), each against the 10-open case, one database per count measured in
interleaved rounds (min/median/max of the rounds). Targets: 500 open ≤ 1.5× and 5 000 open ≤ 3× the
10-open render. PostgreSQL too when a URL is given (scratch schemas are made and dropped).
Run: .venv/bin/python bench/board_speed.py open [postgresql+psycopg://…/db]
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import report  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from yuqing import cli  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

OPEN_INCIDENTS = 40
RUNS = 15
CHUNK = 20_000


def _render_seconds(runs: int) -> float:
    """Median wall time of a full board run; cached reads are dropped first so the queries count."""
    from streamlit.testing.v1 import AppTest

    from tests.cliutil import session_for
    from yuqing.db.service import Actor
    from yuqing.pages import common

    token = session_for(os.environ["YUQING_DATABASE_URL"], Actor("bench", "admin"))
    times = []
    for _ in range(runs + 1):
        common.refresh()
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        at.session_state["yq_session"] = token
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
        units = conn.execute(select(Unit.id, Unit.office_id).order_by(Unit.id)).all()  # each row carries its office
        for offset in range(0, closed, CHUNK):
            rows = []
            for n in range(offset, min(offset + CHUNK, closed)):
                start = now - timedelta(days=30 + n % 700, minutes=n % 1440)
                rows.append({
                    "title": f"历史舆情 {n}", "unit_id": units[n % len(units)][0], "office_id": units[n % len(units)][1],
                    "status": "closed",
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
                    "content_hash": f"{n:064x}", "flagged": False, "triage_status": "ignored", "office_id": units[0][1],
                })
            conn.execute(insert(Item.__table__), rows)
    database.dispose()
    return time.perf_counter() - started


OPEN_AXIS = (10, 100, 500, 5_000)
OPEN_RUNS = 5


def _bulk_open(url: str, count: int) -> None:
    """`count` open incidents started from 1 minute to ~5 days ago (bulk Core inserts, then their stored
    windows rebuilt as `yuqing incident reindex` does); every third has a response on time, so the
    board mixes overdue, at-risk, on-track and met windows."""
    from sqlalchemy import delete, insert, select
    from sqlalchemy.orm import Session

    from yuqing.db import windows
    from yuqing.db.models import Action, Incident, OpenWindow, Unit
    from yuqing.db.session import Database

    database = Database(url)
    now = datetime.now(UTC)
    with database.engine.begin() as conn:
        conn.execute(delete(OpenWindow.__table__))
        conn.execute(delete(Action.__table__))
        conn.execute(delete(Incident.__table__))
        units = conn.execute(select(Unit.id, Unit.office_id).order_by(Unit.id)).all()  # each row carries its office
        rows = []
        for n in range(count):
            start = now - timedelta(minutes=1 + (n * 7919) % 7200)
            unit_id, office_id = units[n % len(units)]
            rows.append({
                "title": f"基准测试舆情 {n}：网民反映某小区问题", "unit_id": unit_id, "office_id": office_id, "status": "open",
                "preset": "sanmenxia-2017", "level": ("一般", "较大", "重大", None)[n % 4], "sudden": n % 5 == 0,
                "first_post_at": start, "detected_at": start, "logged_at": start, "started_at": start,
                "created_by": "bench", "suggested_fields": [],
            })
        conn.execute(insert(Incident.__table__), rows)
        ids = list(conn.execute(select(Incident.id, Incident.started_at, Incident.unit_id)))
        actions = [
            {"incident_id": i, "unit_id": u, "kind": "response", "at": min(at + timedelta(hours=2), now),
             "channels": ["website"], "by_principal": False, "recorded_at": now, "recorded_by": "bench"}
            for i, at, u in ids[::3]
        ]
        if actions:
            conn.execute(insert(Action.__table__), actions)
        with Session(bind=conn) as session:
            windows.rebuild(session)
    database.dispose()


def _data_seconds(url: str, runs: int) -> float:
    from yuqing.db.incidents import board_page
    from yuqing.db.session import Database

    database = Database(url)
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        with database.session() as session:
            page = board_page(session, datetime.now(UTC), limit=20)
        times.append(time.perf_counter() - started)
    database.dispose()
    assert page.entries or page.total == 0
    return statistics.median(times[1:])


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


ROUNDS = 3


def _spread(values: list[float]) -> str:
    return f"{min(values) * 1000:7.1f} / {statistics.median(values) * 1000:7.1f} / {max(values) * 1000:7.1f} ms"


def _open_axis(urls: dict[int, str], label: str) -> list[tuple[str, int, float, float]]:
    """One database per open count, measured in ROUNDS interleaved rounds (10, 100, 500, 5 000, 10, …),
    so a slow moment of the machine falls on every count alike; each sample is the median of OPEN_RUNS."""
    from yuqing.pages import common

    for count, url in urls.items():
        if cli.run(["--db", url, "init"], out=open(os.devnull, "w")) != 0:
            raise SystemExit("yuqing init failed")
        _bulk_open(url, count)
    data: dict[int, list[float]] = {count: [] for count in urls}
    render: dict[int, list[float]] = {count: [] for count in urls}
    for _ in range(ROUNDS):
        for count, url in urls.items():
            os.environ["YUQING_DATABASE_URL"] = url
            common.reset()
            data[count].append(_data_seconds(url, OPEN_RUNS))
            render[count].append(_render_seconds(OPEN_RUNS))
    base = OPEN_AXIS[0]
    results = []
    for count in urls:
        d, r = statistics.median(data[count]), statistics.median(render[count])
        results.append((label, count, d, r))
        print(
            f"{label:10s} {count:6,d} open: data call min/median/max {_spread(data[count])} "
            f"({d / statistics.median(data[base]):5.2f}×), render {_spread(render[count])} "
            f"({r / statistics.median(render[base]):5.2f}×)",
            flush=True,
        )
    common.reset()
    return results


def open_main(pg_url: str | None) -> None:
    _quiet()
    import uuid

    from sqlalchemy import text

    results = []
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as folder:
        os.environ["YUQING_DATA_DIR"] = folder
        os.environ.pop("YUQING_AUTH_HEADER", None)
        results += _open_axis({n: f"sqlite:///{Path(folder) / f'board-{n}.sqlite3'}" for n in OPEN_AXIS}, "SQLite")
        if pg_url:
            from yuqing.db.session import make_engine

            schemas = {n: f"bench_{uuid.uuid4().hex[:10]}" for n in OPEN_AXIS}
            admin = make_engine(pg_url)
            with admin.begin() as conn:
                for schema in schemas.values():
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                sep = "&" if "?" in pg_url else "?"
                results += _open_axis(
                    {n: f"{pg_url}{sep}options=-csearch_path%3D{schema}" for n, schema in schemas.items()}, "PostgreSQL")
            finally:
                with admin.begin() as conn:
                    for schema in schemas.values():
                        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()
    print()
    print(f"target (medians of {ROUNDS} interleaved rounds)          measured  met")
    for label in dict.fromkeys(r[0] for r in results):
        base_row = next(r for r in results if r[0] == label and r[1] == OPEN_AXIS[0])
        for count, limit in ((500, 1.5), (5_000, 3.0)):
            row = next(r for r in results if r[0] == label and r[1] == count)
            ratio = row[3] / base_row[3]
            print(f"{label:10s} render {count:5,d} open ≤ {limit}× 10 open   {ratio:6.2f}×  {'yes' if ratio <= limit else 'NO'}")
            report(f"board render {count:,} open / 10 open ({label})", f"≤ {limit}×", ratio, ratio <= limit)
    print(f"peak RSS of this process (AppTest runs the app in it): {_peak_mb():.0f} MB")


def _quiet() -> None:
    """AppTest outside `streamlit run` warns about the missing runtime on every cache call."""
    import logging

    logging.disable(logging.WARNING)


def main(items: int = 200_000, closed: int = 20_000) -> None:
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
        report(f"board render, history of {items:,} items + {closed:,} closed / empty", "≤ 1.5×", ratio, ratio <= 1.5,
               detail=f"medians of {RUNS} runs per side")


if __name__ == "__main__":
    if sys.argv[1:2] == ["open"]:
        open_main(sys.argv[2] if len(sys.argv) > 2 else None)
    else:
        main(*(int(a) for a in sys.argv[1:3]))
