"""parse_feed vs bare `feedparser.parse` on the same bytes, same process: what our layer costs.

The baseline calls feedparser exactly as ingest.parse does (a BytesIO body, sanitize_html=False,
resolve_relative_uris=False), so the ratio is what our layer adds on top: date reading, HTML → text,
hashing and link normalisation. Sides interleaved, ≥ 3 samples each, CPU time of this process.
Run: .venv/bin/python bench/parse_speed.py [--samples N] [--full]   (--full: all 915 feedparser test files)
"""
from __future__ import annotations

import argparse
import io
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import feedparser  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from _common import each, ratio, report, sample, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from ingest.parse import parse_feed  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.errors import YuqingError  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
FETCHED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
TARGET = 2.0  # our layer may cost at most twice feedparser with the same options


def ours(body: bytes) -> int:
    try:
        return len(parse_feed(body, fetched_at=FETCHED).items)
    except YuqingError:
        return 0


def bare(body: bytes) -> int:
    """feedparser with the options ingest.parse passes (no HTML sanitising, no URI resolution)."""
    try:
        return len(feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False).entries)
    except Exception:  # noqa: BLE001 - ingest.parse turns the same crashes into "not a feed"
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="every feedparser test file (default: every 5th)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    tests = sorted(p for p in (FEEDS / "feedparser-tests").rglob("*") if p.is_file() and p.name != "README.md")
    sets = {
        "zh (5 real Chinese feeds)": sorted((FEEDS / "zh").glob("*.xml")),
        f"feedparser-tests ({'all' if args.full else 'every 5th of'} {len(tests)} files)": tests if args.full else tests[::5],
    }
    for name, paths in sets.items():
        if not paths:
            print(f"{name}: missing")
            continue
        bodies = [path.read_bytes() for path in paths]
        ours(bodies[0]), bare(bodies[0])  # warm-up
        counts = {"parse_feed": sum(map(ours, bodies)), "feedparser.parse": sum(map(bare, bodies))}
        samples = sample({"parse_feed": each(ours, bodies), "feedparser.parse": each(bare, bodies)}, n=args.samples,
                         clock=time.process_time)
        print(f"{name}: {sum(map(len, bodies)) / 1e6:.2f} MB, items {counts['parse_feed']} (feedparser entries "
              f"{counts['feedparser.parse']})")
        show(samples, unit="ms", scale=1e3)
        value = ratio(samples, "parse_feed", "feedparser.parse")
        report(f"parse {name.split(' (')[0]}: ours / feedparser (same options)", f"≤ {TARGET:g}×", value, value <= TARGET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
