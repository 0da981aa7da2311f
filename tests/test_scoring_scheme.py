"""Scheme files: the default proposal, choosing a scheme by year, and validation that names file/key."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from scoring.scheme import SCHEME_DIR, load_scheme, parse_scheme
from yuqing.errors import YuqingError

DEFAULT = SCHEME_DIR / "sanmenxia-2017.toml"


def test_default_scheme_is_labelled_as_a_proposal():
    scheme = load_scheme("sanmenxia-2017")
    assert scheme.status == "proposed"
    assert "建议" in scheme.title and "建议" in scheme.note
    assert "PROPOSED" in DEFAULT.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["department", "county"])
def test_each_indicator_tree_sums_to_one_hundred(kind):
    tree = load_scheme("sanmenxia-2017").tree(kind)
    assert round(sum(i.points for i in tree.indicators), 6) == 100


@pytest.mark.parametrize(
    ("kind", "sources"),
    [
        ("department", {"timeliness", "authority", "daily_monitoring", "referrals"}),
        ("county", {"timeliness", "authority", "coverage", "continuity", "daily_monitoring", "referrals"}),
    ],
)
def test_opinion_indicators_follow_the_seed_rows(kind, sources):
    """附件2 has 时效性/权威性 for departments; 附件3 adds 广覆盖/持续有效 for counties."""
    scheme = load_scheme("sanmenxia-2017")
    opinion = [i for i in scheme.tree(kind).indicators if i.section == "opinion"]
    assert {i.source for i in opinion} == sources
    assert all(i.source != "manual" for i in opinion)
    other = [i for i in scheme.tree(kind).indicators if i.section != "opinion"]
    assert all(i.source == "manual" for i in other)


def test_county_tree_has_the_county_only_rows_of_annex_3():
    scheme = load_scheme("sanmenxia-2017")
    county = {i.code for i in scheme.tree("county").indicators}
    department = {i.code for i in scheme.tree("department").indicators}
    assert county - department == {
        "rules.coordination", "platform.reading_rooms", "platform.gazette", "opinion.hot.coverage", "opinion.hot.continuity",
    }


def test_special_items_and_zeroing_come_from_the_seed():
    scheme = load_scheme("sanmenxia-2017")
    assert [s.code for s in scheme.specials if s.kind == "bonus"] == ["bonus.media", "bonus.leader", "bonus.commendation"]
    assert [s.code for s in scheme.specials if s.kind == "penalty"] == [
        "penalty.media", "penalty.leader", "penalty.criticism", "penalty.noncompliance",
    ]
    assert scheme.bonus_cap is not None and scheme.penalty_cap is not None
    assert "弄虚作假" in scheme.zeroing.name and scheme.zeroing.grade == "不合格"
    assert [(g.name, g.min) for g in scheme.grades] == [("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", None)]


@pytest.mark.parametrize("year", [2017, 2024, 2026, "2026"])
def test_load_scheme_by_year_picks_the_scheme_in_force(year):
    assert load_scheme(year).name == "sanmenxia-2017"


def test_a_year_before_any_scheme_is_refused():
    with pytest.raises(YuqingError) as caught:
        load_scheme(2016)
    assert caught.value.code == "E_SCHEME_NO_YEAR"


def test_unknown_scheme_name_lists_the_choices():
    with pytest.raises(YuqingError) as caught:
        load_scheme("nowhere-2099")
    assert caught.value.code == "E_SCHEME_UNKNOWN"
    assert "sanmenxia-2017" in str(caught.value)


def test_adding_a_year_is_a_data_change(tmp_path):
    shutil.copy(DEFAULT, tmp_path / "sanmenxia-2017.toml")
    text = DEFAULT.read_text(encoding="utf-8").replace('name = "sanmenxia-2017"', 'name = "sanmenxia-2027"')
    text = text.replace("first_year = 2017", "first_year = 2027")
    text = text.replace("params = { late = 0.5, overdue = 1.0, late_flagged", "params = { late = 0.25, overdue = 1.0, late_flagged")
    (tmp_path / "sanmenxia-2027.toml").write_text(text, encoding="utf-8")
    assert load_scheme(2026, tmp_path).name == "sanmenxia-2017"
    new = load_scheme(2027, tmp_path)
    assert new.name == "sanmenxia-2027"
    assert new.tree("county").by_source("timeliness").params["late"] == 0.25


def test_two_schemes_starting_the_same_year_are_refused(tmp_path):
    shutil.copy(DEFAULT, tmp_path / "sanmenxia-2017.toml")
    text = DEFAULT.read_text(encoding="utf-8").replace('name = "sanmenxia-2017"', 'name = "copy-2017"')
    (tmp_path / "copy-2017.toml").write_text(text, encoding="utf-8")
    with pytest.raises(YuqingError) as caught:
        load_scheme(2020, tmp_path)
    assert caught.value.code == "E_SCHEME_INVALID"
    assert caught.value.params["key"] == "first_year"


# Each case edits the default file and expects the error to name this key.
BROKEN = [
    ("bad sum", ('code = "org.principal"\nsection = "org"\nname = "主要负责人亲自抓"\npoints = 3',
                 'code = "org.principal"\nsection = "org"\nname = "主要负责人亲自抓"\npoints = 4'), "department.indicator", "应为 100"),
    ("unknown source", ('source = "authority"', 'source = "popularity"'), "source", "必须是"),
    ("unknown section", ('section = "participation"', 'section = "participate"'), "section", "不存在的栏目"),
    ("indicator code with spaces", ('code = "org.deputy"', 'code = "org deputy"'), "code", "只能由"),
    ("duplicate indicator code", ('code = "org.deputy"', 'code = "org.principal"'), "code", "重复"),
    ("unknown parameter", ("params = { per_incident = 1.0 }", "params = { per_incident = 1.0, per_day = 2 }"), "params", "没有参数"),
    ("missing parameter", ("params = { late = 0.5, overdue = 1.0 }", "params = { late = 0.5 }"), "params.overdue", "必须给出"),
    ("negative amount", ("late_flagged = 1.0", "late_flagged = -1.0"), "late_flagged", "负数"),
    ("bad channel count", ("min_channels = 2", "min_channels = 0"), "min_channels", "正整数"),
    ("unknown action kind", ('follow_up_kinds = ["follow_up"', 'follow_up_kinds = ["tweet"'), "follow_up_kinds", "处置类型"),
    ("zeroing grade unknown", ('grade = "不合格"', 'grade = "很差"'), "zeroing.grade", "不存在的等次"),
    ("grades out of order", ("min = 80", "min = 95"), "grade[1].min", "从高到低"),
    ("name differs from file", ('name = "sanmenxia-2017"', 'name = "other"'), "name", "不一致"),
    ("same source twice", ('source = "authority"', 'source = "timeliness"'), "source", "只能出现一次"),
    ("missing rule", ('missing_manual = "null"', 'missing_manual = "maybe"'), "rules.missing_manual", "之一"),
    ("co-unit share out of range", ("co_unit_share = 0.5", "co_unit_share = 1.5"), "rules.co_unit_share", "0 到 1"),
    ("duplicate special code", ('code = "bonus.leader"', 'code = "bonus.media"'), "special.item[1].code", "重复"),
    ("not toml", ("[rules]", "[rules"), "（文件）", ""),
    ("unknown mode", ('\nmode = "earn"\n', '\nmode = "gain"\n'), "mode", "之一"),
    ("earn with a start point", ('\nmode = "earn"\n', '\nmode = "earn"\nparams = { start = 1 }\n'), "params.start", "0 分起算"),
    ("earn on a manual indicator", ('name = "公众参与制度"\npoints = 1\nsource = "manual"',
                                    'name = "公众参与制度"\npoints = 1\nsource = "manual"\nmode = "earn"'), "mode", "不能设为 earn"),
]


@pytest.mark.parametrize(("old_new", "key", "problem"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_scheme_errors_name_the_file_the_key_and_the_problem(tmp_path, old_new, key, problem):
    old, new = old_new
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "sanmenxia-2017.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(YuqingError) as caught:
        parse_scheme(path)
    error = caught.value
    assert error.code == "E_SCHEME_INVALID"
    assert error.params["path"] == str(path)
    assert key in error.params["key"]
    assert problem in error.params["problem"]
    assert str(path) in str(error) and re.search(r"\[E_SCHEME_INVALID\]$", str(error))


def test_a_scheme_edited_on_disk_is_read_again(tmp_path):
    path = tmp_path / "sanmenxia-2017.toml"
    shutil.copy(DEFAULT, path)
    assert load_scheme("sanmenxia-2017", tmp_path).bonus_cap == 5
    text = path.read_text(encoding="utf-8").replace("bonus_cap = 5", "bonus_cap = 4")
    path.write_text(text, encoding="utf-8")
    import os

    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_scheme("sanmenxia-2017", tmp_path).bonus_cap == 4


def test_scheme_digest_identifies_the_file_content():
    scheme = load_scheme("sanmenxia-2017")
    assert len(scheme.digest) == 64
    assert scheme.path == str(Path(DEFAULT))
