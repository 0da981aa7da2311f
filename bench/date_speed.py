"""Our feed-date parser vs plain `dateparser.parse` on the CEC report-time strings, same process.

Prints the speed ratio (target ≥ 50×), coverage of both, and every string where both give a date
but not the same instant. Run: .venv/bin/python bench/date_speed.py [--rounds N]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dateparser  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from ingest.dates import parse_date  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dates" / "cec_report_times.jsonl"
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


def timed(parse: Callable[[str], datetime | None], texts: list[str], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            parse(text)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds; the best one counts")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"missing data file: {DATA}")
        return 1
    texts = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    warnings.simplefilter("ignore", DeprecationWarning)

    # Warm both up (dateparser loads its language data on first use).
    ours(texts[0])
    baseline(texts[0])

    ours_s = timed(ours, texts, args.rounds)
    base_s = timed(baseline, texts, args.rounds)
    our_answers = {text: ours(text) for text in texts}
    base_answers = {text: baseline(text) for text in texts}

    n = len(texts)
    ours_ok = sum(our_answers[t] is not None for t in texts)
    base_ok = sum(base_answers[t] is not None for t in texts)
    both = [t for t in dict.fromkeys(texts) if our_answers[t] is not None and base_answers[t] is not None]
    disagree = [t for t in both if our_answers[t] != base_answers[t]]
    only_base = sorted({t for t in texts if our_answers[t] is None and base_answers[t] is not None})
    only_ours = sorted({t for t in texts if our_answers[t] is not None and base_answers[t] is None})

    print(f"strings: {n} ({len(set(texts))} distinct)")
    print(f"ours:       {ours_s * 1e6 / n:8.1f} µs/string, parsed {ours_ok}/{n} ({ours_ok / n:.1%})")
    print(f"dateparser: {base_s * 1e6 / n:8.1f} µs/string, parsed {base_ok}/{n} ({base_ok / n:.1%})")
    print(f"speed-up: {base_s / ours_s:.0f}x (target >= 50x)")
    print(f"both parse: {len(both)} distinct strings, disagreements: {len(disagree)}")
    for text in disagree:
        print(f"  DISAGREE {text!r}: ours {our_answers[text]}  dateparser {base_answers[text]}")
    for text in only_ours:
        print(f"  only ours       {text!r}: {our_answers[text]}")
    for text in only_base:
        print(f"  only dateparser {text!r}: {base_answers[text]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
