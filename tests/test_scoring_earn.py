"""Indicator modes: `deduct` starts at the maximum, `earn` starts at 0 and is credited up to it."""
from __future__ import annotations

from datetime import date

import pytest
from test_scoring_factories import NOW, PROPOSED, SCHEME, county, daily, full_manual

from scoring.assessment import score_year

UNIT = county("lbs", "灵宝市")
REPORTS = "opinion.monitoring.reports"


def reports(records, scheme=PROPOSED):
    (result,) = score_year(scheme, [UNIT], 2026, now=NOW, manual=full_manual(scheme, UNIT), daily=records)
    return next(i for i in result.indicators if i.code == REPORTS)


def credit(points: float, day: int = 2, reason: str = "工作有效（领导批示认可）", id: int | None = None):
    return daily(UNIT.code, date(2026, 3, day), points, reason, indicator=REPORTS, id=id)


def test_proposed_scheme_makes_monitoring_reports_an_earn_indicator():
    indicator = PROPOSED.tree("county").get(REPORTS)
    assert indicator.mode == "earn" and indicator.points == 3
    assert all(i.mode == "deduct" for i in PROPOSED.tree("county").indicators if i.code != REPORTS)


@pytest.mark.parametrize(("records", "points"), [
    ([], 0.0),                                          # nothing earned yet
    ([credit(+1)], 1.0),                                # 领导批示认可 counts
    ([credit(+1, 2, id=1), credit(+1, 3, id=2)], 2.0),
    ([credit(+2, 2, id=1), credit(+2, 3, id=2)], 3.0),  # capped at the indicator's maximum
    ([credit(+1, 2, id=1), credit(-1, 3, "漏报舆情", id=2)], 0.0),
    ([credit(-1, 3, "漏报舆情")], 0.0),                  # never below 0
])
def test_earn_indicator_credits_up_to_its_maximum(records, points):
    assert reports(records).points == points


def test_deduct_mode_keeps_the_old_full_marks_start():
    assert reports([credit(+1)], scheme=SCHEME).points == 3.0
    assert reports([credit(-1, 3, "漏报舆情")], scheme=SCHEME).points == 2.0
