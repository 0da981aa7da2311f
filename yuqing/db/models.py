"""SQLAlchemy 2 typed models: units, incidents and what happened to them, and the audit chain."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from yuqing.db.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Office(Base):
    """An assessing office (考核主体): the city's 政务公开办, a county's, a zone's. Each has its own unit
    registry and records; `unit_code` names the unit of the parent's registry that this office's own
    government is (灵宝's office → the city's unit 灵宝市), so that an incident about the county
    government itself is the county's record and the city's at once."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    # The window preset this office's new incidents are stamped with (None: the setting YUQING_PRESET).
    preset: Mapped[str | None] = mapped_column(String(40))


def office_column() -> Mapped[int]:
    """The office a record belongs to. Filled from the session's office when left empty (db.offices)."""
    return mapped_column(ForeignKey("offices.id"), nullable=False)


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (Index("ix_units_office", "office_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique in the installation, not only in the office: other tables refer to units by code.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    office_id: Mapped[int] = office_column()
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    predecessors: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    merged_into: Mapped[str | None] = mapped_column(String(40))


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_started", "status", "started_at"),
        Index("ix_incidents_office_status_started", "office_id", "status", "started_at"),
        # Pick lists: the newest open incidents, read backwards by number (yuqing.db.incidents.incident_choices).
        Index("ix_incidents_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    level: Mapped[str | None] = mapped_column(String(10))
    sudden: Mapped[bool | None] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(20))
    source_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed | voided
    preset: Mapped[str] = mapped_column(String(40))
    first_post_at: Mapped[datetime | None]
    detected_at: Mapped[datetime | None]
    logged_at: Mapped[datetime]
    started_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    # What the classifier suggested, which fields came from it, and from which rule data.
    suggestion: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    suggested_fields: Mapped[list[Any]] = mapped_column(default=list)
    rules_version: Mapped[str | None] = mapped_column(String(40))

    unit: Mapped[Unit] = relationship(lazy="joined")
    co_units: Mapped[list[IncidentCoUnit]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentCoUnit.id"
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="incident", order_by="(Action.at, Action.id)", cascade="all, delete-orphan"
    )
    regrades: Mapped[list[Reclassification]] = relationship(
        back_populates="incident", order_by="(Reclassification.at, Reclassification.id)", cascade="all, delete-orphan"
    )
    transfers: Mapped[list[Transfer]] = relationship(
        back_populates="incident", order_by="(Transfer.at, Transfer.id)", cascade="all, delete-orphan"
    )


class OpenWindow(Base):
    """One applicable deadline window of an open incident, as the board ranks it in SQL: its due
    instant, when it turns amber, and its earliest satisfying action (None while unmet). Kept by
    the write service (yuqing/db/windows.py); closed and voided incidents have none."""

    __tablename__ = "open_windows"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    at_risk_at: Mapped[datetime]
    satisfied_at: Mapped[datetime | None]


class IncidentCoUnit(Base):
    __tablename__ = "incident_co_units"
    __table_args__ = (UniqueConstraint("incident_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))

    incident: Mapped[Incident] = relationship(back_populates="co_units")
    unit: Mapped[Unit] = relationship(lazy="joined")


class Action(Base):
    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    channels: Mapped[list[Any]] = mapped_column(default=list)
    by_principal: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence_url: Mapped[str | None] = mapped_column(Text)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_name: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(100))

    incident: Mapped[Incident] = relationship(back_populates="actions")
    unit: Mapped[Unit] = relationship(lazy="joined")


class Reclassification(Base):
    __tablename__ = "reclassifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)

    incident: Mapped[Incident] = relationship(back_populates="regrades")


class Transfer(Base):
    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    from_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))

    incident: Mapped[Incident] = relationship(back_populates="transfers")
    from_unit: Mapped[Unit] = relationship(foreign_keys=[from_unit_id], lazy="joined")
    to_unit: Mapped[Unit] = relationship(foreign_keys=[to_unit_id], lazy="joined")


class AuditRecord(Base):
    """Append-only, SHA-256 chained. `before`/`after` hold the exact canonical JSON that was hashed."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC-SHA-256(audit key, hash); the key lives outside the database (NULL: written before the key).
    mac: Mapped[str | None] = mapped_column(String(64))


class Meta(Base):
    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    """An account. admin = the city office; staff = one unit; viewer = read-only. No plain passwords."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    office_id: Mapped[int] = office_column()
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    unit: Mapped[Unit | None] = relationship(lazy="joined")


class Feed(Base):
    """A source polled for items (RSS/Atom URL or local file), or the pseudo-source of an import.

    A failure is data on this row (error count, last error), reset on success (Miniflux's habit)."""

    __tablename__ = "feeds"
    __table_args__ = (
        Index("ix_feeds_due", "enabled", "next_poll_at"),
        Index("ix_feeds_office", "office_id", "id"),
        # Two offices may poll the same address: one feed each.
        UniqueConstraint("office_id", "url", name="uq_feeds_office_url"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(10), default="feed")  # feed | file | import
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Shanghai")
    interval_s: Mapped[int] = mapped_column(Integer, default=600)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the last body parsed: an HTTP feed without validators that sends the same bytes
    # again is not parsed again.
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_fetch_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None]
    next_poll_at: Mapped[datetime | None]
    last_item_at: Mapped[datetime | None]
    typical_gap_s: Mapped[int | None] = mapped_column(Integer)
    # Items of a successful poll that could not be stored as they were (set aside, the rest stored).
    skipped_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_skip_reason: Mapped[str | None] = mapped_column(Text)
    # Added by a unit's staff: every fetch re-checks that each hop reaches a public address (or a
    # listed intranet host), not only the check when it was added (DNS answers change).
    public_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    last_skip_at: Mapped[datetime | None]

    unit: Mapped[Unit | None] = relationship(lazy="joined")


class Item(Base):
    """One piece of published opinion, however many feeds carried it."""

    __tablename__ = "items"
    __table_args__ = (
        # The link can be any length (PostgreSQL's B-tree refuses rows over ~2.7 kB): the unique key
        # is its sha256; items without a link have NULL here, which a unique index lets repeat. One
        # item per office: the same link in two offices' feeds is each office's own item.
        Index("ux_items_office_link_key", "office_id", "link_key", unique=True),
        UniqueConstraint("office_id", "content_hash", name="uq_items_office_content_hash"),
        # Grouping at intake reads the heads of one office's open groups of one unit and kind near a
        # time (ingest.triage, yuqing.db.items._open_groups).
        Index("ix_items_open_groups", "office_id", "triage_status", "unit_code", "event_kind", "group_head",
              "group_last_at"),
        # The 待研判 page ranks one office's groups of a state by their heads, in queue order; the
        # office's items of a state (lists, counts) are read by its first two columns. Only the
        # indexes a read needs: each one costs every new item a page of the intake's write
        # (migration 0026 dropped four that nothing read).
        Index("ix_items_office_heads", "office_id", "triage_status", "group_head", "flagged", "published_at", "id"),
        # A group's items (the page's members) by the office's key, and its heads alone (intake's
        # yuqing.db.heads.settle_arrivals, a seek on all four columns).
        Index("ix_items_office_group", "office_id", "group_key", "triage_status", "group_head"),
        # The feeds page's count of each feed's items of the last 24 hours (yuqing.db.feeds.list_feeds).
        Index("ix_items_office_fetched", "office_id", "fetched_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text, default="")
    normalized_link: Mapped[str] = mapped_column(Text, default="")
    link_key: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    content_text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    published_raw: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None]
    published_clamped: Mapped[bool] = mapped_column(Boolean, default=False)
    # Only the day was written (2009年8月8日下午): published_at is that day's start, not a time.
    published_date_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime]
    classification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    unit_code: Mapped[str | None] = mapped_column(String(40))
    group_key: Mapped[str | None] = mapped_column(String(200))
    # The group's first item in queue order (flagged first, newest first) among its items of the
    # same triage status; an item without a group key is its own group's head. Kept at intake and at
    # each decision (yuqing.db.heads.refresh_heads), so a page of groups is read by an index.
    group_head: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # On a head: the earliest and latest publication among its group's items (NULL when none is
    # dated), kept with the head, so intake windows a new item on the whole group, not on its head's
    # time alone (a late report of the event's first day still joins a group its newer items head).
    group_first_at: Mapped[datetime | None]
    group_last_at: Mapped[datetime | None]
    # For grouping, stored with a pending item: its kind (ingest.triage.event_kind) and fingerprint
    # (trigger words and bigrams, ingest.triage.fingerprint), so a new item is compared by columns.
    event_kind: Mapped[str | None] = mapped_column(String(200))
    fingerprint: Mapped[str | None] = mapped_column(Text)
    # pending: waits in triage; ignored: nothing to act on; accepted / merged / dismissed: decided.
    triage_status: Mapped[str] = mapped_column(String(12), default="ignored")
    # Why it waits or was set aside (ingest.triage.REASONS): chosen_row, flagged, topic, no_unit, …
    triage_reason: Mapped[str | None] = mapped_column(String(40))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class ItemSighting(Base):
    """Feed × GUID → item: the first dedup key, and how one item is 'seen by both' feeds."""

    __tablename__ = "item_sightings"
    __table_args__ = (UniqueConstraint("feed_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(2000))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    seen_at: Mapped[datetime]


class AlertDelivery(Base):
    """One alert to one channel: sent once per (key, channel); failures are retried on later runs."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("key", "channel"),
        Index("ix_alert_deliveries_office_tried", "office_id", "last_tried_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Its incident's office, else its feed's (yuqing.db.offices fills it); audit checkpoints: the root's.
    office_id: Mapped[int] = office_column()
    key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    first_tried_at: Mapped[datetime]
    last_tried_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

# Tables of the scoring layer (referrals, manual scores, appeals, snapshots) live in their own module.
from yuqing.db import models_scoring  # noqa: E402,F401 - registers the scoring tables on Base after Unit and Incident exist


class ApiToken(Base):
    """A bearer token for the HTTP API: only its SHA-256 is kept; it acts with a role (and unit)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    office_id: Mapped[int] = office_column()
    role: Mapped[str] = mapped_column(String(10))
    unit_code: Mapped[str | None] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class Screen(Base):
    """A wall display: its URL carries a random token (only the SHA-256 kept) that opens the board read-only."""

    __tablename__ = "screens"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = office_column()
    name: Mapped[str] = mapped_column(String(60), unique=True)
    unit_code: Mapped[str | None] = mapped_column(String(40))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class LoginSession(Base):
    """A dashboard login: the browser's cookie holds a random token, only its SHA-256 is kept here, so
    every replica resolves it and a server restart keeps it."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    client: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]


class LoginFailures(Base):
    """Failed logins per (account name as typed, client address): the pair's growing delay.

    Keyed by the pair, not the account, so that a stranger guessing from elsewhere cannot lock the
    account out of the office; by the typed name, so an unknown name is throttled like a real one.
    """

    __tablename__ = "login_failures"
    __table_args__ = (UniqueConstraint("account", "client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(60))
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]
