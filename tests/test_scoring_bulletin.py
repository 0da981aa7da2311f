"""The quarterly bulletin (第十条 每季度通报一次): what was recorded per unit in one quarter."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from test_scoring_factories import NOW, SCHEME, act, bj, county, daily, dept, incident, referral

from scoring.facts import AppealDecision, SpecialItem, Zeroing
from yuqing.bulletin import bulletin, quarter_bounds
from yuqing.errors import YuqingError

UNITS = [dept("fgw", "三门峡市发展和改革委员会"), county("lbs", "灵宝市")]
AUDIT_HEAD = "9f2c0a7e" * 8


def quarterly(quarter: int, **kw):
    return bulletin(2026, quarter, scheme=SCHEME, units=UNITS, now=NOW, **kw)


def test_window_is_recorded_in_the_quarter_its_deadline_fell_in():
    # Started 31 March 20:00 Beijing, never answered: due 1 April 20:00 → second quarter.
    late_march = incident(1, "fgw", start=bj(2026, 3, 31, 20))
    q1, q2 = quarterly(1, incidents=[late_march]), quarterly(2, incidents=[late_march])
    assert q1.units[0].windows == () and q1.units[0].new_incidents == 1
    (entry,) = q2.units[0].overdue
    assert (entry.incident_id, entry.window, entry.state) == (1, "response", "overdue")
    assert q2.units[0].new_incidents == 0


def test_bulletin_lists_late_and_overdue_windows_referrals_records_specials_and_appeals():
    cases = [
        incident(1, "fgw", start=bj(2026, 5, 10, 9), actions=[act("response", 25)], title="供暖收费|争议"),
        incident(2, "fgw", start=bj(2026, 5, 11, 9), level="重大", actions=[act("release", 1), act("press_conference", 2)]),
        incident(3, "lbs", start=bj(2026, 5, 12, 9), voided=True),
    ]
    letters = [
        referral(8, 1, "fgw", bj(2026, 5, 10, 12), bj(2026, 5, 15, 23, 59, 59), bj(2026, 5, 18, 9)),
        referral(9, 3, "lbs", bj(2026, 5, 12, 12), bj(2026, 5, 15, 23, 59, 59)),  # voided incident
    ]
    result = quarterly(
        2,
        incidents=cases,
        referrals=letters,
        daily=[daily("lbs", date(2026, 6, 3), -1, "漏报舆情"), daily("lbs", date(2026, 7, 3), -1, "下季度")],
        specials=[SpecialItem("fgw", 2026, "bonus.media", 1, "人民日报报道", date(2026, 4, 8)),
                  SpecialItem("fgw", 2026, "bonus.leader", 1, "未注明日期")],
        appeals=[AppealDecision("1:response:late", "fgw", True, bj(2026, 6, 20, 10), "已在微博回应")],
        audit_head=AUDIT_HEAD,
    )
    fgw, lbs = result.units
    assert [(w.incident_id, w.window) for w in fgw.late] == [(1, "response")]
    assert fgw.overdue == ()
    assert [(r.referral.id, r.state) for r in fgw.referrals] == [(8, "late")]
    assert [s.item for s in fgw.specials] == ["bonus.media"]  # the undated one goes to Q4
    assert [a.deduction_key for a in fgw.appeals] == ["1:response:late"]
    assert [d.reason for d in lbs.daily] == ["漏报舆情"] and lbs.referrals == ()

    text = result.to_markdown()
    assert text.startswith("# 政务舆情处置情况通报（2026年第2季度）")
    assert "2026-04-01 至 2026-06-30" in text
    assert f"审计链头：`{AUDIT_HEAD}`" in text
    assert "供暖收费\\|争议" in text  # a pipe in a title does not break the table
    assert "逾期完成" in text and "逾期回复" in text and "撤销扣分" in text and "漏报舆情" in text
    assert "（建议分值）" in text

    book = load_workbook(io.BytesIO(result.to_xlsx()))
    assert book.sheetnames == ["说明", "概况", "逾期与超时", "舆情函件", "日常考核", "特别项", "申诉决定", "整改"]
    info = {row[0]: row[1] for row in book["说明"].iter_rows(min_row=2, values_only=True)}
    assert info["审计链头"] == AUDIT_HEAD
    overview = list(book["概况"].iter_rows(values_only=True))
    assert overview[1][:6] == ("fgw", "三门峡市发展和改革委员会", "市政府部门", 2, 1, 0)


def test_undated_special_items_and_zeroings_appear_in_the_fourth_quarter():
    specials = [SpecialItem("fgw", 2026, "bonus.leader", 1, "年终表扬")]
    zeroings = [Zeroing("lbs", 2026, "材料造假")]
    q3, q4 = quarterly(3, specials=specials, zeroings=zeroings), quarterly(4, specials=specials, zeroings=zeroings)
    assert all(u.empty for u in q3.units)
    assert q4.units[0].specials == tuple(specials) and q4.units[1].zeroings == tuple(zeroings)
    assert "材料造假" in q4.to_markdown()


def test_bulletin_without_audit_head_says_nothing_about_it():
    assert "审计链头" not in quarterly(1).to_markdown()


@pytest.mark.parametrize(
    ("quarter", "first", "last"),
    [(1, date(2026, 1, 1), date(2026, 3, 31)), (2, date(2026, 4, 1), date(2026, 6, 30)),
     (3, date(2026, 7, 1), date(2026, 9, 30)), (4, date(2026, 10, 1), date(2026, 12, 31))],
)
def test_quarters_are_beijing_calendar_quarters(quarter, first, last):
    start, end = quarter_bounds(2026, quarter)
    assert start.date() == first and (end - timedelta(days=1)).date() == last
    result = quarterly(quarter)
    assert (result.start, result.end) == (first, last)


@pytest.mark.parametrize("quarter", [0, 5, True])
def test_a_quarter_outside_one_to_four_is_refused(quarter):
    with pytest.raises(YuqingError) as caught:
        quarterly(quarter)
    assert caught.value.code == "E_QUARTER"
