"""The labelled evaluation sets, with thresholds a little under the targets so a regression fails.

The measuring code is bench/eval_classify.py (run it for the full report); the corpora live in
../shared/data next to this repository.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from classify import Classifier
from classify.units import load_units_file
from yuqing.settings import UNITS_FILE

REGISTRY = load_units_file(UNITS_FILE)[1]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BENCH = Path(__file__).resolve().parents[1] / "bench" / "eval_classify.py"


def _load_eval() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_classify", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


evaluation = _load_eval()
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared corpora not found at {DATA}")


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.default(REGISTRY)


@needs_data
def test_cec_emergency_reports_are_recalled(clf: Classifier) -> None:
    result = evaluation.eval_cec(clf)
    assert result["sudden"].recall >= 0.985, result["sudden"].misses
    assert result["category"].accuracy >= 0.95, result["category"].misses


@needs_data
def test_ordinary_news_raises_almost_no_false_alarms(clf: Classifier) -> None:
    sudden = evaluation.eval_news(clf)
    assert sudden.fp / sudden.total <= 0.0125, sudden.misses


@needs_data
def test_hand_labelled_politics_and_society_items(clf: Classifier) -> None:
    result = evaluation.eval_hard(clf)
    assert result["sudden"].accuracy >= 0.88, result["sudden"].misses


def test_own_labelled_set(clf: Classifier) -> None:
    result = evaluation.eval_own(clf)
    assert result["sudden"].accuracy >= 0.94, result["sudden"].misses
    for name in ("category", "level", "unit"):
        assert result[name].accuracy >= 0.88, (name, result[name].misses)


@pytest.mark.parametrize("name", evaluation.HELD_OUT)
def test_held_out_sets_stay_near_their_measured_accuracy(clf: Classifier, name: str) -> None:
    result = evaluation.eval_own(clf, evaluation.LABELS / name)
    assert result["sudden"].accuracy >= 0.85, result["sudden"].misses
    for field in ("category", "level", "unit"):
        assert result[field].accuracy >= 0.85, (field, result[field].misses)


def test_hard_labels_cover_every_item_and_no_more() -> None:
    labels = evaluation.read_jsonl(evaluation.LABELS / "classify_hard_labels.jsonl")
    assert len(labels) == len({r["id"] for r in labels}) == 160
    if DATA.is_dir():
        records = evaluation.read_jsonl(DATA / "negatives" / "mixed_politics_society.jsonl")
        assert {r["id"] for r in records} == {r["id"] for r in labels}


def test_own_labels_are_well_formed() -> None:
    rows = evaluation.read_jsonl(evaluation.LABELS / "classify_labels.jsonl")
    assert len(rows) >= 150
    for row in rows:
        assert set(row) >= {"id", "text", "sudden", "category", "level", "unit", "topics"}
        assert row["sudden"] or (row["category"] is None and row["level"] is None)
