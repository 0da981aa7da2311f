"""Which title similarity separates 'same event' from 'another event of the same kind' better, on CEC.

Same event: an article's title against the first sentence of its own text (how a second outlet or a
hand-logged incident words the same event). Another event: the title against the first sentence of
another article of the same category. Prints, for rapidfuzz (ingest.triage.title_similarity) and for
token overlap after jieba, the best threshold and its precision / recall / F1.
Run: .venv/bin/python bench/similar_titles.py [../shared/data/cec/events.jsonl]
"""
from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import jieba  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from _common import report  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from ingest.triage import SIMILAR_INCIDENT, title_similarity  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

jieba.setLogLevel(60)
PATH = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "../shared/data/cec/events.jsonl")


def first_sentence(text: str) -> str:
    return re.split(r"[。！？\n]", text.strip(), maxsplit=1)[0][:60]


def jieba_overlap(a: str, b: str) -> float:
    x = {t for t in jieba.lcut(a) if t.strip() and not re.fullmatch(r"\W+", t)}
    y = {t for t in jieba.lcut(b) if t.strip() and not re.fullmatch(r"\W+", t)}
    return len(x & y) / len(x | y) if x and y else 0.0


def best(scores: list[tuple[float, bool]]) -> tuple[float, float, float, float]:
    out = (0.0, 0.0, 0.0, 0.0)
    for step in range(5, 100, 5):
        t = step / 100
        tp = sum(1 for s, same in scores if s >= t and same)
        fp = sum(1 for s, same in scores if s >= t and not same)
        fn = sum(1 for s, same in scores if s < t and same)
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        if f > out[3]:
            out = (t, p, r, f)
    return out


def main() -> None:
    if not PATH.is_file():
        print(f"skipped: {PATH} not found")
        return
    rows = [json.loads(line) for line in PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("title") and r.get("text")]
    rng = random.Random(12)
    pairs: list[tuple[str, str, bool]] = []
    for r in rows:
        pairs.append((r["title"], first_sentence(r["text"]), True))
        others = [o for o in rows if o["category"] == r["category"] and o is not r]
        for o in rng.sample(others, min(3, len(others))):
            pairs.append((r["title"], first_sentence(o["text"]), False))
    methods: dict[str, Callable[[str, str], float]] = {"rapidfuzz": title_similarity, "jieba-overlap": jieba_overlap}
    print(f"{len(rows)} articles, {len(pairs)} pairs")
    found = {}
    for name, fn in methods.items():
        found[name] = t, p, r, f = best([(fn(a, b), same) for a, b, same in pairs])
        print(f"{name:14s} threshold {t:.2f}  precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}")
    chosen, other = found["rapidfuzz"], found["jieba-overlap"]
    report("similar titles: rapidfuzz F1 (CEC)", f"≥ jieba overlap's {other[3]:.3f}", chosen[3], chosen[3] >= other[3])
    report("similar titles: best rapidfuzz threshold", f"= SIMILAR_INCIDENT {SIMILAR_INCIDENT}", chosen[0],
           abs(chosen[0] - SIMILAR_INCIDENT) < 1e-9)


if __name__ == "__main__":
    main()
