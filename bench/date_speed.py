"""Our feed-date parser vs plain `dateparser.parse`, same process, on two sets of CEC strings: the
report times (absolute dates, target ≥ 50×) and the time expressions in the reports (relative ones:
昨天下午、7月23日下午、5时10分左右, target ≥ 1×, i.e. never slower than dateparser).

Sides interleaved (ours, dateparser, ours, …), ≥ 3 samples each, CPU time: min/median/max and the
ratio of medians. Then coverage of both and every string where both give a date but not the same
instant. Run: .venv/bin/python bench/date_speed.py [--samples N] [--full]  (--full: every relative
string; by default every 4th)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dateparser  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from _common import each, ratio, report, sample, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from ingest.dates import parse_date  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

DATES = Path(__file__).resolve().parents[2] / "shared" / "data" / "dates"
DATA = DATES / "cec_report_times.jsonl"
RELATIVE = DATES / "cec_time_expressions.jsonl"
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"
# The baseline as a caller would write it: the same zone and base, languages zh + en.
BASELINE_SETTINGS = {
    "RELATIVE_BASE": datetime(2026, 11, 24, 10, 0),  # NOW as Beijing wall time
    "TIMEZONE": TZ,
    "RETURN_AS_TIMEZONE_AWARE": True,
}


def ours(text: str) -> datetime | None:
    return parse_date(text, now=NOW, tz=TZ)


def baseline(text: str) -> datetime | None:
    found = dateparser.parse(text, languages=["zh", "en"], settings=BASELINE_SETTINGS)
    return None if found is None else found.astimezone(UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=3, help="interleaved samples per side (≥ 3)")
    parser.add_argument("--full", action="store_true", help="every relative string (default: every 4th)")
    args = parser.parse_args()
    if not DATA.exists() or not RELATIVE.exists():
        print(f"missing data files under {DATES}")
        return 1
    warnings.simplefilter("ignore", DeprecationWarning)
    relative = [json.loads(line)["text"] for line in RELATIVE.read_text(encoding="utf-8").splitlines() if line]
    sets = {
        "absolute (CEC report times)": ([json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines() if line], 50.0),
        "relative (CEC time expressions)": (relative if args.full else relative[::4], 1.0),
    }
    # Warm both up (dateparser loads its language data on first use).
    ours(sets["absolute (CEC report times)"][0][0])
    baseline(sets["absolute (CEC report times)"][0][0])
    for name, (texts, target) in sets.items():
        samples = sample({"ours": each(ours, texts), "dateparser": each(baseline, texts)}, n=args.samples, clock=time.process_time)
        our_answers = {text: ours(text) for text in texts}
        base_answers = {text: baseline(text) for text in texts}
        n = len(texts)
        ours_ok = sum(our_answers[t] is not None for t in texts)
        base_ok = sum(base_answers[t] is not None for t in texts)
        print(f"{name}: {n} strings ({len(set(texts))} distinct); parsed: ours {ours_ok} ({ours_ok / n:.1%}), "
              f"dateparser {base_ok} ({base_ok / n:.1%})")
        show(samples, unit="µs/string", scale=1e6, per=n)
        value = ratio(samples, "dateparser", "ours")
        report(f"dates {name.split(' (')[0]}: dateparser / ours", f"≥ {target:g}×", value, value >= target)
        both = [t for t in dict.fromkeys(texts) if our_answers[t] is not None and base_answers[t] is not None]
        disagree = [t for t in both if our_answers[t] != base_answers[t]]
        print(f"  both parse: {len(both)} distinct strings, disagreements: {len(disagree)}")
        if name.startswith("absolute"):  # relative strings: the two read 下午 / 左右 differently by design
            for text in disagree:
                print(f"    DISAGREE {text!r}: ours {our_answers[text]}  dateparser {base_answers[text]}")
            for text in sorted({t for t in texts if our_answers[t] is not None and base_answers[t] is None}):
                print(f"    only ours       {text!r}: {our_answers[text]}")
            for text in sorted({t for t in texts if our_answers[t] is None and base_answers[t] is not None}):
                print(f"    only dateparser {text!r}: {base_answers[text]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
