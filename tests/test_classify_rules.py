"""The rules file is validated on load; a mistake is refused with the file, the key and the problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from classify import Classifier
from classify.ruleset import RULES_FILE, parse_rules, rules_version
from classify.units import load_units_file
from yuqing.errors import YuqingError
from yuqing.settings import UNITS_FILE

REGISTRY = load_units_file(UNITS_FILE)[1]


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES_FILE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "mentions"),
    [
        ('version = "', 'edition = "', "version"),
        ('category = "事故灾难"\ntable = "production"', 'category = "交通"\ntable = "production"', "event[0].category"),
        ('key = "traffic"\nname = "交通事故"\ncategory = "事故灾难"\ntable = "production"',
         'key = "traffic"\nname = "交通事故"\ncategory = "事故灾难"\ntable = "traffic_table"', "event[0].table"),
        ('scope = "sentence"', 'scope = "paragraph"', "scope"),
        ('level = "特别重大"', 'level = "特大"', "level"),
        ("at_least = 30 }", "at_most = 30 }", "at_least"),
        ('floor = "一般"', 'floor = "IV"', "floor"),
        ('{ to = "forest_fire"', '{ to = "wildfire"', "wildfire"),
        ('fallback_category = "事故灾难"', 'fallback_category = "意外"', "fallback_category"),
        ("threshold = 1.2", 'threshold = "high"', "sudden.threshold"),
        ("[[figures.zero]]\npattern = \"", "[[figures.zero]]\npattern = \"(", "pattern"),
    ],
)
def test_a_broken_rules_file_is_refused_naming_the_key(tmp_path: Path, old: str, new: str, mentions: str) -> None:
    path = edited(tmp_path, old, new)
    with pytest.raises(YuqingError) as caught:
        parse_rules(path)
    assert caught.value.code == "E_DATA_FILE"
    assert str(path) in caught.value.message and mentions in caught.value.message


def test_unreadable_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("version = \n", encoding="utf-8")
    with pytest.raises(YuqingError) as caught:
        parse_rules(path)
    assert caught.value.code == "E_DATA_FILE"


def test_an_edited_rules_file_changes_the_verdict_without_code_changes(tmp_path: Path) -> None:
    path = edited(tmp_path, 'version = "2026.12-1"', 'version = "test-edit"')
    text = path.read_text(encoding="utf-8").replace('"交通事故", "道路交通事故", "车祸",', '"交通事故", "道路交通事故",', 1)
    path.write_text(text, encoding="utf-8")
    clf = Classifier.default(REGISTRY, rules_path=path)
    res = clf.classify("一场车祸。")
    assert res.rules_version.startswith("test-edit+")
    assert "车祸" not in res.keywords
    assert "车祸" in Classifier.default(REGISTRY).classify("一场车祸。").keywords


def test_any_edit_of_the_rules_changes_the_version_even_when_version_is_not_raised(tmp_path: Path) -> None:
    same_stated = edited(tmp_path, "threshold = 1.2", "threshold = 1.3")
    original = parse_rules(RULES_FILE).version
    changed = parse_rules(same_stated).version
    stated = original.split("+")[0]
    assert changed.split("+")[0] == stated  # the file still says the same version …
    assert changed != original  # … but the rules differ, and so does the version stamped on verdicts
    assert rules_version() == original == Classifier.default(REGISTRY).classify("任意文本").rules_version


def test_a_version_too_long_to_store_is_refused(tmp_path: Path) -> None:
    path = edited(tmp_path, 'version = "2026.12-1"', f'version = "{"v" * 31}"')
    with pytest.raises(YuqingError) as caught:
        parse_rules(path)
    assert caught.value.code == "E_DATA_FILE" and "version" in caught.value.message
