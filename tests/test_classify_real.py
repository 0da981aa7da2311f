"""The classifier on real 舆情 shapes (issue 12): mass incidents, rumoured events, people trapped by a
facility, outbreaks and contamination are events; complaints, policy rumours, drills, meetings,
statistics and festivals are not."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from classify import Classifier
from classify.units import load_units_file
from yuqing.settings import UNITS_FILE

REGISTRY = load_units_file(UNITS_FILE)[1]
BENCH = Path(__file__).resolve().parents[1] / "bench" / "eval_classify.py"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.default(REGISTRY)


@pytest.mark.parametrize("text, category", [
    ("数百名业主聚集售楼部拉横幅，要求开发商退房", "社会安全事件"),
    ("渑池县一工地数十名农民工爬上塔吊讨薪", "社会安全事件"),
    ("卢氏县某村村民围堵乡政府大门", "社会安全事件"),
    ("陕州区某市场商户罢市集体上访", "社会安全事件"),
    ("灵宝市出租车司机集体停运", "社会安全事件"),
    ("三门峡某景区索道故障，数十名游客被困半空", "事故灾难"),
    ("卢氏县某村出现多例不明原因发热病例，县疾控介入调查", "公共卫生事件"),
    ("义马市某小区饮用水出现异味，多名居民出现腹泻症状", "公共卫生事件"),
])
def test_real_events_are_sudden(clf: Classifier, text: str, category: str) -> None:
    result = clf.classify(text)
    assert result.sudden and result.category == category, result


@pytest.mark.parametrize("text", [
    "网传湖滨区某商场发生踩踏事故，多人受伤",
    "网曝渑池县一化工厂爆炸，现场浓烟滚滚",
    "网传陕州区某村出现聚集性发热病例",
])
def test_a_rumoured_event_is_flagged_and_marked_unverified(clf: Classifier, text: str) -> None:
    result = clf.classify(text)
    assert result.sudden and "unverified" in result.topics


@pytest.mark.parametrize("text", [
    "网传三门峡市将全面限购商品房，市住建局回应：不实",
    "网友反映开发区某企业夜间偷排废水",
    "湖滨区某KTV噪音扰民，居民多次投诉无果",
    "湖滨区某小区电梯频繁故障，物业推诿不修，居民投诉",
    "湖滨区开展电梯困人应急救援演练",
    "三门峡市开展群体性事件处置演练",
    "灵宝市召开信访工作座谈会",
    "我市前三季度生产安全事故起数同比下降12%",
    "第十届三门峡黄河文化旅游节开幕",
    "陕州区50余名农民工到区人社局讨薪，反映某建筑公司拖欠工资8个月。",
])
def test_complaints_policy_rumours_and_activities_are_not_events(clf: Classifier, text: str) -> None:
    result = clf.classify(text)
    assert not result.sudden, result
    assert "unverified" not in result.topics


def test_a_complaint_is_a_livelihood_topic(clf: Classifier) -> None:
    assert "livelihood" in clf.classify("网友反映开发区某企业夜间偷排废水").topics


@pytest.mark.parametrize("text, code", [
    ("市食品药品监督管理局通报一起食品安全事件", "scjgj"),
    ("市人力资源社会保障局回应农民工讨薪", "rsj"),
])
def test_annex_1_names_resolve_in_the_classifier(clf: Classifier, text: str, code: str) -> None:
    unit = clf.classify(text).unit
    assert unit is not None and unit.code == code


def _evaluation():
    spec = importlib.util.spec_from_file_location("eval_classify_real", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["classify_real_tune.jsonl", "classify_real_holdout.jsonl"])
def test_real_labelled_sets(clf: Classifier, name: str) -> None:
    evaluation = _evaluation()
    result = evaluation.eval_real(clf, evaluation.LABELS / name)
    assert result["sudden"].accuracy >= 0.95, result["sudden"].misses
    assert result["category"].accuracy >= 0.93, result["category"].misses
    assert result["unverified"].recall >= 0.9, result["unverified"].misses


def test_real_labelled_sets_are_large_enough_and_split_70_30() -> None:
    evaluation = _evaluation()
    tune = evaluation.read_jsonl(evaluation.LABELS / "classify_real_tune.jsonl")
    held = evaluation.read_jsonl(evaluation.LABELS / "classify_real_holdout.jsonl")
    assert len(tune) + len(held) >= 150
    assert 0.25 <= len(held) / (len(tune) + len(held)) <= 0.35
    assert not {r["id"] for r in tune} & {r["id"] for r in held}
