"""Classifier throughput as a ratio to warm `jieba.lcut` on the same texts, in the same process.

20 000 distinct sentence-level texts are cut from the corpora in ../shared/data (sentences first, then
pairs of sentences until there are enough). The baseline is jieba's default tokenizer with the same
user dictionary the classifier uses, so the ratio measures our work on top of segmenting everything.
A ratio above 1.0 means the classifier is faster than segmenting the texts (its prefilter spares most
sentences full segmentation).

    .venv/bin/python bench/classify_speed.py [N]   (default 20 000 texts, 5 interleaved samples per side)
"""
from __future__ import annotations

import json
import re
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import each, ratio, report, sample, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from classify import Classifier  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from classify.segment import add_user_words  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from classify.units import load_units_file  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.settings import UNITS_FILE  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

REGISTRY = load_units_file(UNITS_FILE)[1]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = (
    "cec/events.jsonl", "cec/environment_pollution.jsonl", "negatives/news.jsonl",
    "negatives/mixed_politics_society.jsonl",
)
SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n")
MIN_CHARS = 6
ROUNDS = 5


def corpus_texts(count: int) -> list[str]:
    """`count` distinct texts: every sentence, then sentence pairs (neighbours first, then further apart)."""
    documents: list[list[str]] = []
    for name in CORPORA:
        with (DATA / name).open(encoding="utf-8") as handle:
            for line in handle:
                text = json.loads(line)["text"]
                parts = [s.strip() for s in SENTENCE_END.split(text)]
                documents.append([s for s in parts if len(s) >= MIN_CHARS])
    sentences = [s for doc in documents for s in doc]
    chosen: dict[str, None] = dict.fromkeys(sentences)
    offset = 1
    while len(chosen) < count and offset < len(sentences):
        for a, b in zip(sentences, sentences[offset:]):
            chosen.setdefault(a + b)
            if len(chosen) >= count:
                break
        offset += 1
    texts = list(chosen)[:count]
    if len(texts) < count:
        raise SystemExit(f"语料只能切出 {len(texts)} 条不同的文本，少于 {count}")
    return texts


def timed(run, texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        run(text)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 20_000
    if not DATA.is_dir():
        print(f"找不到共享数据目录 {DATA}")
        return 1
    texts = corpus_texts(count)
    clf = Classifier.default(REGISTRY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba

        jieba.setLogLevel(60)
        jieba.initialize()
    add_user_words(jieba.dt, clf.user_words)

    # Warm both sides on the same texts, then sample them in turns (min/median/max, ratio of medians).
    timed(jieba.lcut, texts)
    timed(clf.classify, texts)
    samples = sample({"jieba.lcut (same user dictionary)": each(jieba.lcut, texts), "Classifier.classify": each(clf.classify, texts)},
                     n=ROUNDS, clock=time.process_time)
    flagged = sum(clf.classify(t).sudden for t in texts)
    chars = sum(map(len, texts))
    print(f"texts {len(texts)}  characters {chars}  mean {chars / len(texts):.1f} per text  sudden {flagged}")
    show(samples)
    value = ratio(samples, "jieba.lcut (same user dictionary)", "Classifier.classify")
    report("classify throughput: classifier / jieba.lcut", "≥ 0.8", value, value >= 0.8)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
