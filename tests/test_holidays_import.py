"""`yuqing holidays import`: the State Council's notice read into the working-day calendar."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from sqlalchemy import func, select

from scoring.notice import parse_notice
from tests.cliutil import error_code, yq
from timeline.words import YuqingError
from yuqing.db.models import AuditRecord
from yuqing.db.models_scoring import HolidayYear
from yuqing.db.session import Database

NOTICES = Path(__file__).parent / "data" / "notices"

# A notice for a year the installed chinesecalendar does not know, in the published form.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
　　经国务院批准，现将2027年元旦等节假日放假调休日期的具体安排通知如下。
　　一、元旦：1月1日（周五）至3日（周日）放假，共3天。
国务院办公厅
"""


def notice(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_notice_matches_chinesecalendar_day_by_day(year):
    parsed = parse_notice(notice(year))
    assert parsed.year == year
    schedule = parsed.schedule()
    day, wrong = date(year, 1, 1), []
    while day.year == year:
        ours = False if day in schedule.holidays else True if day in schedule.workdays else day.weekday() < 5
        if ours != chinese_calendar.is_workday(day):
            wrong.append(day)
        day += timedelta(days=1)
    assert wrong == []
    assert set(parsed.holidays) == {d for d in chinese_calendar.holidays if d.year == year}
    assert all(d.weekday() >= 5 for d in parsed.workdays)


def test_encouragement_to_rest_on_new_years_eve_is_not_a_holiday():
    parsed = parse_notice(notice(2024))
    assert date(2024, 2, 9) not in parsed.holidays and date(2024, 2, 10) in parsed.holidays


BROKEN = [
    ("unreadable", "五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。", "五、端午节：端午前后酌情安排。"),
    ("wrong-weekday", "四、劳动节：5月1日（周四）", "四、劳动节：5月1日（周五）"),
    ("wrong-count", "放假调休，共8天。1月26日", "放假调休，共7天。1月26日"),
    ("weekday-as-makeup", "4月27日（周日）上班", "4月28日上班"),
]


@pytest.mark.parametrize(("old", "new"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_line_it_cannot_read_is_named(old, new):
    text = notice(2025)
    assert old in text
    with pytest.raises(YuqingError) as caught:
        parse_notice(text.replace(old, new))
    assert caught.value.code == "E_NOTICE_LINE"
    line = next(i for i, line in enumerate(text.replace(old, new).splitlines(), start=1) if new in line)
    assert caught.value.params["line"] == line


def test_a_text_without_a_year_is_refused():
    with pytest.raises(YuqingError) as caught:
        parse_notice("一、元旦：1月1日放假，与周末连休。")
    assert caught.value.code == "E_NOTICE_YEAR"


def stored(url: str) -> tuple[int, int]:
    database = Database(url)
    try:
        with database.session() as s:
            return (s.scalar(select(func.count()).select_from(HolidayYear)),
                    s.scalar(select(func.count()).select_from(AuditRecord)))
    finally:
        database.dispose()


def test_import_json_dry_run_and_refusal(db_url: str, tmp_path: Path, monkeypatch):
    assert yq(db_url, "init").code == 0
    before = stored(db_url)
    path = tmp_path / "notice.txt"
    path.write_text(notice(2025), encoding="utf-8")
    dry = yq(db_url, "holidays", "import", str(path), "--dry-run", "--json")
    assert dry.code == 0 and stored(db_url) == before
    shown = dry.json()
    assert list(shown) == ["year", "holidays", "workdays"] and shown["year"] == 2025
    assert shown["holidays"][:2] == ["2025-01-01", "2025-01-28"] and shown["holidays"] == sorted(shown["holidays"])
    assert shown["workdays"] == ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"]
    text = yq(db_url, "holidays", "import", str(path), "--dry-run")
    assert text.code == 0 and "春节" in text.out and "未保存" in text.out

    broken = tmp_path / "broken.txt"
    broken.write_text(notice(2025).replace("（周五）至6日（周日）放假，共3天", "前后放假若干天"), encoding="utf-8")
    refused = yq(db_url, "holidays", "import", str(broken))
    assert refused.code == 1 and error_code(refused) == "E_NOTICE_LINE" and "三、清明节" in refused.err
    assert str(tmp_path) not in refused.err and stored(db_url) == before

    assert yq(db_url, "holidays", "import", "-", "--json", stdin=notice(2025), monkeypatch=monkeypatch).code == 0
    assert stored(db_url) == (before[0] + 1, before[1] + 1)
    log = yq(db_url, "audit", "log", "--entity", "holiday_year", "--json").json()
    assert [r["action"] for r in log] == ["import"] and log[0]["after"]["year"] == 2025


def test_referral_in_a_year_only_the_notice_knows(db_url: str, monkeypatch):
    assert yq(db_url, "init").code == 0
    added = yq(db_url, "incident", "add", "--title", "网民反映某路段积水", "--unit", "灵宝市", "--no-classify",
               "--first-post-at", "2026-11-30 09:00")
    incident = added.out.strip()
    letter = ("referral", "add", incident, "--unit", "灵宝市", "--due-workdays", "30", "--sent-at", "2026-12-01 10:00")
    refused = yq(db_url, *letter)
    assert refused.code == 1 and error_code(refused) == "E_WORKDAY_UNKNOWN" and "holidays.toml" not in refused.err
    assert yq(db_url, "holidays", "import", "-", stdin=NOTICE_2027, monkeypatch=monkeypatch).code == 0
    accepted = yq(db_url, *letter)
    assert accepted.code == 0, accepted.err
    listed = yq(db_url, "referral", "list", "--json", "--now", "2026-12-02T12:00:00+08:00").json()
    # 22 working days left in December 2026; 1 January 2027 is off, so the 30th is Wednesday 13 January.
    assert listed[0]["due_at"] == "2027-01-13T23:59:59+08:00"
