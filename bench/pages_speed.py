"""The dashboard's 待研判 and 单位考核 pages on a year of incidents and pending items vs an empty database.

The year is bench/score_speed.py's builder (incidents, actions, referrals, manual and daily scores)
plus as many pending triage items in groups of about three (Core inserts). Each sample is a fresh
Python process that renders, through Streamlit's AppTest (the page scripts as `yuqing serve` runs
them, server side), first the board (untimed warm-up: imports, login, and jieba's dictionary, which
`yuqing serve` loads at start; Streamlit's emoji table, which the first st.info of a process imports), then 待研判, then 单位考核 for the year, and reports each page's CPU
time and the process's resident memory after both pages.

待研判 is viewed three times: the first view in the process (reported on its own line; it tokenises
the units' open incidents for the similar-incident warnings, kept for the process); a later view
with the page's cached reads cleared (as their 5-second TTL clears them: what a colleague's view or a
page left open sees while the queue is unchanged): the sample; and a view after a change (reported
on its own line), with the queue's counts and the similar-incident pools — kept between views of an
unchanged queue, keyed by the newest item, incident and audit record — dropped as a write drops them.
The page scripts are compiled once per process, as `yuqing serve` does (AppTest would recompile them
on every run).

单位考核 shows the year's ranking kept under the key of the data it came from (yuqing.pages.
scorecards): the first view after a change scores the year and keeps it. That first view is one
untimed-for-the-target child per side before the samples, reported on its own line; the samples are
the views that follow (what every user after the first sees until the next write or deadline).
Sides take turns (empty, small, year, empty, small, year …; ≥ 3 each); `small` is a year of 300
incidents and 300 pending items, enough to fill the pages (100 groups), so year / small is what the
year behind a page costs and year / empty also counts drawing the page's 20 groups at all. Targets:
each page on the year ≤ 2× the empty database's median, the process after both pages < 400 MB.
Run: .venv/bin/python bench/pages_speed.py [--incidents N] [--full] [--samples N] [--keep DIR]
     (default 20 000 incidents and items; --full: 100 000 of each; --keep: build the databases in DIR
     once and reuse them on later runs)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import report, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

RSS_LIMIT_MB = 400
PLACES = ("灵宝市", "渑池县", "卢氏县", "义马市", "陕州区", "湖滨区")
EVENTS = ("某小区发生燃气爆燃，已致2人受伤", "网民反映冬季供暖不热", "一工厂发生火灾，无人员伤亡", "国道发生交通事故")
UNIT_CODES = ("lingbao", "mianchi", "lushi", "yima", "shanzhou", "hubin")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The third side: a year of SMALL incidents and SMALL pending items (SMALL // 3 groups, more than a
# page of 待研判 shows): what the same page costs when the year behind it is small.
SMALL = 300


def add_items(url: str, n: int) -> None:
    """n pending items in groups of about three, every 9th flagged, published over the year."""
    from score_speed import YEAR
    from sqlalchemy import insert

    from yuqing.db.heads import refresh_heads
    from yuqing.db.models import Item
    from yuqing.db.session import Database

    rng = random.Random(19)
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    from yuqing.db.offices import root_office_id

    database = Database(url)
    with database.session() as session:
        office = root_office_id(session)
    rows = []
    for i in range(n):
        place, event = PLACES[i % len(PLACES)], EVENTS[i % len(EVENTS)]
        flagged = i % 9 == 0
        published = start + timedelta(seconds=rng.randrange(365 * 86400))
        rows.append({
            "office_id": office, "source": "测试源", "title": f"{place}{event}（{i}）", "link": f"https://news.example.cn/{i}", "normalized_link": "",
            "summary": f"{place}消息：{event}。", "content_text": f"{place}消息：{event}。相关部门已介入。", "author": "",
            "published_at": published, "published_clamped": False, "content_hash": f"{i:064x}", "fetched_at": published,
            "classification": {"flagged": flagged, "topics": ["燃气"] if i % 4 == 0 else [], "category": None, "level": None,
                               "keywords": [], "rules_version": "bench"},
            "flagged": flagged, "unit_code": UNIT_CODES[i % len(UNIT_CODES)], "group_key": f"g-{i // 3}",
            "triage_status": "pending", "triage_reason": "flagged" if flagged else "topic",
        })
    try:
        with database.engine.begin() as conn:
            for at in range(0, len(rows), 20_000):
                conn.execute(insert(Item.__table__), rows[at:at + 20_000])
        with database.session() as session:  # each group's head, as intake keeps them
            refresh_heads(session, office, (row["group_key"] for row in rows))
    finally:
        database.dispose()


def child(url: str, data_dir: str, year: int) -> None:
    """One sample: render board (warm-up), 待研判, 单位考核; print the figures as one JSON line."""
    os.environ["YUQING_DATABASE_URL"] = url
    os.environ["YUQING_DATA_DIR"] = data_dir
    os.environ.pop("YUQING_AUTH_HEADER", None)
    # `yuqing serve` compiles each page script once (its runtime's one ScriptCache); AppTest makes a
    # new cache on every run, recompiling dashboard.py and the page each time (about 14 ms, on both
    # sides alike, which flattered the ratio): one cache for the process, as serve has.
    import streamlit.testing.v1.app_test as app_test
    import streamlit.testing.v1.local_script_runner as local_script_runner
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest

    from tests.cliutil import session_for  # a login session as the login form opens one
    from yuqing.db.service import Actor
    from yuqing.server import warm_tokenizer

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared  # type: ignore[assignment,misc]
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=900)
    at.session_state["yq_session"] = session_for(url, Actor("office", "admin"))
    at.session_state["scores_year"] = year
    at.run()
    warm_tokenizer()  # as `yuqing serve` does at start
    import streamlit.emojis  # noqa: F401 - imported by a process's first st.info (the empty board has one; a busy one not)
    figures: dict[str, float] = {"rss_warm_mb": rss_mb()}
    from yuqing.pages import common

    for page in ("triage", "scores"):
        at.switch_page(f"yuqing/pages/{page}.py")
        if page == "triage":  # the first view in this process, then a later one (its reads not cached)
            start = time.process_time()
            at.run()
            figures["triage_first"] = time.process_time() - start
            common.refresh()  # what a write or the reads' 5-second TTL does between two views
        start = time.process_time()
        at.run()
        figures[page] = time.process_time() - start
        if page == "triage":  # the first view after a change: counts and similar-incident pools anew
            from yuqing.db import triage

            triage._KEPT.clear()
            common.refresh()
            start = time.process_time()
            at.run()
            figures["triage_changed"] = time.process_time() - start
        if at.exception:
            raise SystemExit(f"{page}: {[e.value for e in at.exception]}")
        titles = [t.value for t in at.title]
        if titles != [{"triage": "待研判", "scores": "单位考核"}[page]] or at.error:
            raise SystemExit(f"{page} did not render: titles {titles}, errors {[e.value for e in at.error]}")
    figures["rss_mb"] = rss_mb()
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def run_child(url: str, data_dir: str, year: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", url, data_dir, str(year)], capture_output=True, text=True,
                          timeout=1800, check=False)
    if done.returncode != 0:
        raise SystemExit(f"sample failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=20_000, help="incidents and pending items in the year")
    parser.add_argument("--full", action="store_true", help="100 000 incidents and 100 000 pending items")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="build the databases in DIR once and reuse them")
    parser.add_argument("--child", nargs=3, metavar=("URL", "DATA_DIR", "YEAR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return 0
    if args.samples < 3:
        raise SystemExit("at least 3 samples per side")
    n = 100_000 if args.full else args.incidents
    from score_speed import NOW, YEAR, build

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kept = Path(args.keep) if args.keep else folder
        kept.mkdir(parents=True, exist_ok=True)
        empty_file, year_file = kept / "empty.sqlite3", kept / f"year-{n}.sqlite3"
        small_file = kept / f"small-{SMALL}.sqlite3"
        empty, year, small = f"sqlite:///{empty_file}", f"sqlite:///{year_file}", f"sqlite:///{small_file}"
        for reused in (u for u, f in ((empty, empty_file), (year, year_file), (small, small_file)) if f.exists()):
            from yuqing import cli  # a reused database is brought to the current schema, as `yuqing init` does

            if cli.run(["--db", reused, "init"], out=open(os.devnull, "w")) != 0:
                raise SystemExit(f"yuqing init failed on {reused}")
        if not empty_file.exists():
            build(empty, 0, NOW)
        if not small_file.exists():  # a small queue that still fills a page of 待研判
            build(small, SMALL, NOW)
            add_items(small, SMALL)
        if not year_file.exists():
            t0 = time.perf_counter()
            actions = build(year, n, NOW)
            add_items(year, n)
            print(f"year: {n} incidents, {actions} actions, {n} pending items (built in {time.perf_counter() - t0:.0f} s)")
        else:
            print(f"year: {n} incidents and pending items, reused from {year_file}")
        first = {side: run_child(url, str(folder / f"data-{side}"), YEAR) for side, url in (("empty", empty), ("year", year))}
        for side, f in first.items():
            print(f"first view after a change, {side}: 单位考核 {f['scores']:.2f} CPU s (scores the year and keeps it), "
                  f"待研判 {f['triage']:.2f} CPU s, RSS after both {f['rss_mb']:.0f} MB (peak {f['peak_mb']:.0f} MB)")
        report(f"单位考核 first view after a change: {n}-incident year / empty", "none (measured)",
               first["year"]["scores"] / first["empty"]["scores"], None, detail=f"{first['year']['scores']:.1f} CPU s")
        figures: dict[str, list[dict[str, float]]] = {"empty": [], "small": [], "year": []}
        for _ in range(args.samples):
            for side, url in (("empty", empty), ("small", small), ("year", year)):
                figures[side].append(run_child(url, str(folder / f"data-{side}"), YEAR))
    changed = {side: statistics.median(f["triage_changed"] for f in figures[side]) for side in figures}
    print(f"待研判 first view after a change: year {changed['year']:.3f} s, empty {changed['empty']:.3f} s (medians)")
    report(f"待研判 first view after a change: {n}-incident year / empty", "none (measured)",
           changed["year"] / changed["empty"], None, detail=f"{changed['year']:.3f} CPU s")
    first = {side: statistics.median(f["triage_first"] for f in figures[side]) for side in figures}
    print(f"待研判 first view in a fresh process: year {first['year']:.2f} s, empty {first['empty']:.2f} s (medians)")
    report(f"待研判 first view in a fresh process: {n}-incident year / empty", "none (measured)",
           first["year"] / first["empty"], None, detail=f"{first['year']:.2f} CPU s")
    for page, title in (("triage", "待研判"), ("scores", "单位考核")):
        samples = {f"{title} {side}": [f[page] for f in figures[side]] for side in figures}
        print(f"{title} page (CPU s of the page run):")
        show(samples)
        value = statistics.median(samples[f"{title} year"]) / statistics.median(samples[f"{title} empty"])
        report(f"{title} page: {n}-incident year / empty", "≤ 2×", value, value <= 2)
        value = statistics.median(samples[f"{title} year"]) / statistics.median(samples[f"{title} small"])
        report(f"{title} page: {n}-incident year / a {SMALL}-incident year (a page as full)", "none (measured)",
               value, None)
    for side in figures:
        rss = [f["rss_mb"] for f in figures[side]]
        peak = [f["peak_mb"] for f in figures[side]]
        print(f"process after both pages, {side}: RSS min {min(rss):.0f} median {statistics.median(rss):.0f} "
              f"max {max(rss):.0f} MB; peak median {statistics.median(peak):.0f} MB")
    value = statistics.median(f["rss_mb"] for f in figures["year"])
    report(f"Streamlit process RSS after both pages ({n}-incident year)", f"< {RSS_LIMIT_MB} MB", value,
           value < RSS_LIMIT_MB, detail=f"empty {statistics.median(f['rss_mb'] for f in figures['empty']):.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
