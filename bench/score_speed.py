"""`score --year` speed through the database: a year of 100 000 incidents and ~300 000 actions across
all units, inserted in bulk (Core inserts) into an SQLite file, then scored by yuqing.db.scoring_reads.

Baseline in the same run: fetching the same incident and action rows with a SQLAlchemy Core select
(work any reader of the year does anyway). The baseline and the store (load_year + score + as_json)
are sampled in turns, ≥ 3 each, CPU time; prints min/median/max, the ratio of medians (target ≤ 5×),
then the whole `yuqing score --format json` command and the xlsx export (one run each).
Default 20 000 incidents; `--full` for the 100 000-incident year. `populate()` is the year builder
bench/pages_speed.py reuses.
Run: .venv/bin/python bench/score_speed.py [incidents | --full] [--samples N]
"""
from __future__ import annotations

import io
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ratio, report, sample, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from sqlalchemy import insert, select  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from classify.units import load_units_file  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from scoring import as_json, load_scheme  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from timeline.clock import BEIJING  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing import cli  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db import migrate  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.models import Action, Incident, IncidentCoUnit, Reclassification, Unit  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.models_scoring import DailyRecord, ManualScore, Referral  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.scoring_reads import load_year  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.service import Actor, Writer  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.session import Database  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.exports import export_xlsx  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.settings import UNITS_FILE  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

YEAR = 2025
KINDS = ("response", "release", "press_conference", "follow_up")
CHANNELS = ("website", "weibo", "wechat", "news_site", "newspaper", "app", "tv_radio", "press", "other")
LEVELS = ("一般", "一般", "一般", "较大", "重大", "特别重大")
BATCH = 20_000


def _insert(conn, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[start:start + BATCH])


def populate(database: Database, n: int, rng: random.Random) -> int:
    """Bulk-insert the synthetic year (no audit records: this is a load, not user writes)."""
    year_start = datetime(YEAR, 1, 1, tzinfo=BEIJING).astimezone(UTC)
    stamp = datetime(YEAR + 1, 1, 15, tzinfo=UTC)
    from yuqing.db.offices import root_office_id

    with database.session() as session:
        units = {u.code: (u.id, u.kind) for u in session.scalars(select(Unit).where(Unit.active.is_(True)))}
        office = root_office_id(session)
    unit_ids = [uid for uid, _ in units.values()]
    incidents, actions, co_units, regrades = [], [], [], []
    for i in range(1, n + 1):
        start = year_start + timedelta(seconds=rng.randrange(365 * 86400))
        level = rng.choice(LEVELS)
        sudden = rng.random() < 0.2
        unit_id = rng.choice(unit_ids)
        status = "voided" if rng.random() < 0.03 else rng.choice(("open", "closed", "closed"))
        incidents.append({
            "id": i, "office_id": office, "title": f"舆情{i}", "unit_id": unit_id, "parent_id": rng.randrange(1, i) if i > 10 and rng.random() < 0.02 else None,
            "level": level, "sudden": sudden, "category": None, "status": status, "preset": "sanmenxia-2017",
            "first_post_at": start, "detected_at": start + timedelta(minutes=20), "logged_at": start + timedelta(minutes=30),
            "started_at": start, "created_by": "bench", "suggested_fields": [],
        })
        for _ in range(rng.randint(1, 5)):
            actions.append({
                "incident_id": i, "unit_id": unit_id, "kind": rng.choice(KINDS),
                "at": start + timedelta(hours=rng.uniform(0.2, 40)), "channels": rng.sample(CHANNELS, rng.randint(1, 3)),
                "by_principal": rng.random() < 0.3, "recorded_at": stamp, "recorded_by": "bench",
            })
        if rng.random() < 0.1:
            co = rng.choice(unit_ids)
            if co != unit_id:
                co_units.append({"incident_id": i, "unit_id": co})
        if rng.random() < 0.01:
            regrades.append({"incident_id": i, "at": start + timedelta(hours=3), "actor": "bench", "reason": "核实",
                             "before": {"level": "一般", "sudden": False, "category": None},
                             "after": {"level": level, "sudden": sudden, "category": None}})
    scheme = load_scheme(YEAR)
    manual = [
        {"office_id": office, "unit_id": uid, "year": YEAR, "indicator": ind.code, "points": ind.points * 0.9, "note": "",
         "updated_at": stamp, "updated_by": "bench"}
        for uid, kind in units.values() for ind in scheme.tree(kind).indicators if not ind.computed
    ]
    referrals = []
    for _ in range(1, 5001):
        sent = year_start + timedelta(days=rng.randrange(360), hours=9)
        referrals.append({"office_id": office, "incident_id": rng.randrange(1, n + 1), "unit_id": rng.choice(unit_ids), "sent_at": sent,
                          "due_workdays": 5, "due_at": sent + timedelta(days=7),
                          "replied_at": sent + timedelta(days=rng.uniform(1, 10)) if rng.random() < 0.9 else None,
                          "created_at": sent, "created_by": "bench"})
    daily = [{"office_id": office, "unit_id": rng.choice(unit_ids), "on_date": date(YEAR, 1, 1) + timedelta(days=rng.randrange(365)),
              "points": rng.choice((-1.0, 0.5)), "reason": "抽查", "indicator": None, "created_at": stamp, "created_by": "bench"}
             for _ in range(2000)]
    with database.engine.begin() as conn:
        for table, rows in ((Incident.__table__, incidents), (Action.__table__, actions),
                            (IncidentCoUnit.__table__, co_units), (Reclassification.__table__, regrades),
                            (ManualScore.__table__, manual), (Referral.__table__, referrals), (DailyRecord.__table__, daily)):
            _insert(conn, table, rows)
    return len(actions)


def baseline_fetch(database: Database) -> int:
    """The same incident and action rows with plain Core selects, materialised."""
    inc, act, unit = Incident.__table__, Action.__table__, Unit.__table__
    lo = datetime(YEAR, 1, 1, tzinfo=BEIJING).astimezone(UTC)
    hi = datetime(YEAR + 1, 1, 1, tzinfo=BEIJING).astimezone(UTC)
    with database.engine.connect() as conn:
        incidents = conn.execute(
            select(inc.c.id, inc.c.title, unit.c.code, inc.c.started_at, inc.c.level, inc.c.sudden, inc.c.category,
                   inc.c.status, inc.c.preset, inc.c.parent_id)
            .join(unit, unit.c.id == inc.c.unit_id).where(inc.c.started_at >= lo, inc.c.started_at < hi)
        ).all()
        actions = conn.execute(
            select(act.c.incident_id, act.c.kind, act.c.at, act.c.channels, act.c.by_principal)
            .join(inc, inc.c.id == act.c.incident_id).where(inc.c.started_at >= lo, inc.c.started_at < hi)
        ).all()
    return len(incidents) + len(actions)


def build(url: str, n: int, now: datetime) -> int:
    """A migrated database at `url` with the unit registry and the synthetic year; returns the actions."""
    database = Database(url)
    try:
        migrate.upgrade(database.engine)
        _, refs = load_units_file(UNITS_FILE)
        with database.session() as session:
            Writer(session, Actor("bench"), now=now, preset="sanmenxia-2017").sync_units(refs)
        return populate(database, n, random.Random(20260610)) if n else 0
    finally:
        database.dispose()


NOW = datetime(YEAR + 1, 1, 31, 12, tzinfo=BEIJING).astimezone(UTC)


def main(n: int = 20_000, samples_per_side: int = 3) -> None:
    now = NOW
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        t0 = time.perf_counter()
        n_actions = build(url, n, now)
        print(f"inserted {n} incidents, {n_actions} actions in {time.perf_counter() - t0:.1f} s (Core executemany)")
        database = Database(url)
        rows = baseline_fetch(database)  # warm the page cache once, so neither side pays for the first read

        # The whole command first, so it does not pay for the objects the store runs below keep alive.
        out, err = io.StringIO(), io.StringIO()
        t0 = time.process_time()
        code = cli.run(["--db", url, "score", "--year", str(YEAR), "--now", now.isoformat(), "--format", "json"], out=out, err=err)
        command = time.process_time() - t0
        assert code == 0, err.getvalue()
        del out

        kept: dict[str, object] = {}

        def store() -> None:
            kept.clear()
            with database.session() as session:
                data = load_year(session, YEAR, now=now)
            results = data.score()
            as_json(results)
            kept["data"], kept["results"] = data, results

        samples = sample({"baseline Core select": lambda: baseline_fetch(database), "store (load_year + score + as_json)": store},
                         n=samples_per_side, clock=time.process_time)
        t0 = time.process_time()
        workbook = export_xlsx(kept["results"], kept["data"].incidents)  # type: ignore[attr-defined]
        xlsx = time.process_time() - t0
        database.dispose()

    print(f"baseline: incidents + actions, {rows} rows")
    show(samples)
    value = ratio(samples, "store (load_year + score + as_json)", "baseline Core select")
    report(f"score store / Core select ({n} incidents)", "≤ 5×", value, value <= 5)
    base = sorted(samples["baseline Core select"])[len(samples["baseline Core select"]) // 2]
    print(f"yuqing score --year {YEAR} --format json (whole command, one run) {command:7.2f} s   {command / base:.2f}× the median baseline")
    print(f"export_xlsx (汇总, 时效明细, 扣分明细, 加减分; {len(workbook) // 1024} KiB, one run) {xlsx:7.2f} s")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("incidents", nargs="?", type=int, default=20_000)
    parser.add_argument("--full", action="store_true", help="the 100 000-incident year")
    parser.add_argument("--samples", type=int, default=3)
    options = parser.parse_args()
    main(100_000 if options.full else options.incidents, options.samples)
