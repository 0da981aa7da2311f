"""The working-day calendar as referral counting reads it: the holiday file, then years imported from
the State Council's notice (stored here, winning over the file's year entry and chinesecalendar)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.notice import Notice
from scoring.workdays import WorkdayCalendar, YearSchedule, load_calendar, package_years
from yuqing.db.models_scoring import HolidayYear
from yuqing.db.service import Writer


def stored_years(session: Session) -> dict[int, YearSchedule]:
    rows = session.scalars(select(HolidayYear)).all()
    return {
        r.year: YearSchedule(r.year, frozenset(date.fromisoformat(d) for d in r.holidays),
                             frozenset(date.fromisoformat(d) for d in r.workdays), r.source)
        for r in rows
    }


def calendar_for(session: Session) -> WorkdayCalendar:
    """The holiday file's calendar with the imported years laid over its year entries."""
    calendar = load_calendar()
    imported = stored_years(session)
    if not imported:
        return calendar
    return replace(calendar, years={**calendar.years, **imported})


def import_notice(writer: Writer, notice: Notice, *, source: str = "") -> HolidayYear:
    """Store (or replace) the notice's year; audited with the previous schedule as `before`."""
    writer.require_admin("导入节假日安排")
    row = writer.session.get(HolidayYear, notice.year)
    data = notice.as_json()
    before = None
    if row is None:
        row = HolidayYear(year=notice.year)
        writer.session.add(row)
    else:
        before = {"year": row.year, "holidays": list(row.holidays), "workdays": list(row.workdays)}
    row.holidays = data["holidays"]
    row.workdays = data["workdays"]
    row.source = source
    row.imported_at = writer.now
    row.imported_by = writer.actor.name
    writer.session.flush()
    writer.audit("holiday_year", notice.year, "import", before, data)
    return row


@dataclass(frozen=True)
class KnownYears:
    package: tuple[int, int]
    file_years: tuple[int, ...]
    imported: tuple[int, ...]

    def knows(self, year: int) -> bool:
        first, last = self.package
        return first <= year <= last or year in self.file_years or year in self.imported

    def missing_next_year(self, now: datetime) -> int | None:
        """From November on, next year if no source knows it (the notice is usually out by then)."""
        from timeline.clock import BEIJING

        today = now.astimezone(BEIJING).date()
        return today.year + 1 if today.month >= 11 and not self.knows(today.year + 1) else None


def known_years(session: Session) -> KnownYears:
    calendar = load_calendar()
    return KnownYears(package_years(), tuple(sorted(calendar.years)), tuple(sorted(stored_years(session))))
