"""The classifier behind `yuqing classify` and `incident add`: suggestions stored as such, people win."""
from __future__ import annotations

import json

import pytest

from tests.cliutil import ago, yq

FIGURE_KEYS = {"deaths", "injured", "seriously_injured", "missing", "trapped", "affected", "evacuated", "loss_yuan"}


def test_classify_prints_one_contract_object_per_text(url: str):
    result = yq(url, "classify", "灵宝市一煤矿发生瓦斯爆炸，已致12人死亡", "市教育局召开安全生产工作会议")
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert [o["id"] for o in lines] == ["1", "2"]
    first = lines[0]
    assert set(first) == {"id", "sudden", "flagged", "category", "level", "topics", "unit", "keywords", "figures", "rules_version"}
    assert set(first["figures"]) == FIGURE_KEYS
    assert (first["sudden"], first["flagged"], first["category"], first["level"]) == (True, True, "事故灾难", "重大")
    assert first["unit"]["code"] == "lingbao" and first["figures"]["deaths"] == 12
    assert lines[1]["sudden"] is False and lines[1]["flagged"] is False


def test_classify_jsonl_keeps_order_and_reports_bad_lines(url: str, monkeypatch: pytest.MonkeyPatch):
    stdin = "\n".join([
        json.dumps({"id": "a", "title": "渑池县发生交通事故", "text": "一辆货车与客车相撞，造成3人死亡"}, ensure_ascii=False),
        "{broken",
        json.dumps({"id": "c", "text": "三门峡市举办消防安全宣传活动"}, ensure_ascii=False),
    ])
    result = yq(url, "classify", "--jsonl", stdin=stdin, monkeypatch=monkeypatch)
    assert result.code == 0
    out = [json.loads(line) for line in result.out.splitlines()]
    assert [o["id"] for o in out] == ["a", None, "c"]
    assert out[0]["level"] == "较大" and out[0]["unit"]["code"] == "mianchi"
    assert out[1]["error"]["code"] and out[1]["error"]["message"]
    assert out[2]["sudden"] is False


def test_classify_flagged_follows_the_active_preset(url: str, monkeypatch: pytest.MonkeyPatch):
    text = "渑池县发生交通事故，一辆货车与客车相撞，造成3人死亡"
    assert yq(url, "classify", text).json()["flagged"] is True
    monkeypatch.setenv("YUQING_PRESET", "national-2016")
    assert yq(url, "classify", text).json()["flagged"] is False  # 较大 is not 重大 under 61号文


def test_classify_without_text_is_a_usage_error(url: str):
    assert yq(url, "classify").code == 2


def test_incident_add_fills_missing_grading_from_the_classifier(url: str):
    incident = yq(url, "incident", "add", "--title", "卢氏县一在建工地发生坍塌，已致4人死亡", "--unit", "卢氏",
                  "--first-post-at", ago(1)).out.strip()
    shown = yq(url, "incident", "show", incident, "--json").json()
    assert (shown["sudden"], shown["category"], shown["level"]) == (True, "事故灾难", "较大")
    assert set(shown["suggested_fields"]) == {"sudden", "category", "level"}
    assert shown["rules_version"] and shown["flagged"] is True


def test_a_persons_value_wins_over_the_suggestion(url: str):
    incident = yq(url, "incident", "add", "--title", "卢氏县一在建工地发生坍塌，已致4人死亡", "--unit", "卢氏",
                  "--level", "重大", "--not-sudden").out.strip()
    shown = yq(url, "incident", "show", incident, "--json").json()
    assert (shown["level"], shown["sudden"], shown["category"]) == ("重大", False, "事故灾难")
    assert shown["suggested_fields"] == ["category"]
    log = yq(url, "audit", "log", "--entity", "incident", "--id", incident, "--json").json()
    assert log[0]["after"]["suggested_fields"] == ["category"]


def test_no_classify_leaves_fields_empty(url: str):
    incident = yq(url, "incident", "add", "--title", "卢氏县一在建工地发生坍塌，已致4人死亡", "--unit", "卢氏",
                  "--no-classify").out.strip()
    shown = yq(url, "incident", "show", incident, "--json").json()
    assert (shown["level"], shown["sudden"], shown["category"], shown["suggested_fields"]) == (None, None, None, [])
