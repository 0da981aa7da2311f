"""Pure scoring speed on a synthetic year (default 20 000 incidents, ~60 000 actions, 53 units;
`--full` or a number for the 100 000-incident year).

Baseline in the same process: judging the same incidents' windows with `timeline.engine.evaluate`
(work the caller does anyway). Every input — cases, facts, referrals, manual scores — is built
before any clock starts; the two sides are then sampled in turns (≥ 3 each, CPU time) and the
ratio of medians score_year / evaluate is reported (target ≤ 5×).
Run: .venv/bin/python bench/score_speed_pure.py [incidents | --full] [--samples N]
"""
from __future__ import annotations

import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ratio, report, sample, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

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


def main(n: int = 20_000, samples_per_side: int = 3) -> None:
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
    engine_cases = [Case(start, Grading(level, sudden, None), tuple(ActionAt(a.kind, a.at) for a in actions))
                    for _, start, level, sudden, actions in cases]
    owners = []
    for i in range(1, n + 1):
        lead = rng.choice(active)
        co = (rng.choice(active).code,) if rng.random() < 0.1 else ()
        parent = rng.randrange(1, i) if i > 10 and rng.random() < 0.02 else None
        owners.append((lead.code, co, parent, rng.random() < 0.03))
    verdicts = [evaluate(case, preset, now=now) for case in engine_cases]
    incidents = [ScoredIncident(i, f"舆情{i}", lead, start, verdict, actions, co, parent, flagged, level, sudden)
                 for (i, start, level, sudden, actions), verdict, (lead, co, parent, flagged) in zip(cases, verdicts, owners)]

    referrals = [
        Referral(k, rng.randrange(1, n + 1), rng.choice(active).code, s := year_start + timedelta(days=rng.randrange(360)),
                 s + timedelta(days=7), s + timedelta(days=rng.uniform(1, 10)) if rng.random() < 0.9 else None)
        for k in range(1, 5001)
    ]
    manual = [ManualScore(u.code, i.code, i.points * 0.9) for u in active for i in scheme.tree(u.kind).indicators if i.source == "manual"]
    daily = [DailyRecord(rng.choice(active).code, date(2026, 1, 1) + timedelta(days=rng.randrange(365)), rng.choice((-1, 0.5)), "抽查", None, k)
             for k in range(1, 2001)]

    kept: dict[str, object] = {}

    def baseline() -> None:
        kept["verdicts"] = [evaluate(case, preset, now=now) for case in engine_cases]

    def scoring() -> None:
        kept["results"] = score_year(scheme, active, 2026, incidents, referrals, manual, daily=daily, now=now)

    samples = sample({"evaluate() (baseline)": baseline, "score_year": scoring}, n=samples_per_side, clock=time.process_time)
    results = score_year(scheme, active, 2026, incidents, referrals, manual, daily=daily, now=now)
    t0 = time.process_time()
    as_json(results)
    json_time = time.process_time() - t0
    t0 = time.process_time()
    scored_data_hash(scheme, 2026, active, incidents, referrals, manual, daily=daily)
    hash_time = time.process_time() - t0
    t0 = time.process_time()
    export_csv(results)
    csv_time = time.process_time() - t0
    t0 = time.process_time()
    export_xlsx(results, incidents)
    xlsx_time = time.process_time() - t0

    deductions = sum(len(i.deductions) for r in results for i in r.indicators)
    print(f"incidents {n}, actions {n_actions}, units {len(active)}, deductions {deductions}")
    show(samples)
    value = ratio(samples, "score_year", "evaluate() (baseline)")
    report(f"score_year / evaluate ({n} incidents)", "≤ 5×", value, value <= 5)
    print(f"as_json                  {json_time:7.2f} s (one run)")
    print(f"scored_data_hash         {hash_time:7.2f} s")
    print(f"export_csv               {csv_time:7.2f} s")
    print(f"export_xlsx (+时效明细)   {xlsx_time:7.2f} s")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("incidents", nargs="?", type=int, default=20_000)
    parser.add_argument("--full", action="store_true", help="the 100 000-incident year")
    parser.add_argument("--samples", type=int, default=3)
    options = parser.parse_args()
    main(100_000 if options.full else options.incidents, options.samples)
