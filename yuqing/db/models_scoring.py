"""Tables of the scoring layer: 舆情函件, manual scores, special items, zeroings, 日常考核 records,
appeals, 整改 (rectifications) and frozen score snapshots. Rows become `scoring` facts in yuqing.db.scoring_reads.

Imported at the end of db.models, so Base, Unit and Incident are already defined here.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yuqing.db.models import Base, Incident, Unit, office_column


class Referral(Base):
    """A 舆情函件: the office refers an incident to a unit by letter, due in `due_workdays` working days."""

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_office_sent", "office_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(index=True)
    due_workdays: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    replied_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    replied_by: Mapped[str | None] = mapped_column(String(100))
    reply_note: Mapped[str | None] = mapped_column(Text)
    reply_evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    reply_evidence_name: Mapped[str | None] = mapped_column(String(255))

    incident: Mapped[Incident] = relationship()
    unit: Mapped[Unit] = relationship(lazy="joined")


class ManualScore(Base):
    """Points the assessment team gives one manual indicator of one unit for one year (one row each)."""

    __tablename__ = "manual_scores"
    __table_args__ = (UniqueConstraint("unit_id", "year", "indicator"), Index("ix_manual_scores_office_year", "office_id", "year"))

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    indicator: Mapped[str] = mapped_column(String(80))
    points: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(100))

    unit: Mapped[Unit] = relationship(lazy="joined")


class SpecialItem(Base):
    """A 特别加分项/特别减分项 record; `points` is signed as entered (bonus +, penalty −)."""

    __tablename__ = "special_items"
    __table_args__ = (Index("ix_special_items_office_year", "office_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    item: Mapped[str] = mapped_column(String(80))
    points: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    on_date: Mapped[date | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))

    unit: Mapped[Unit] = relationship(lazy="joined")


class Zeroing(Base):
    """直接归零项 (第十六条): falsification found → the unit's total is 0 and its grade 不合格."""

    __tablename__ = "zeroings"
    __table_args__ = (Index("ix_zeroings_office_year", "office_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    evidence: Mapped[str] = mapped_column(Text)
    on_date: Mapped[date | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))

    unit: Mapped[Unit] = relationship(lazy="joined")


class DailyRecord(Base):
    """日常考核 record (第十条), signed points; `indicator` names the item it adjusts (None: the total)."""

    __tablename__ = "daily_records"
    __table_args__ = (Index("ix_daily_records_office_date", "office_id", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    on_date: Mapped[date] = mapped_column(index=True)
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    indicator: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))

    unit: Mapped[Unit] = relationship(lazy="joined")


class Appeal(Base):
    """A unit's appeal against one deduction (by its stable key) of one assessment year, and the decision:
    `uphold` keeps the deduction, `overturn` makes it stop counting (it stays listed)."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_office_key", "office_id", "year", "unit_id", "deduction_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    year: Mapped[int] = mapped_column(Integer)
    deduction_key: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    reason: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime]
    filed_by: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str | None] = mapped_column(String(10))  # None (pending) | uphold | overturn
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_name: Mapped[str | None] = mapped_column(String(255))

    unit: Mapped[Unit] = relationship(lazy="joined")


class Rectification(Base):
    """整改: a problem found in the assessment, the unit's deadline to fix it, and when it was done."""

    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_office_year", "office_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer, index=True)
    problem: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    done_by: Mapped[str | None] = mapped_column(String(100))
    answers: Mapped[list[Any] | None] = mapped_column(JSON)  # deduction keys / special item ids it answers

    unit: Mapped[Unit] = relationship(lazy="joined")


class ScoreSnapshot(Base):
    """A frozen `score --year` run: the scheme, `now`, a hash of the scored data, the audit trail's
    head hash at that moment, and the results in the `score --format json` shape."""

    __tablename__ = "score_snapshots"
    __table_args__ = (Index("ix_score_snapshots_office_year", "office_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    year: Mapped[int] = mapped_column(Integer, index=True)
    scheme: Mapped[str] = mapped_column(String(60))
    scheme_digest: Mapped[str] = mapped_column(String(64))
    now: Mapped[datetime]
    data_hash: Mapped[str] = mapped_column(String(64))
    audit_head: Mapped[str] = mapped_column(String(64))
    # The chain as it stood once the freeze's own audit record was appended: a checkpoint verify
    # checks (count and head), so cutting the freeze's record or anything before it is named.
    audit_count: Mapped[int | None] = mapped_column(Integer)
    audit_seal: Mapped[str | None] = mapped_column(String(64))
    results: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class OfficeScheme(Base):
    """An office's own scoring scheme (its 第十七条 method, or its yearly 附件2/附件3 points): the TOML
    text of a scheme file as the office loaded it; for a year it covers, it wins over the shipped ones."""

    __tablename__ = "office_schemes"
    __table_args__ = (UniqueConstraint("office_id", "name", name="uq_office_schemes_office_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    name: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class OfficePreset(Base):
    """An office's own window preset (its 第十七条 method's 时限): the TOML text of a preset file as the
    office loaded it, named `<office code>:<file name>`, the name its incidents are stamped with. Never
    changed once stored: an incident keeps the clock it was logged under."""

    __tablename__ = "office_presets"
    __table_args__ = (UniqueConstraint("name", name="uq_office_presets_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    name: Mapped[str] = mapped_column(String(40))  # fits incidents.preset
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))


class HolidayYear(Base):
    """One year's holidays and 调休 working days imported from the State Council's notice; a year
    stored here wins over the holiday file's year entry and over chinesecalendar."""

    __tablename__ = "holiday_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[Any]] = mapped_column(JSON)
    workdays: Mapped[list[Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(100))
