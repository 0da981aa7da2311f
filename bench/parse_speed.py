"""parse_feed vs bare `feedparser.parse` on the same bytes, same process: what our layer costs.

Our layer adds date reading, HTML → text, hashing and link normalisation on top of feedparser.
Run: .venv/bin/python bench/parse_speed.py [--rounds N]
"""
from __future__ import annotations

import argparse
import io
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from ingest.parse import parse_feed  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.errors import YuqingError  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
FETCHED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def ours(body: bytes) -> int:
    try:
        return len(parse_feed(body, fetched_at=FETCHED).items)
    except YuqingError:
        return 0


def bare(body: bytes) -> int:
    return len(feedparser.parse(io.BytesIO(body)).entries)


def timed(parse: Callable[[bytes], int], bodies: list[bytes], rounds: int) -> tuple[float, int]:
    best, items = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        items = sum(parse(body) for body in bodies)
        best = min(best, time.perf_counter() - start)
    return best, items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sets = {
        "zh (5 real Chinese feeds)": sorted((FEEDS / "zh").glob("*.xml")),
        "feedparser-tests (915 files)": sorted(
            p for p in (FEEDS / "feedparser-tests").rglob("*") if p.is_file() and p.name != "README.md"
        ),
    }
    for name, paths in sets.items():
        if not paths:
            print(f"{name}: missing")
            continue
        bodies = [path.read_bytes() for path in paths]
        ours(bodies[0]), bare(bodies[0])  # warm-up
        ours_s, ours_items = timed(ours, bodies, args.rounds)
        bare_s, bare_items = timed(bare, bodies, args.rounds)
        print(f"{name}: {sum(map(len, bodies)) / 1e6:.2f} MB")
        print(f"  parse_feed:       {ours_s * 1e3:8.1f} ms, {ours_items} items")
        print(f"  feedparser.parse: {bare_s * 1e3:8.1f} ms, {bare_items} entries")
        print(f"  our layer costs {ours_s / bare_s:.2f}x feedparser alone")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
