"""The write service: every change to incidents and units goes through here, with the acting user,
validated first, and with its audit record appended in the same transaction.

Over 500 lines: the write service is one class on purpose, so that every write passes the same role
checks, row locks and audit append; splitting it would put a second door beside the first.
"""
from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from classify.units import UnitRef, UnitResolver
from timeline.clock import display_seconds, iso_beijing
from timeline.engine import start_time
from timeline.model import CHANNELS, parse_action_kind, parse_category, parse_channel, parse_level
from timeline.presets import load_preset
from yuqing.db import audit, windows
from yuqing.db.models import Action, Incident, IncidentCoUnit, Reclassification, Transfer, Unit
from yuqing.errors import YuqingError
from yuqing.vocabulary import LABELS

TITLE_LIMIT = 200
TEXT_LIMIT = 5000
FUTURE_TOLERANCE = timedelta(minutes=5)
BACKDATE_LIMIT = timedelta(hours=48)
ROLE_LABELS = LABELS["ROLE"]


@dataclass(frozen=True)
class Actor:
    """Who performs a write. Accounts and roles narrow this later; the name goes into the audit trail."""

    name: str
    role: str = "admin"
    unit_code: str | None = None
    # The account's office (None: the local operator, an administrator of the root office).
    office_id: int | None = None


@dataclass(frozen=True)
class Suggestion:
    """What the classifier proposes for an incident (pure result, already reduced to these fields)."""

    level: str | None
    sudden: bool | None
    category: str | None
    rules_version: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewIncident:
    title: str
    unit: str
    co_units: tuple[str, ...] = ()
    parent_id: int | None = None
    summary: str | None = None
    first_post_at: datetime | None = None
    detected_at: datetime | None = None
    level: str | None = None
    sudden: bool | None = None
    category: str | None = None
    source_url: str | None = None
    classify: bool = True


@dataclass(frozen=True)
class NewAction:
    kind: str
    at: datetime
    channels: tuple[str, ...] = ()
    by_principal: bool = False
    evidence_url: str | None = None
    evidence_file: Path | None = None
    note: str | None = None
    reason: str | None = None


Classify = Callable[[str, str | None], Suggestion]


def locked(session: Session, model: Any, row_id: int, missing: str) -> Any:
    """The row with this primary key, locked for the rest of the transaction (PostgreSQL: SELECT …
    FOR UPDATE without joins, which it cannot lock; SQLite already runs one writer at a time), so a
    status checked on it cannot change before the write. Missing → YuqingError(missing, id=…)."""
    session.execute(select(model.id).where(model.id == row_id).with_for_update())
    row = session.get(model, row_id)
    if row is None:
        raise YuqingError(missing, id=row_id)
    return row


def _ref(u: Unit) -> UnitRef:
    return UnitRef(u.code, u.name, u.kind, tuple(u.aliases), tuple(u.predecessors), u.active, u.merged_into)


def unit_refs(session: Session, *, counterpart: bool = True) -> tuple[UnitRef, ...]:
    """The session's office's registry, and (`counterpart`) the parent's unit that is this office's
    own government (db.offices: a county's incident about itself names it)."""
    from yuqing.db.offices import counterpart_unit, scoped_units

    rows = list(session.scalars(select(Unit).where(scoped_units(session)).order_by(Unit.id)).all())
    own = counterpart_unit(session) if counterpart else None
    return tuple(_ref(u) for u in ([*rows, own] if own is not None else rows))


def incident_snapshot(incident: Incident) -> dict[str, Any]:
    """What the audit trail records of an incident when it is created; `audit verify` compares the
    trail's folded state with this, recomputed from the current row (yuqing/db/auditstate.py)."""
    return {
        "title": incident.title,
        "unit": incident.unit.code if incident.unit else None,
        "co_units": sorted(c.unit.code for c in incident.co_units),
        "parent_id": incident.parent_id,
        "level": incident.level,
        "sudden": incident.sudden,
        "category": incident.category,
        "status": incident.status,
        "preset": incident.preset,
        "first_post_at": iso_beijing(incident.first_post_at),
        "detected_at": iso_beijing(incident.detected_at),
        "started_at": iso_beijing(incident.started_at),
        "closed_at": iso_beijing(incident.closed_at),
        "voided_at": iso_beijing(incident.voided_at),
        "suggested_fields": list(incident.suggested_fields or []),
    }


def action_snapshot(action: Action) -> dict[str, Any]:
    """What the audit trail records of an action when it is written — and what `audit verify`
    recomputes from the current row (yuqing/db/auditstate.py) to find one edited behind the app."""
    return {
        "incident_id": action.incident_id,
        "kind": action.kind,
        "at": iso_beijing(action.at),
        "channels": list(action.channels or []),
        "by_principal": action.by_principal,
        "evidence_url": action.evidence_url,
        "evidence_sha256": action.evidence_sha256,
        "note": action.note,
    }


class Writer:
    """All writes for one transaction, by one actor, at one `now`."""

    def __init__(
        self,
        session: Session,
        actor: Actor,
        *,
        now: datetime,
        preset: str,
        evidence_dir: Path | None = None,
        classify: Classify | None = None,
        evidence_max_bytes: int = 50 * 1024 * 1024,
    ) -> None:
        self.evidence_max_bytes = evidence_max_bytes
        self.session = session
        self.actor = actor
        # Recorded times are kept to the second, like every deadline judged from them.
        self.now = now.replace(microsecond=0)
        self.preset = preset
        self.evidence_dir = evidence_dir
        self.classify = classify
        self._resolver: UnitResolver | None = None
        self._fallback: UnitResolver | None = None

    # --- lookups -------------------------------------------------------------------------------
    def resolver(self) -> UnitResolver:
        """Names resolve within the office's own registry first (灵宝市教育局 is 灵宝's 教育局 for
        灵宝's office), then to the parent's unit that is the office's own government."""
        from yuqing.db.offices import office_place

        if self._resolver is None:
            self._resolver = UnitResolver(unit_refs(self.session, counterpart=False), place=office_place(self.session))
        return self._resolver

    def unit(self, text: str) -> Unit:
        try:
            ref = self.resolver().resolve(text)
        except YuqingError as exc:
            if self._fallback is None:
                from yuqing.db.offices import office_place

                own = unit_refs(self.session)[len(self.resolver().units):]
                self._fallback = UnitResolver(own, place=office_place(self.session))
            try:
                ref = self._fallback.resolve(text)
            except YuqingError:
                raise exc from None
        unit = self.session.scalar(select(Unit).where(Unit.code == ref.code))
        assert unit is not None
        return unit

    def unit_in_office(self, text: str, office_id: int) -> Unit:
        """A unit named within another office's registry (an administrator setting that office up)."""
        from yuqing.db.offices import current_office_id, office_place

        if office_id == current_office_id(self.session):
            return self.unit(text)
        rows = self.session.scalars(select(Unit).where(Unit.office_id == office_id).order_by(Unit.id)).all()
        ref = UnitResolver(tuple(_ref(u) for u in rows), place=office_place(self.session, office_id)).resolve(text)
        unit = self.session.scalar(select(Unit).where(Unit.code == ref.code))
        assert unit is not None
        return unit

    def incident(self, incident_id: int, *, doing: str, allow_closed: bool = False) -> Incident:
        incident: Incident = locked(self.session, Incident, incident_id, "E_INCIDENT_MISSING")
        if incident.status == "voided":
            raise YuqingError("E_INCIDENT_VOIDED", id=incident_id, what=doing)
        if incident.status == "closed" and not allow_closed:
            raise YuqingError("E_INCIDENT_CLOSED", id=incident_id, what=doing)
        return incident

    # --- permissions: enforced here, whatever the caller shows or hides -----------------------
    def require_admin(self, what: str) -> None:
        if self.actor.role != "admin":
            raise YuqingError("E_FORBIDDEN", role=ROLE_LABELS.get(self.actor.role, self.actor.role), what=what)

    def require_writer(self, what: str) -> None:
        if self.session.info.get("office_read_only"):
            from yuqing.db.offices import office_by_id

            office = office_by_id(self.session, self.session.info["office_id"])
            raise YuqingError("E_OFFICE_READ_ONLY", office=office.name, what=what)
        if self.actor.role not in ("admin", "staff"):
            raise YuqingError("E_FORBIDDEN", role=ROLE_LABELS.get(self.actor.role, self.actor.role), what=what)

    def require_office(self, office_id: int, what: str) -> None:
        """An administrator sets up their own office and the offices under it; no one else does."""
        from yuqing.db.offices import descendants, office_by_id, root_office_id

        self.require_admin(what)
        mine = self.actor.office_id or root_office_id(self.session)
        if office_id not in descendants(self.session, mine):
            office = office_by_id(self.session, office_id)
            raise YuqingError("E_OFFICE_FORBIDDEN", office=office.name, what=what)

    def require_unit(self, unit_codes: set[str], what: str, *, code: str = "E_FORBIDDEN_UNIT") -> None:
        """Staff may only touch records of their own unit (lead unit, or co-unit where allowed)."""
        self.require_writer(what)
        if self.actor.role == "staff" and self.actor.unit_code not in unit_codes:
            unit = self.session.scalar(select(Unit.name).where(Unit.code == self.actor.unit_code)) or self.actor.unit_code
            raise YuqingError(code, what=what, unit=unit)

    def _not_future(self, value: datetime | None, what: str) -> None:
        if value is not None and value > self.now + FUTURE_TOLERANCE:
            raise YuqingError("E_TIME_IN_FUTURE", what=what, value=display_seconds(value))

    def windows_changed(self, incident: Incident) -> None:
        """Recompute the incident's stored open windows (yuqing/db/windows.py) after a write that can
        move them: its start, grading, actions or status. Every such write calls this."""
        self.session.flush()
        windows.refresh(self.session, [incident.id])

    def audit(self, entity: str, entity_id: Any, action: str, before: Any, after: Any, reason: str | None = None) -> None:
        audit.append(
            self.session,
            actor=self.actor.name,
            entity=entity,
            entity_id=entity_id,
            action=action,
            at=self.now,
            before=before,
            after=after,
            reason=reason,
        )

    # --- incidents -----------------------------------------------------------------------------
    def add_incident(self, new: NewIncident) -> Incident:
        title = (new.title or "").strip()
        if not title:
            raise YuqingError("E_TITLE_EMPTY")
        if len(title) > TITLE_LIMIT:
            raise YuqingError("E_TITLE_TOO_LONG", length=len(title), limit=TITLE_LIMIT)
        summary = (new.summary or "").strip() or None
        if summary and len(summary) > TEXT_LIMIT:
            raise YuqingError("E_TEXT_TOO_LONG", field="摘要", length=len(summary), limit=TEXT_LIMIT)
        self.require_writer("登记舆情")
        lead = self.unit(new.unit)
        self.require_unit({lead.code}, "登记")
        co_units: list[Unit] = []
        for text in new.co_units:
            co = self.unit(text)
            if co.id == lead.id:
                raise YuqingError("E_CO_UNIT_IS_LEAD", unit=co.name)
            if co.id not in {c.id for c in co_units}:
                co_units.append(co)
        if co_units and self.actor.role == "staff":
            # Naming co-units puts obligations on other units: the office's decision.
            self.require_admin("指定协办单位")
        if new.parent_id is not None:
            parent = self.session.get(Incident, new.parent_id)
            if parent is None:
                raise YuqingError("E_PARENT_MISSING", id=new.parent_id)
            # A secondary incident counts against its parent's unit: staff only link their own.
            self.require_unit({parent.unit.code}, "关联")
        self._not_future(new.first_post_at, "首发时间")
        self._not_future(new.detected_at, "发现时间")
        level = parse_level(new.level)
        category = parse_category(new.category)
        sudden = new.sudden
        suggestion: Suggestion | None = None
        suggested: list[str] = []
        if new.classify and self.classify is not None:
            # Stored even when a person gave every field: `classify report` measures the suggestion
            # against the values people chose.
            suggestion = self.classify(title, summary)
            if level is None and suggestion.level is not None:
                level, suggested = suggestion.level, [*suggested, "level"]
            if sudden is None and suggestion.sudden is not None:
                sudden, suggested = suggestion.sudden, [*suggested, "sudden"]
            if category is None and suggestion.category is not None:
                category, suggested = suggestion.category, [*suggested, "category"]
        from yuqing.db.office_rules import office_preset

        # The office's own preset when it chose one (yuqing offices preset), else the installation's.
        preset = load_preset(office_preset(self.session, self.preset))
        detected_at = new.detected_at or self.now
        incident = Incident(
            title=title,
            summary=summary,
            unit=lead,
            parent_id=new.parent_id,
            level=level,
            sudden=sudden,
            category=category,
            source_url=(new.source_url or "").strip() or None,
            status="open",
            preset=preset.name,
            first_post_at=new.first_post_at,
            detected_at=detected_at,
            logged_at=self.now,
            started_at=start_time(preset, first_post_at=new.first_post_at, detected_at=detected_at, logged_at=self.now),
            created_by=self.actor.name,
            suggestion=None
            if suggestion is None
            else {
                "level": suggestion.level,
                "sudden": suggestion.sudden,
                "category": suggestion.category,
                **suggestion.details,
            },
            suggested_fields=suggested,
            rules_version=suggestion.rules_version if suggestion else None,
        )
        incident.co_units = [IncidentCoUnit(unit=u) for u in co_units]
        self.session.add(incident)
        self.session.flush()
        self.audit("incident", incident.id, "create", None, incident_snapshot(incident))
        self.windows_changed(incident)
        return incident

    def record_action(self, incident_id: int, new: NewAction) -> Action:
        incident = self.incident(incident_id, doing="登记处置", allow_closed=True)
        self.require_unit({incident.unit.code, *(c.unit.code for c in incident.co_units)}, "登记处置")
        # A closed incident takes a fact found late: an action dated at or before the close, with a
        # reason, audited as a late entry. Anything after the close needs `incident reopen` first.
        late_entry = incident.status == "closed"
        if late_entry:
            closed_at = incident.closed_at
            if closed_at is None or new.at > closed_at:
                raise YuqingError("E_INCIDENT_CLOSED", id=incident_id, what="登记办结之后的处置")
            if not (new.reason or "").strip():
                raise YuqingError("E_LATE_ENTRY_REASON", id=incident_id, closed=display_seconds(closed_at))
        kind = parse_action_kind(new.kind)
        channels: list[str] = []
        for text in new.channels:
            try:
                code = parse_channel(text)
            except YuqingError as exc:
                exc.params["choices"] = "、".join(CHANNELS.values())
                raise
            if code not in channels:
                channels.append(code)
        if new.at < incident.started_at:
            raise YuqingError("E_ACTION_BEFORE_START", start=display_seconds(incident.started_at))
        self._not_future(new.at, "处置时间")
        reason = (new.reason or "").strip() or None
        if new.at < self.now - BACKDATE_LIMIT and reason is None:
            raise YuqingError("E_BACKDATE_REASON", hours=int(BACKDATE_LIMIT.total_seconds() // 3600))
        sha = name = None
        if new.evidence_file is not None:
            sha, name = self._store_evidence(new.evidence_file)
        action = Action(
            incident=incident,
            unit_id=self._acting_unit_id(incident),
            kind=kind,
            at=new.at,
            channels=channels,
            by_principal=new.by_principal,
            evidence_url=(new.evidence_url or "").strip() or None,
            evidence_sha256=sha,
            evidence_name=name,
            note=(new.note or "").strip() or None,
            reason=reason,
            recorded_at=self.now,
            recorded_by=self.actor.name,
        )
        self.session.add(action)
        self.session.flush()
        self.audit(
            "action",
            action.id,
            "late_entry" if late_entry else "create",
            None,
            action_snapshot(action),
            reason,
        )
        self.windows_changed(incident)
        return action

    def _acting_unit_id(self, incident: Incident) -> int:
        if self.actor.role == "staff" and self.actor.unit_code != incident.unit.code:
            return self.unit(self.actor.unit_code or "").id
        return incident.unit_id

    def store_evidence(self, path: Path) -> tuple[str, str]:
        """Copy an evidence file into the evidence store (content-addressed); (sha256, file name)."""
        return self._store_evidence(path)

    def _store_evidence(self, path: Path) -> tuple[str, str]:
        """Copy one evidence file into the store, hashed while streaming.

        Only a regular file is taken: no symlink (it could point at /etc/shadow, and whoever may view
        the incident may download its evidence), no device (/dev/zero never ends), nothing under
        /proc or /sys; and no more than `evidence_max_bytes`.
        """
        if self.evidence_dir is None:
            raise YuqingError("E_EVIDENCE_FILE", path=str(path), detail="未配置证据目录")
        source = Path(path)
        real = os.path.realpath(source)
        if real.startswith(("/proc/", "/sys/", "/dev/")):
            raise YuqingError("E_EVIDENCE_NOT_REGULAR", path=str(path))
        try:
            fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the last component is a symlink
                raise YuqingError("E_EVIDENCE_NOT_REGULAR", path=str(path)) from exc
            raise YuqingError("E_EVIDENCE_FILE", path=str(path), detail=exc.strerror or str(exc)) from exc
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        partial = self.evidence_dir / f".upload-{os.getpid()}-{id(source)}.part"
        try:
            with os.fdopen(fd, "rb") as handle, partial.open("wb") as out:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise YuqingError("E_EVIDENCE_NOT_REGULAR", path=str(path))
                size = 0
                while chunk := handle.read(1024 * 1024):
                    size += len(chunk)
                    if size > self.evidence_max_bytes:
                        raise YuqingError("E_EVIDENCE_TOO_LARGE", path=str(path),
                                          limit=self.evidence_max_bytes // (1024 * 1024))
                    digest.update(chunk)
                    out.write(chunk)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise YuqingError("E_EVIDENCE_FILE", path=str(path), detail=exc.strerror or str(exc)) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        sha = digest.hexdigest()
        target = self.evidence_dir / sha[:2] / sha
        if target.exists():
            partial.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(partial), str(target))

            # The file goes in before the row; if the transaction does not commit, take it out again.
            @event.listens_for(self.session, "after_rollback", once=True)
            def _discard(_session: Session) -> None:
                target.unlink(missing_ok=True)

            @event.listens_for(self.session, "after_commit", once=True)
            def _keep(_session: Session) -> None:
                event.remove(self.session, "after_rollback", _discard)

        return sha, Path(path).name

    def reclassify(
        self,
        incident_id: int,
        *,
        reason: str | None,
        level: str | None = None,
        sudden: bool | None = None,
        category: str | None = None,
    ) -> Reclassification:
        incident = self.incident(incident_id, doing="调整分级", allow_closed=True)
        self.require_admin("调整舆情分级")
        reason = self._reason(reason, "调整分级")
        new_level = parse_level(level) if level is not None else incident.level
        new_category = parse_category(category) if category is not None else incident.category
        new_sudden = sudden if sudden is not None else incident.sudden
        before = {"level": incident.level, "sudden": incident.sudden, "category": incident.category}
        after = {"level": new_level, "sudden": new_sudden, "category": new_category}
        if before == after:
            raise YuqingError("E_RECLASSIFY_NOTHING")
        regrade = Reclassification(
            incident=incident, at=self.now, actor=self.actor.name, reason=reason, before=before, after=after
        )
        incident.level, incident.sudden, incident.category = new_level, new_sudden, new_category
        incident.suggested_fields = [
            f for f in (incident.suggested_fields or []) if after[f] == before[f]
        ]
        self.session.add(regrade)
        self.session.flush()
        self.audit("incident", incident.id, "reclassify", before, after, reason)
        self.windows_changed(incident)
        return regrade

    def transfer(self, incident_id: int, *, unit: str, reason: str | None, at: datetime | None = None) -> Transfer:
        """Hand the lead to `unit` from `at` (default now; backdated like an action: not before the
        start, not in the future, not before the last transfer). Windows due before `at` stay with
        the unit that led then (scoring.facts.ScoredIncident.window_unit)."""
        incident = self.incident(incident_id, doing="转办")
        self.require_admin("转办舆情")
        reason = self._reason(reason, "转办")
        target = self.unit(unit)
        if target.id == incident.unit_id:
            raise YuqingError("E_TRANSFER_SAME_UNIT", id=incident.id, unit=target.name)
        moved_at = at or self.now
        if moved_at < incident.started_at:
            raise YuqingError("E_TRANSFER_BEFORE_START", start=display_seconds(incident.started_at))
        self._not_future(moved_at, "转办时间")
        last = max((t.at for t in incident.transfers), default=None)
        if last is not None and moved_at < last:
            raise YuqingError("E_TRANSFER_BEFORE_LAST", last=display_seconds(last))
        transfer = Transfer(
            incident=incident,
            at=moved_at,
            actor=self.actor.name,
            reason=reason,
            from_unit_id=incident.unit_id,
            to_unit_id=target.id,
        )
        self.session.add(transfer)
        before = {"unit": incident.unit.code}
        incident.unit = target
        incident.co_units = [c for c in incident.co_units if c.unit_id != target.id]
        self.session.flush()
        self.audit("incident", incident.id, "transfer", before, {"unit": target.code, "at": iso_beijing(moved_at)}, reason)
        self.windows_changed(incident)  # the clock keeps running: nothing moves, kept for certainty
        return transfer

    def void(self, incident_id: int, *, reason: str | None) -> Incident:
        incident = self.incident(incident_id, doing="作废", allow_closed=True)
        self.require_admin("作废舆情")
        reason = self._reason(reason, "作废")
        before = {"status": incident.status}
        incident.status = "voided"
        incident.voided_at = self.now
        incident.void_reason = reason
        self.session.flush()
        self.audit("incident", incident.id, "void", before, {"status": "voided"}, reason)
        self.windows_changed(incident)
        return incident

    def close(self, incident_id: int, *, at: datetime | None = None) -> Incident:
        incident = self.incident(incident_id, doing="办结")
        self.require_unit({incident.unit.code}, "办结")
        closed_at = at or self.now
        if closed_at < incident.started_at:
            raise YuqingError("E_CLOSE_BEFORE_START", start=display_seconds(incident.started_at))
        self._not_future(closed_at, "办结时间")
        incident.status = "closed"
        incident.closed_at = closed_at
        self.session.flush()
        self.audit("incident", incident.id, "close", {"status": "open"}, {"status": "closed", "closed_at": iso_beijing(closed_at)})
        self.windows_changed(incident)
        return incident

    def reopen(self, incident_id: int, *, reason: str | None) -> Incident:
        """Undo a close made by mistake (the office only); the clocks never stopped, so no verdict changes."""
        self.require_admin("重新打开舆情")
        reason = self._reason(reason, "重新打开")
        incident = self.incident(incident_id, doing="重新打开", allow_closed=True)
        if incident.status != "closed":
            raise YuqingError("E_INCIDENT_NOT_CLOSED", id=incident_id)
        before = {"status": "closed", "closed_at": iso_beijing(incident.closed_at)}
        incident.status = "open"
        incident.closed_at = None
        self.session.flush()
        self.audit("incident", incident.id, "reopen", before, {"status": "open"}, reason)
        self.windows_changed(incident)
        return incident

    def rebuild_windows(self) -> int:
        """Recompute the stored windows of every open incident (the office; after a preset file
        changed or rows were loaded around the write service). Derived data: no fact changes."""
        self.require_admin("重算时限")
        return windows.rebuild(self.session)

    @staticmethod
    def _reason(reason: str | None, what: str) -> str:
        text = (reason or "").strip()
        if not text:
            raise YuqingError("E_REASON_REQUIRED", what=what)
        return text

    # --- units ---------------------------------------------------------------------------------
    def sync_units(self, refs: tuple[UnitRef, ...], *, office_id: int | None = None) -> tuple[int, int]:
        """Insert new units and update changed ones by code into an office's registry (the session's
        office when None); returns (added, updated). A code is unique in the installation: one another
        office uses is refused."""
        from yuqing.db.offices import current_office_id, office_by_id

        self.require_admin("修改单位名单")
        office = current_office_id(self.session) if office_id is None else office_id
        self.require_office(office, "修改单位名单")
        codes = [ref.code for ref in refs]
        existing = {u.code: u for u in self.session.scalars(select(Unit).where(Unit.code.in_(codes))).all()}
        for ref in refs:
            row = existing.get(ref.code)
            if row is not None and row.office_id != office:
                raise YuqingError("E_UNIT_CODE_TAKEN", value=ref.code, name=row.name,
                                  office=office_by_id(self.session, row.office_id).name)
        added = updated = 0
        for ref in refs:
            values = {
                "name": ref.name,
                "kind": ref.kind,
                "aliases": list(ref.aliases),
                "predecessors": list(ref.predecessors),
                "active": ref.active,
                "merged_into": ref.merged_into,
            }
            row = existing.get(ref.code)
            if row is None:
                row = Unit(code=ref.code, office_id=office, **values)
                self.session.add(row)
                self.session.flush()
                self.audit("unit", ref.code, "create", None, values)
                added += 1
                continue
            before = {k: getattr(row, k) for k in values}
            if before != values:
                for key, value in values.items():
                    setattr(row, key, value)
                self.session.flush()
                self.audit("unit", ref.code, "update", before, values)
                updated += 1
        self._resolver = self._fallback = None
        return added, updated
