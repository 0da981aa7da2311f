"""Level grading with the national tables, both sides of every boundary (DESIGN.md §2.3)."""
from __future__ import annotations

import pytest

from classify import Classifier
from classify.levels import grade
from classify.numbers import Amount
from classify.ruleset import FIGURES, load_rules
from classify.units import load_units_file
from yuqing.settings import UNITS_FILE

REGISTRY = load_units_file(UNITS_FILE)[1]

I, II, III, IV = "特别重大", "重大", "较大", "一般"


def figures(**values: int | Amount) -> dict[str, Amount | None]:
    out: dict[str, Amount | None] = dict.fromkeys(FIGURES)
    for name, value in values.items():
        out[name] = value if isinstance(value, Amount) else Amount(value)
    return out


def level(table: str, **values: int | Amount) -> str | None:
    return grade(load_rules().table(table), figures(**values))


@pytest.mark.parametrize(
    ("deaths", "expected"),
    [(0, IV), (2, IV), (3, III), (9, III), (10, II), (29, II), (30, I), (31, I)],
)
def test_production_safety_deaths_boundaries_include_the_lower_number(deaths: int, expected: str) -> None:
    assert level("production", deaths=deaths) == expected


@pytest.mark.parametrize(
    ("serious", "expected"),
    [(9, IV), (10, III), (49, III), (50, II), (99, II), (100, I)],
)
def test_production_safety_seriously_injured_boundaries(serious: int, expected: str) -> None:
    assert level("production", seriously_injured=serious) == expected


@pytest.mark.parametrize(
    ("loss", "expected"),
    [
        (9_999_999, IV), (10_000_000, III), (49_999_999, III), (50_000_000, II), (99_999_999, II),
        (100_000_000, I),
    ],
)
def test_production_safety_loss_boundaries_at_ten_fifty_and_hundred_million(loss: int, expected: str) -> None:
    assert level("production", loss_yuan=loss) == expected


def test_highest_level_any_criterion_reaches_wins() -> None:
    assert level("production", deaths=2, loss_yuan=60_000_000) == II


def test_missing_people_count_as_deaths_in_production_safety() -> None:
    assert level("production", deaths=8, missing=2) == II


def test_acute_industrial_poisoning_counts_as_serious_injury() -> None:
    assert level("production", affected=12) == III


@pytest.mark.parametrize(
    ("deaths", "expected"),
    [(Amount(30, less=True), II), (Amount(30), I), (Amount(29, more=True), II), (Amount(10, less=True), III)],
)
def test_nearly_thirty_stays_below_the_boundary(deaths: Amount, expected: str) -> None:
    assert level("production", deaths=deaths) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"affected": 29}, IV),
        ({"affected": 30}, IV),
        ({"affected": 100}, IV),
        ({"affected": Amount(100, more=True)}, III),
        ({"affected": 101}, III),
        ({"affected": 20, "deaths": 1}, III),
        ({"affected": 101, "deaths": 1}, II),
        ({"affected": 40, "deaths": 10}, II),
        ({"affected": 40, "deaths": 9}, III),
    ],
)
def test_food_poisoning_over_one_hundred_people_or_any_death(values: dict, expected: str) -> None:
    assert level("food_poisoning", **values) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"deaths": 2}, IV), ({"deaths": 3}, III), ({"deaths": 10}, II), ({"deaths": 30}, I),
        ({"loss_yuan": 999_999}, IV), ({"loss_yuan": 1_000_000}, III), ({"loss_yuan": 5_000_000}, II),
        ({"loss_yuan": 10_000_000}, I),
    ],
)
def test_geological_disaster_deaths_and_loss(values: dict, expected: str) -> None:
    assert level("geological", **values) == expected


@pytest.mark.parametrize(
    ("deaths", "expected"),
    [(9, IV), (10, III), (49, III), (50, II), (299, II), (300, I)],
)
def test_earthquake_deaths_boundaries(deaths: int, expected: str) -> None:
    assert level("earthquake", deaths=deaths) == expected


def test_environmental_event_evacuation_counts() -> None:
    assert level("environment", evacuated=4_999) == IV
    assert level("environment", evacuated=5_000) == III


def test_no_figures_means_no_level_not_general() -> None:
    assert level("production") is None


def test_explicit_zero_casualties_without_loss_is_general() -> None:
    assert level("production", deaths=0, injured=0) == IV


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.default(REGISTRY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("灵宝市一客车侧翻，已致2人死亡。", IV),
        ("灵宝市一客车侧翻，已致3人死亡。", III),
        ("灵宝市一客车侧翻，已致9人死亡。", III),
        ("灵宝市一客车侧翻，已致10人死亡。", II),
        ("灵宝市一客车侧翻，已致29人死亡。", II),
        ("灵宝市一客车侧翻，已致30人死亡。", I),
        ("渑池县一仓库发生火灾，直接经济损失999万元，无人员伤亡。", IV),
        ("渑池县一仓库发生火灾，直接经济损失1000万元，无人员伤亡。", III),
        ("渑池县一仓库发生火灾，直接经济损失5000万元，无人员伤亡。", II),
        ("渑池县一仓库发生火灾，直接经济损失1亿元，无人员伤亡。", I),
        ("渑池县一仓库发生火灾，直接经济损失八千余万元，无人员伤亡。", II),
        ("渑池县一仓库发生火灾，火势已被控制。", None),
        ("渑池县一仓库发生火灾，未造成人员伤亡。", IV),
        ("义马市一食堂发生食物中毒，百余人就医，其中一人死亡。", II),
        ("义马市一食堂发生食物中毒，32名职工送医。", IV),
        ("陕州区发生山体滑坡，造成3人死亡。", III),
        ("卢氏县发生4.3级地震，暂无人员伤亡。", IV),
        ("湖滨区一菜市场发生持刀伤人案件，造成2人受伤。", None),
        ("灵宝市发生一起较大群体性事件，数百人聚集堵路。", III),
        ("受强降雨影响，卢氏县多个乡镇出现洪涝灾害，2人失踪。", None),
    ],
)
def test_level_of_a_reported_event(clf: Classifier, text: str, expected: str | None) -> None:
    res = clf.classify(text)
    assert res.sudden
    assert res.level == expected
