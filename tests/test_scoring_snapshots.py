"""Snapshot diffs (`score --diff`), the scored-data fingerprint, and the purity of scoring/."""
from __future__ import annotations

import copy
import random
from dataclasses import replace
from pathlib import Path

import pytest
from test_scoring_factories import NOW, SCHEME, act, bj, county, dept, full_manual, incident

from scoring.assessment import score_year
from scoring.facts import AppealDecision
from scoring.results import as_json
from scoring.snapshots import diff_scores, scored_data_hash
from yuqing.errors import YuqingError

UNITS = [dept("fgw"), county("lbs")]
MANUAL = [m for u in UNITS for m in full_manual(SCHEME, u)]
BASE = [incident(1, "fgw", actions=[act("response", 30)]), incident(2, "lbs", actions=[act("response", 1, ("website", "weibo"))])]


def snapshot(incidents=BASE, appeals=()):
    return as_json(score_year(SCHEME, UNITS, 2026, incidents, manual=MANUAL, appeals=appeals, now=NOW))


def test_identical_runs_have_no_changes():
    assert diff_scores(snapshot(), snapshot()) == []


def test_a_new_deduction_shows_as_added_with_the_total_delta():
    changes = diff_scores(snapshot(), snapshot(BASE + [incident(3, "fgw")]))
    (change,) = changes
    assert change["unit"]["code"] == "fgw" and change["change"] == "changed"
    assert change["total"] == {"old": 99.5, "new": 98.5, "delta": -1.0}
    assert [d["key"] for d in change["deductions"]["added"]] == ["3:response:overdue"]
    assert change["indicators"] == [{"code": "opinion.hot.timeliness", "name": "时效性", "old": 5.5, "new": 4.5, "delta": -1.0}]


def test_an_upheld_appeal_shows_as_overturned():
    decision = AppealDecision("1:response:late", "fgw", True, bj(2026, 8, 1, 10))
    (change,) = diff_scores(snapshot(), snapshot(appeals=[decision]))
    assert change["deductions"]["overturned"] == ["1:response:late"]
    assert change["deductions"]["added"] == [] and change["total"]["delta"] == 0.5
    (back,) = diff_scores(snapshot(appeals=[decision]), snapshot())
    assert back["deductions"]["reinstated"] == ["1:response:late"]


def test_units_added_and_removed_between_snapshots():
    old, new = snapshot(), snapshot()
    changes = diff_scores(old[:1], new[1:])
    assert [(c["unit"]["code"], c["change"]) for c in changes] == [("lbs", "added"), ("fgw", "removed")]


@pytest.mark.parametrize("bad", [{"not": "a list"}, [{"unit": {}}], [42]], ids=["not a list", "no unit code", "not an object"])
def test_a_malformed_snapshot_is_refused(bad):
    with pytest.raises(YuqingError) as caught:
        diff_scores(bad, snapshot())
    assert caught.value.code == "E_SCORE_SNAPSHOT"


def test_diff_does_not_modify_its_inputs():
    old, new = snapshot(), snapshot(BASE + [incident(3, "fgw")])
    before = copy.deepcopy((old, new))
    diff_scores(old, new)
    assert (old, new) == before


def fingerprint(incidents=BASE, **kw):
    return scored_data_hash(SCHEME, 2026, UNITS, incidents, manual=MANUAL, **kw)


def test_data_hash_is_stable_and_ignores_input_order():
    shuffled = list(BASE)
    random.Random(3).shuffle(shuffled)
    manual = list(reversed(MANUAL))
    assert fingerprint() == fingerprint() == scored_data_hash(SCHEME, 2026, list(reversed(UNITS)), shuffled, manual=manual)
    assert len(fingerprint()) == 64


@pytest.mark.parametrize(
    "changed",
    [
        dict(incidents=BASE[:1] + [incident(2, "lbs", actions=[act("response", 1, ("website",))])]),
        dict(incidents=BASE + [incident(3, "fgw")]),
        dict(appeals=[AppealDecision("1:response:late", "fgw", True, bj(2026, 8, 1, 10))]),
    ],
    ids=["an action's channels changed", "a new incident", "an appeal decided"],
)
def test_data_hash_changes_when_scored_data_changes(changed):
    assert fingerprint(**changed) != fingerprint()


def test_data_hash_ignores_incidents_of_other_years_and_the_clock():
    other_year = incident(9, "fgw", start=bj(2025, 3, 1, 9))
    assert fingerprint(BASE + [other_year]) == fingerprint()
    later = [incident(1, "fgw", actions=[act("response", 30)], now=bj(2027, 3, 1)), BASE[1]]
    assert fingerprint(later) == fingerprint()  # judged later: same states, only the seconds counted differ


def test_data_hash_changes_with_the_scheme_file():
    other = replace(SCHEME, digest="0" * 64)
    assert scored_data_hash(other, 2026, UNITS, BASE, manual=MANUAL) != fingerprint()


SCORING = Path(__file__).resolve().parent.parent / "scoring"
@pytest.mark.parametrize("path", sorted(SCORING.rglob("*.py")), ids=lambda p: p.name)
def test_scoring_reads_neither_the_clock_nor_the_environment(path):
    text = path.read_text(encoding="utf-8")
    for banned in ("datetime.now(", "date.today(", "time.time(", "os.environ", "getenv("):
        assert banned not in text, f"{path.name} uses {banned}"
