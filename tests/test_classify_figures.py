"""Figures read from text: numerals, multipliers, qualifiers, explicit zeros (DESIGN.md §2.3)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classify import Classifier
from classify.figures import FigureReader
from classify.numbers import Amount, chinese_to_int
from classify.ruleset import load_rules
from classify.units import load_units_file
from yuqing.settings import UNITS_FILE

REGISTRY = load_units_file(UNITS_FILE)[1]

ACCIDENT, HEALTH = "事故灾难", "公共卫生事件"


@pytest.fixture(scope="module")
def reader() -> FigureReader:
    return FigureReader(load_rules().figures)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十", 10), ("十五", 15), ("二十一", 21), ("三十二", 32), ("两", 2), ("两百", 200), ("一百零三", 103),
        ("八千", 8000), ("一万二千", 12000), ("一亿二千万", 120_000_000), ("万", 10_000), ("百", 100),
    ],
)
def test_chinese_numerals_read_as_integers(text: str, value: int) -> None:
    assert chinese_to_int(text) == value


def _to_chinese(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n == 0:
        return "零"
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero and out:
                out += "零"
            out += digits[d] + unit
            zero = False
        elif out:
            zero = True
    return out


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=9999))
def test_any_chinese_numeral_below_ten_thousand_round_trips(n: int) -> None:
    assert chinese_to_int(_to_chinese(n)) == n


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        ("事故造成三十二人死亡", ACCIDENT, {"deaths": 32}),
        ("已致二十一名乘客受伤", ACCIDENT, {"injured": 21}),
        ("两名司机受轻伤", ACCIDENT, {"injured": 2}),
        ("致5死12伤", ACCIDENT, {"deaths": 5, "injured": 12}),
        ("造成二死二伤", ACCIDENT, {"deaths": 2, "injured": 2}),
        ("两死两重伤", ACCIDENT, {"deaths": 2, "seriously_injured": 2}),
        ("至少60死逾200伤", ACCIDENT, {"deaths": 60, "injured": 200}),
        ("死亡人数已升至12人", ACCIDENT, {"deaths": 12}),
        ("遇难人数增至10人", ACCIDENT, {"deaths": 10}),
        ("30余人受伤", ACCIDENT, {"injured": 30}),
        ("20多名学生食物中毒", HEALTH, {"affected": 20}),
        ("近百人中毒", HEALTH, {"affected": 100}),
        ("十余名工人被困", ACCIDENT, {"trapped": 10}),
        ("12名矿工被困，其中已确认4人遇难", ACCIDENT, {"trapped": 12, "deaths": 4}),
        ("已致3人失踪、1人遇难", ACCIDENT, {"missing": 3, "deaths": 1}),
        ("紧急转移群众1.2万人", ACCIDENT, {"evacuated": 12_000}),
        ("疏散群众30余人", ACCIDENT, {"evacuated": 30}),
        ("造成2人死亡、5人受伤", ACCIDENT, {"deaths": 2, "injured": 5}),
        ("3人死亡5人受伤", ACCIDENT, {"deaths": 3, "injured": 5}),
        ("3人受伤，其中1人重伤", ACCIDENT, {"injured": 3, "seriously_injured": 1}),
        ("21人受伤(其中重伤5人、轻伤16人)", ACCIDENT, {"injured": 21, "seriously_injured": 5}),
        ("34名伤者中有重伤8人", ACCIDENT, {"injured": 34, "seriously_injured": 8}),
        ("车上二十一名乘客中已致十一人死亡", ACCIDENT, {"deaths": 11, "injured": None}),
        ("3名工人中毒窒息死亡", ACCIDENT, {"affected": 3, "deaths": 3}),
        ("一家六口死亡", ACCIDENT, {"deaths": 6}),
        ("129员工食物中毒", HEALTH, {"affected": 129}),
        ("中毒人数已升至128人", HEALTH, {"affected": 128}),
    ],
)
def test_counts_are_read_with_their_field(
    reader: FigureReader, text: str, category: str, expected: dict[str, int | None]
) -> None:
    figures = reader.read(text, category)
    got = {name: (None if figures[name] is None else figures[name].value) for name in expected}
    assert got == expected


@pytest.mark.parametrize(
    ("text", "loss"),
    [
        ("直接经济损失1.2亿元", 120_000_000),
        ("直接经济损失八千余万元", 80_000_000),
        ("经济损失约1200万元", 12_000_000),
        ("直接经济损失超过5000万元", 50_000_000),
        ("直接经济损失初步估计为3000万元", 30_000_000),
        ("经济损失上千万", 10_000_000),
        ("损失惨重", None),
    ],
)
def test_losses_read_in_yuan_with_wan_and_yi(reader: FigureReader, text: str, loss: int | None) -> None:
    amount = reader.read(text, ACCIDENT)["loss_yuan"]
    assert (None if amount is None else amount.value) == loss


def test_eight_thousand_odd_wan_yuan_is_eighty_million(reader: FigureReader) -> None:
    assert reader.read("直接经济损失8000余万元", ACCIDENT)["loss_yuan"] == Amount(80_000_000, more=True)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("百余人食物中毒", Amount(100, more=True)),
        ("近30人死亡", Amount(30, less=True)),
        ("不到10人受伤", Amount(10, less=True)),
        ("逾200人受伤", Amount(200, more=True)),
        ("周边附近12名村民吸入中毒", Amount(12)),
        ("约300名群众被困", Amount(300)),
    ],
)
def test_qualifiers_say_which_side_of_the_number_the_truth_lies(
    reader: FigureReader, text: str, amount: Amount
) -> None:
    figures = reader.read(text, HEALTH)
    assert amount in figures.values()


@pytest.mark.parametrize(
    ("text", "deaths", "injured"),
    [
        ("所幸无人员伤亡", 0, 0),
        ("未造成人员伤亡", 0, 0),
        ("暂无人员伤亡报告", 0, 0),
        ("暂未发现人员伤亡", 0, 0),
        ("8名乘客受伤，无人员死亡", 0, 8),
        ("无人受伤", None, 0),
        ("两人经抢救无效死亡", 2, None),
        ("伤亡情况不明", None, None),
    ],
)
def test_explicit_zero_casualties(reader: FigureReader, text: str, deaths: int | None, injured: int | None) -> None:
    figures = reader.read(text, ACCIDENT)
    values = {name: None if figures[name] is None else figures[name].value for name in ("deaths", "injured")}
    assert values == {"deaths": deaths, "injured": injured}


def test_a_death_word_without_a_count_is_one_death(reader: FigureReader) -> None:
    assert reader.read("骑车人当场身亡", ACCIDENT)["deaths"] == Amount(1)


def test_hospital_words_count_people_only_for_public_health_events(reader: FigureReader) -> None:
    assert reader.read("32名学生被送往医院", HEALTH)["affected"] == Amount(32)
    assert reader.read("32名学生被送往医院", ACCIDENT)["affected"] is None


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.default(REGISTRY)


def test_numbers_in_a_statistics_sentence_are_not_the_events_figures(clf: Classifier) -> None:
    res = clf.classify("今晨一辆货车在连霍高速侧翻，致2人死亡。今年以来全市共发生道路交通事故死亡27人。")
    assert res.sudden and res.figures["deaths"] == 2


def test_figures_have_all_eight_keys_even_when_nothing_happened(clf: Classifier) -> None:
    res = clf.classify("市政府召开常务会议，研究部署优化营商环境工作。")
    assert res.figures == dict.fromkeys(
        ["deaths", "injured", "seriously_injured", "missing", "trapped", "affected", "evacuated", "loss_yuan"]
    )


def test_full_width_digits_are_read(clf: Classifier) -> None:
    res = clf.classify("多哥发生交通事故，已致６３人死亡。")
    assert res.figures["deaths"] == 63
