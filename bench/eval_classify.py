"""Measure the classifier against labelled data and print precision, recall and accuracy per field.

Sets: the CEC emergency corpus (every article is an event: `sudden` recall, category), CEC
environmental pollution (borderline, reported only), ordinary news (`sudden` false alarms), the 160
mixed politics/society items with our hand labels (tests/data/classify_hard_labels.jsonl), our own
labelled set (tests/data/classify_labels.jsonl, written before the rules), and three held-out sets
written later to check that the rules generalise (see HELD_OUT). Corpora live in ../shared/data.

    .venv/bin/python bench/eval_classify.py [-v]      # -v lists every miss
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import report  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from classify import Classifier, ClassifyResult  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from classify.units import load_units_file  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.settings import UNITS_FILE  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

REGISTRY = load_units_file(UNITS_FILE)[1]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LABELS = ROOT / "tests" / "data"
# The corpus's five labels mapped to the four categories (cec/README.md). Forest fires filed under 火灾
# are 自然灾害 by our rules (森林草原火灾), so category agreement on CEC is reported with that allowance.
CEC_CATEGORY = {
    "交通事故": "事故灾难", "火灾": "事故灾难", "地震": "自然灾害", "食物中毒": "公共卫生事件", "恐怖袭击": "社会安全事件",
}
FOREST_WORDS = ("森林", "山林", "林区", "草原", "山火", "草地", "草垛")
# Held-out sets, each written without looking at the classifier's output on it. The first two were
# measured once and then used to find general gaps in the rules (so they are no longer unseen); the
# third was measured once after all tuning and left alone. First measurements: holdout 1 sudden 83.8 %,
# category 81.1 %, level 94.6 %, unit 100 %; holdout 2 sudden 81.0 %, category 81.0 %, level 86.2 %,
# unit 100 %; holdout 3 sudden 91.7 %, category 91.7 %, level 100 %, unit 97.9 %.
HELD_OUT = ("classify_holdout.jsonl", "classify_holdout2.jsonl", "classify_holdout3.jsonl")
TARGETS = {
    "cec_recall": 0.99, "news_false_alarm": 0.01, "hard_sudden": 0.90,
    "own_sudden": 0.95, "own_category": 0.90, "own_level": 0.90, "own_unit": 0.90,
}


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def title_of(record: dict) -> str | None:
    """The title when it is not simply the text again (NLPCC headlines have title == text)."""
    title = record.get("title")
    return title if title and title != record["text"] else None


@dataclass
class Binary:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, truth: bool, guess: bool, label: str) -> None:
        if truth and guess:
            self.tp += 1
        elif truth:
            self.fn += 1
            self.misses.append(f"漏报 {label}")
        elif guess:
            self.fp += 1
            self.misses.append(f"误报 {label}")
        else:
            self.tn += 1

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.total if self.total else 1.0


@dataclass
class Agreement:
    right: int = 0
    wrong: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, truth: object, guess: object, label: str) -> None:
        if truth == guess:
            self.right += 1
        else:
            self.wrong += 1
            self.misses.append(f"{label}: 应为 {truth}，得到 {guess}")

    @property
    def accuracy(self) -> float:
        total = self.right + self.wrong
        return self.right / total if total else 1.0


def short(text: str, limit: int = 60) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def eval_cec(clf: Classifier) -> dict[str, object]:
    sudden, category = Binary(), Agreement()
    for r in read_jsonl(DATA / "cec" / "events.jsonl"):
        res = clf.classify(r["text"], title_of(r))
        label = f"{r['id']} [{r['category']}] {short(r['title'])}"
        sudden.add(True, res.sudden, label)
        if res.sudden:
            expected = CEC_CATEGORY[r["category"]]
            if r["category"] == "火灾" and res.category == "自然灾害" and any(w in r["title"] + r["text"] for w in FOREST_WORDS):
                expected = "自然灾害"
            category.add(expected, res.category, label)
    return {"sudden": sudden, "category": category}


def eval_environment(clf: Classifier) -> dict[str, Counter]:
    counts: dict[str, Counter] = {}
    for r in read_jsonl(DATA / "cec" / "environment_pollution.jsonl"):
        res = clf.classify(r["text"], title_of(r))
        counts.setdefault(r["subcategory"], Counter())[res.sudden] += 1
    return counts


def eval_news(clf: Classifier) -> Binary:
    sudden = Binary()
    for r in read_jsonl(DATA / "negatives" / "news.jsonl"):
        res = clf.classify(r["text"], title_of(r))
        sudden.add(False, res.sudden, f"{r['id']} [{r['category']}] {short(r['text'])}")
    return sudden


def eval_hard(clf: Classifier) -> dict[str, object]:
    labels = {r["id"]: r for r in read_jsonl(LABELS / "classify_hard_labels.jsonl")}
    sudden, category = Binary(), Agreement()
    records = read_jsonl(DATA / "negatives" / "mixed_politics_society.jsonl")
    if {r["id"] for r in records} != set(labels):
        raise SystemExit("classify_hard_labels.jsonl 与 mixed_politics_society.jsonl 的 id 不一致")
    for r in records:
        truth = labels[r["id"]]
        res = clf.classify(r["text"], title_of(r))
        label = f"{r['id']} {short(r['text'])}"
        sudden.add(truth["sudden"], res.sudden, label)
        if truth["sudden"] and truth.get("category") and res.sudden:
            category.add(truth["category"], res.category, label)
    return {"sudden": sudden, "category": category}


def eval_own(clf: Classifier, path: Path | None = None) -> dict[str, object]:
    sudden, category, level, unit = Binary(), Agreement(), Agreement(), Agreement()
    topics: dict[str, Binary] = {}
    for r in read_jsonl(path or LABELS / "classify_labels.jsonl"):
        res: ClassifyResult = clf.classify(r["text"], r.get("title"))
        label = f"{r['id']} {short((r.get('title') or '') + ' ' + r['text'])}"
        sudden.add(r["sudden"], res.sudden, label)
        category.add(r["category"], res.category, label)
        level.add(r["level"], res.level, label)
        unit.add(r["unit"], res.unit.code if res.unit else None, label)
        for code in clf.topic_names:
            if code == "unverified":  # set with a hearsay event; labelled only in the real-舆情 sets
                continue
            topics.setdefault(code, Binary()).add(code in r["topics"], code in res.topics, label)
    return {"sudden": sudden, "category": category, "level": level, "unit": unit, "topics": topics}


def evaluate(clf: Classifier) -> dict[str, dict]:
    return {
        "cec": eval_cec(clf),
        "environment": eval_environment(clf),
        "news": {"sudden": eval_news(clf)},
        "hard": eval_hard(clf),
        "own": eval_own(clf),
        **{name: eval_own(clf, LABELS / name) for name in HELD_OUT},
    }


def pct(value: float) -> str:
    return f"{100 * value:6.2f} %"


def print_misses(misses: Iterable[str], verbose: bool) -> None:
    if verbose:
        for miss in misses:
            print(f"      - {miss}")


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    clf = Classifier.default(REGISTRY)
    print(f"rules_version {clf.rules.version}; data {DATA}")
    if not DATA.is_dir():
        print("共享数据目录不存在，只评估自建标注集")
        results = {"own": eval_own(clf), **{name: eval_own(clf, LABELS / name) for name in HELD_OUT}}
    else:
        results = evaluate(clf)

    if "cec" in results:
        s, c = results["cec"]["sudden"], results["cec"]["category"]
        print(f"\nCEC events.jsonl ({s.total} 篇，全部为突发事件)")
        print(f"  sudden   recall {pct(s.recall)}  ({s.tp}/{s.total})   target ≥ {pct(TARGETS['cec_recall'])}")
        print_misses(s.misses, verbose)
        print(f"  category accuracy {pct(c.accuracy)}  ({c.right}/{c.right + c.wrong}, 森林火灾计为自然灾害)")
        print_misses(c.misses, verbose)
        print("\nCEC environment_pollution.jsonl (边界样本，仅报告)")
        for sub, counter in sorted(results["environment"].items()):
            total = counter[True] + counter[False]
            print(f"  {sub:6s} sudden {counter[True]:3d}/{total}")
        n = results["news"]["sudden"]
        print(f"\nnews.jsonl ({n.total} 篇普通新闻)")
        print(f"  sudden   false alarms {pct(n.fp / n.total)}  ({n.fp}/{n.total})   target ≤ {pct(TARGETS['news_false_alarm'])}")
        print_misses(n.misses, verbose)
        h, hc = results["hard"]["sudden"], results["hard"]["category"]
        print(f"\nmixed_politics_society.jsonl ({h.total} 篇，人工标注)")
        print(
            f"  sudden   accuracy {pct(h.accuracy)}  precision {pct(h.precision)}  recall {pct(h.recall)}"
            f"  (tp {h.tp} fp {h.fp} fn {h.fn} tn {h.tn})   target ≥ {pct(TARGETS['hard_sudden'])}"
        )
        print_misses(h.misses, verbose)
        print(f"  category accuracy {pct(hc.accuracy)}  ({hc.right}/{hc.right + hc.wrong}, 已标类别且判为突发)")
        print_misses(hc.misses, verbose)

    for name in ("own", *HELD_OUT):
        print_labelled(name, results[name], verbose)
    print()
    report_targets(results)
    for name in REAL:
        r = eval_real(clf, LABELS / name)
        s, c, u = r["sudden"], r["category"], r["unverified"]
        print(f"\n{name}（真实舆情样式：群体性事件、网传、设施困人、疫情、投诉、活动）: {s.total} 条")
        print(f"  sudden   accuracy {pct(s.accuracy)}  precision {pct(s.precision)}  recall {pct(s.recall)}"
              f"  (tp {s.tp} fp {s.fp} fn {s.fn} tn {s.tn})")
        print_misses(s.misses, verbose)
        print(f"  category accuracy {pct(c.accuracy)}  ({c.right}/{c.right + c.wrong})")
        print_misses(c.misses, verbose)
        print(f"  待核实   precision {pct(u.precision)}  recall {pct(u.recall)}  (tp {u.tp} fp {u.fp} fn {u.fn})")
        print_misses(u.misses, verbose)
    return 0


# Headlines and short posts written for issue 12 before its rules: 70 % tuned on, 30 % held out (seen
# once before and once after tuning). Before: tune sudden 76.6 %, holdout 67.4 %; after: 100 %, 100 %.
REAL = ("classify_real_tune.jsonl", "classify_real_holdout.jsonl")


def eval_real(clf: Classifier, path: Path) -> dict[str, object]:
    sudden, category, unverified = Binary(), Agreement(), Binary()
    for r in read_jsonl(path):
        res = clf.classify(r["text"], title_of(r))
        label = f"{r['id']} {short(r['text'])}"
        sudden.add(r["sudden"], res.sudden, label)
        category.add(r["category"], res.category, label)
        unverified.add(bool(r.get("unverified")), "unverified" in res.topics, label)
    return {"sudden": sudden, "category": category, "unverified": unverified}


def report_targets(results: dict[str, dict]) -> None:
    """Each TARGETS entry as one row of `make bench`'s table (the corpora's only when they are here)."""
    found: list[tuple[str, str, float, bool]] = []
    if "cec" in results:
        s, n, h = results["cec"]["sudden"], results["news"]["sudden"], results["hard"]["sudden"]
        found.append(("CEC sudden recall", f"≥ {TARGETS['cec_recall']:.0%}", s.recall, s.recall >= TARGETS["cec_recall"]))
        rate = n.fp / n.total
        found.append(("news sudden false alarms", f"≤ {TARGETS['news_false_alarm']:.0%}", rate, rate <= TARGETS["news_false_alarm"]))
        found.append(("mixed politics/society sudden accuracy", f"≥ {TARGETS['hard_sudden']:.0%}", h.accuracy,
                      h.accuracy >= TARGETS["hard_sudden"]))
    own = results["own"]
    found.append(("own labels sudden accuracy", f"≥ {TARGETS['own_sudden']:.0%}", own["sudden"].accuracy,
                  own["sudden"].accuracy >= TARGETS["own_sudden"]))
    for field_name in ("category", "level", "unit"):
        value = own[field_name].accuracy
        found.append((f"own labels {field_name} accuracy", f"≥ {TARGETS['own_' + field_name]:.0%}", value,
                      value >= TARGETS["own_" + field_name]))
    for name, target, value, ok in found:
        report(f"classifier: {name}", target, value, ok)


def print_labelled(name: str, own: dict, verbose: bool) -> None:
    s = own["sudden"]
    title = "classify_labels.jsonl（自建，先于规则编写）" if name == "own" else f"{name}（留出集）"
    print(f"\n{title}: {s.total} 条")
    target = lambda key: f"   target ≥ {pct(TARGETS[key])}" if name == "own" else ""  # noqa: E731 - a one-line label used in the report below
    print(
        f"  sudden   accuracy {pct(s.accuracy)}  precision {pct(s.precision)}  recall {pct(s.recall)}"
        f"  (tp {s.tp} fp {s.fp} fn {s.fn} tn {s.tn}){target('own_sudden')}"
    )
    print_misses(s.misses, verbose)
    for field_name in ("category", "level", "unit"):
        a = own[field_name]
        print(f"  {field_name:8s} accuracy {pct(a.accuracy)}  ({a.right}/{a.right + a.wrong}){target('own_' + field_name)}")
        print_misses(a.misses, verbose)
    for code, b in own["topics"].items():
        print(f"  topic {code:10s} precision {pct(b.precision)}  recall {pct(b.recall)}  (tp {b.tp} fp {b.fp} fn {b.fn})")
        print_misses(b.misses, verbose)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
