"""Pure scoring speed on a synthetic year: 100 000 incidents, ~300 000 actions, 53 units.

Baseline in the same process: judging the same incidents' windows with `timeline.engine.evaluate`
(work the caller does anyway). Prints seconds and the ratio scoring / baseline.
Run: .venv/bin/python bench/score_speed_pure.py [incidents]
"""
from __future__ import annotations

import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classify.units import load_units_file  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from scoring import (  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
    ActionFact,
    DailyRecord,
    ManualScore,
    Referral,
    ScoredIncident,
    as_json,
    load_scheme,
    score_year,
    scored_data_hash,
)
from timeline.clock import BEIJING  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from timeline.engine import ActionAt, Case, Grading, evaluate  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from timeline.presets import load_preset  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.exports import export_csv, export_xlsx  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.settings import UNITS_FILE  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

KINDS = ("response", "release", "press_conference", "follow_up")
CHANNELS = ("website", "weibo", "wechat", "news_site", "newspaper", "app", "tv_radio", "press", "other")


def main(n: int = 100_000) -> None:
    rng = random.Random(20260610)
    preset = load_preset("sanmenxia-2017")
    scheme = load_scheme(2026)
    _, units = load_units_file(UNITS_FILE)
    active = [u for u in units if u.active]
    now = datetime(2026, 12, 31, 18, tzinfo=BEIJING).astimezone(UTC)
    year_start = datetime(2026, 1, 1, tzinfo=BEIJING).astimezone(UTC)

    cases = []
    for i in range(1, n + 1):
        start = year_start + timedelta(seconds=rng.randrange(365 * 86400))
        level = rng.choice(("一般", "一般", "一般", "较大", "重大", "特别重大"))
        sudden = rng.random() < 0.2
        actions = tuple(
            ActionFact(rng.choice(KINDS), start + timedelta(hours=rng.uniform(0.2, 40)),
                       tuple(rng.sample(CHANNELS, rng.randint(1, 3))), rng.random() < 0.3)
            for _ in range(rng.randint(1, 5))
        )
        cases.append((i, start, level, sudden, actions))
    n_actions = sum(len(c[4]) for c in cases)

    t0 = time.perf_counter()
    incidents = []
    for i, start, level, sudden, actions in cases:
        verdict = evaluate(Case(start, Grading(level, sudden, None), tuple(ActionAt(a.kind, a.at) for a in actions)), preset, now=now)
        lead = rng.choice(active)
        co = (rng.choice(active).code,) if rng.random() < 0.1 else ()
        parent = rng.randrange(1, i) if i > 10 and rng.random() < 0.02 else None
        incidents.append(ScoredIncident(i, f"舆情{i}", lead.code, start, verdict, actions, co, parent, rng.random() < 0.03, level, sudden))
    baseline = time.perf_counter() - t0

    referrals = [
        Referral(k, rng.randrange(1, n + 1), rng.choice(active).code, s := year_start + timedelta(days=rng.randrange(360)),
                 s + timedelta(days=7), s + timedelta(days=rng.uniform(1, 10)) if rng.random() < 0.9 else None)
        for k in range(1, 5001)
    ]
    manual = [ManualScore(u.code, i.code, i.points * 0.9) for u in active for i in scheme.tree(u.kind).indicators if i.source == "manual"]
    daily = [DailyRecord(rng.choice(active).code, date(2026, 1, 1) + timedelta(days=rng.randrange(365)), rng.choice((-1, 0.5)), "抽查", None, k)
             for k in range(1, 2001)]

    t0 = time.perf_counter()
    results = score_year(scheme, active, 2026, incidents, referrals, manual, daily=daily, now=now)
    scoring = time.perf_counter() - t0
    t0 = time.perf_counter()
    as_json(results)
    json_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    scored_data_hash(scheme, 2026, active, incidents, referrals, manual, daily=daily)
    hash_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    export_csv(results)
    csv_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    export_xlsx(results, incidents)
    xlsx_time = time.perf_counter() - t0

    deductions = sum(len(i.deductions) for r in results for i in r.indicators)
    print(f"incidents {n}, actions {n_actions}, units {len(active)}, deductions {deductions}")
    print(f"baseline evaluate()      {baseline:7.2f} s")
    print(f"score_year               {scoring:7.2f} s   ratio {scoring / baseline:.2f}× baseline")
    print(f"as_json                  {json_time:7.2f} s")
    print(f"scored_data_hash         {hash_time:7.2f} s")
    print(f"export_csv               {csv_time:7.2f} s")
    print(f"export_xlsx (+时效明细)   {xlsx_time:7.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
