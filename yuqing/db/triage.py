"""The triage queue: pending items grouped by event; accept, merge or dismiss a whole group at once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from timeline.engine import start_time
from timeline.presets import load_preset
from yuqing.db.models import Incident, Item
from yuqing.db.service import NewIncident, Suggestion, Writer, locked
from yuqing.errors import YuqingError
from yuqing.vocabulary import LABELS


@dataclass(frozen=True)
class QueueItem:
    id: int
    title: str
    link: str
    published_at: datetime | None
    published_clamped: bool
    fetched_at: datetime
    source: str
    classification: dict[str, Any]
    unit_code: str | None
    group: str


def pending(session: Session, *, limit: int = 500) -> list[QueueItem]:
    rows = session.scalars(
        select(Item).where(Item.triage_status == "pending").order_by(Item.flagged.desc(), Item.published_at.desc().nulls_last(), Item.id.desc()).limit(limit)
    )
    return [
        QueueItem(r.id, r.title, r.link, r.published_at, r.published_clamped, r.fetched_at, r.source, r.classification or {}, r.unit_code,
                  r.group_key or str(r.id))
        for r in rows
    ]


def _item(session: Session, item_id: int) -> Item:
    item: Item = locked(session, Item, item_id, "E_ITEM_MISSING")  # decided once, even by two at once
    if item.triage_status != "pending":
        raise YuqingError("E_ITEM_DECIDED", id=item_id, status=_STATUS.get(item.triage_status, item.triage_status))
    return item


_STATUS = LABELS["ITEM"]


def _group(session: Session, item: Item) -> list[Item]:
    if not item.group_key:
        return [item]
    return list(
        session.scalars(select(Item).where(Item.group_key == item.group_key, Item.triage_status == "pending").order_by(Item.id))
    )


def _decide(writer: Writer, items: list[Item], status: str, *, incident_id: int | None, reason: str | None) -> None:
    for row in items:
        row.triage_status = status
        row.incident_id = incident_id
        row.decided_at = writer.now
        row.decided_by = writer.actor.name
        row.decision_reason = reason
    writer.session.flush()
    for row in items:
        writer.audit("item", row.id, status, {"triage_status": "pending"},
                     {"triage_status": status, "incident_id": incident_id}, reason)


def accept(writer: Writer, item_id: int, *, unit: str | None = None) -> Incident:
    """Create an incident from an item's group: first posted at the group's earliest publication,
    detected when it was first fetched or imported; the classifier's grading is the suggestion."""
    session = writer.session
    item = _item(session, item_id)
    # Staff accept what was attributed to their own unit; re-attributing an item is the office's call.
    writer.require_unit({item.unit_code} if item.unit_code else set(), "立为舆情：")
    group = _group(session, item)
    unit_text = unit or item.unit_code
    if not unit_text:
        raise YuqingError("E_TRIAGE_NO_UNIT", id=item_id)
    published = [r.published_at for r in group if r.published_at is not None]
    c = item.classification or {}
    writer.classify = lambda _t, _s: Suggestion(
        level=c.get("level"), sudden=c.get("sudden"), category=c.get("category"),
        rules_version=str(c.get("rules_version") or ""),
        details={k: c.get(k) for k in ("keywords", "figures", "topics", "unit")},
    )
    incident = writer.add_incident(
        NewIncident(
            title=item.title[:200],
            unit=unit_text,
            summary=(item.summary or item.content_text or "")[:2000] or None,
            first_post_at=min(published) if published else None,
            detected_at=min(r.fetched_at for r in group),
            source_url=item.link or None,
            classify=True,
        )
    )
    _decide(writer, group, "accepted", incident_id=incident.id, reason=None)
    return incident


def merge(writer: Writer, item_id: int, incident_id: int) -> int:
    """Attach an item's group to an existing incident as evidence; the incident keeps the earliest
    start, so an earlier publication moves its clock back (recorded in the audit trail)."""
    session = writer.session
    item = _item(session, item_id)
    incident = writer.incident(incident_id, doing="并入信息", allow_closed=True)
    writer.require_unit({incident.unit.code}, "并入信息到")
    group = _group(session, item)
    published = [r.published_at for r in group if r.published_at is not None]
    earliest = min(published) if published else None
    if earliest is not None and (incident.first_post_at is None or earliest < incident.first_post_at):
        before = {"first_post_at": incident.first_post_at.isoformat() if incident.first_post_at else None,
                  "started_at": incident.started_at.isoformat()}
        incident.first_post_at = earliest
        incident.started_at = start_time(load_preset(incident.preset), first_post_at=earliest,
                                         detected_at=incident.detected_at, logged_at=incident.logged_at)
        session.flush()
        writer.audit("incident", incident.id, "earlier_start", before,
                     {"first_post_at": earliest.isoformat(), "started_at": incident.started_at.isoformat()},
                     f"并入信息 {item_id}")
    _decide(writer, group, "merged", incident_id=incident.id, reason=None)
    return len(group)


def dismiss(writer: Writer, item_id: int, *, reason: str | None) -> int:
    session = writer.session
    item = _item(session, item_id)
    text = (reason or "").strip()
    if not text:
        raise YuqingError("E_REASON_REQUIRED", what="排除信息")
    writer.require_unit({item.unit_code} if item.unit_code else set(), "排除")
    group = _group(session, item)
    _decide(writer, group, "dismissed", incident_id=None, reason=text)
    return len(group)
