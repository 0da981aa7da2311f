"""What every bench script shares: interleaved samples, min/median/max, the ratio of medians, and one
line per target appended to the results file `make bench` names in BENCH_RESULTS.

    samples = sample({"ours": run_ours, "baseline": run_baseline}, n=3)   # ours, baseline, ours, baseline …
    show(samples)                                                          # min / median / max per side
    r = ratio(samples, "ours", "baseline")                                 # median(ours) / median(baseline)
    report("parse: ours / feedparser", "≤ 2", r, r <= 2)

Run alone (`python bench/_common.py RESULTS.jsonl`) it prints the summary table of a results file.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS_ENV = "BENCH_RESULTS"


def sample(sides: dict[str, Callable[[], Any]], n: int = 3, *, clock: Callable[[], float] = time.perf_counter,
           before: Callable[[str], Any] | None = None, minimum: int = 3) -> dict[str, list[float]]:
    """Time each side `n` times, the sides taking turns (a, b, a, b …) so that a change in machine load
    falls on both. `before(name)`, when given, runs untimed before each sample (resetting state).
    `minimum` may be lowered for a size that takes minutes a sample; the caller then says so."""
    if n < minimum:
        raise SystemExit(f"at least {minimum} samples per side")
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(n):
        for name, work in sides.items():
            if before is not None:
                before(name)
            start = clock()
            work()
            times[name].append(clock() - start)
    return times


def each(work: Callable[[Any], Any], values: list[Any]) -> Callable[[], list[Any]]:
    """A sample's work: `work` on every one of `values`."""
    return lambda: [work(v) for v in values]


def summary(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def show(samples: dict[str, list[float]], *, unit: str = "s", scale: float = 1.0, per: float = 1.0,
         indent: str = "  ") -> None:
    """min / median / max of every side (times `scale`, divided by `per`: e.g. µs per string)."""
    width = max(len(name) for name in samples)
    for name, values in samples.items():
        low, mid, high = (v * scale / per for v in summary(values))
        print(f"{indent}{name:<{width}}  min {low:10.3f}  median {mid:10.3f}  max {high:10.3f} {unit}"
              f"  ({len(values)} samples)")


def ratio(samples: dict[str, list[float]], top: str, bottom: str) -> float:
    """median(top) / median(bottom)."""
    return statistics.median(samples[top]) / statistics.median(samples[bottom])


def report(name: str, target: str, value: float, ok: bool | None, *, detail: str = "") -> None:
    """Print one target's outcome and append it to the results file, if `make bench` gave one. `ok` is
    None for a figure measured without a target (the table shows — for it)."""
    verdict = "measured" if ok is None else ("OK" if ok else "NOT MET")
    print(f"  => {name}: {value:.3g} (target {target}) {verdict}{'  ' + detail if detail else ''}")
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"script": Path(sys.argv[0]).name, "name": name, "target": target,
                                  "value": value, "ok": ok, "detail": detail}, ensure_ascii=False) + "\n")


def skipped(name: str, reason: str) -> None:
    """A measure that could not run here (e.g. it needs PostgreSQL): a row of the summary table saying why."""
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"script": Path(sys.argv[0]).name, "name": name, "skipped": reason},
                                 ensure_ascii=False) + "\n")


def table(path: Path) -> int:
    """The summary table of a results file (a target not met is reported, not an error)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()] \
        if path.exists() else []
    if not rows:
        print("no benchmark reported a target")
        return 0
    header = ("script", "measure", "value", "target", "met", "detail")
    lines = [(r["script"], r["name"], "—", "—", "skipped", r["skipped"]) if "skipped" in r else
             (r["script"], r["name"], f"{r['value']:.3g}", r["target"], "—" if r["ok"] is None else ("yes" if r["ok"] else "NO"),
              r.get("detail", "")) for r in rows]
    widths = [max(_width(x) for x in column) for column in zip(header, *lines)]
    print()
    print("== summary")
    for line in (header, *lines):
        print("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(line, widths)))
    ran = [r for r in rows if "skipped" not in r]
    targets = [r for r in ran if r["ok"] is not None]
    missed = sum(1 for r in targets if not r["ok"])
    print(f"{len(targets) - missed}/{len(targets)} targets met ({len(ran) - len(targets)} figures without a target"
          + (f", {len(rows) - len(ran)} skipped)" if len(rows) > len(ran) else ")"))
    return 0


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


if __name__ == "__main__":
    raise SystemExit(table(Path(sys.argv[1])))
