"""Pure classifier for feed items: sudden or not, category, level, opinion topics, responsible unit.

Rules are data (classify/rules.toml); see classify.classifier for the meaning of each field.
"""
from classify.classifier import Classifier, ClassifyResult
from classify.jsonl import classify_json, run_jsonl

__all__ = ["Classifier", "ClassifyResult", "classify_json", "run_jsonl"]
