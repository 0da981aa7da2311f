"""The open windows of open incidents, stored so that the board ranks, counts and pages in SQL.

For each applicable window of an open incident the table `open_windows` holds its due instant, the
instant it turns amber (due − the preset's at-risk hours) and its earliest satisfying action. That is
all the engine needs to place a window at any `now`: satisfied when that action is at or before
`now` (met if also at or before the due instant, else late), otherwise open up to and including the
due instant (amber from `at_risk_at` on) and overdue after it (timeline/engine.py `_judge`). The
instants come from the engine itself (judged at the end of time), so there is one rule, not two.
The write service calls `refresh` on every write that can change them; `rebuild` backfills (the
migration, `yuqing incident reindex` after a preset file changes, bulk loads).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, false, func, insert, or_, select
from sqlalchemy.orm import Session

from timeline.clock import LATEST
from timeline.engine import Grading, evaluate
from timeline.presets import load_preset
from yuqing.db import cases
from yuqing.db.models import Action, Incident, OpenWindow

CHUNK = 500
# The board's tones an incident can carry (yuqing.board.tone): one flag column each in `ranked`.
TONE_FLAGS = ("overdue", "at_risk", "on_track", "met", "late")


def _rows(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The open_windows rows of these incidents (only the open ones have any)."""
    heads = session.execute(
        select(Incident.id, Incident.started_at, Incident.level, Incident.sudden, Incident.category, Incident.preset)
        .where(Incident.id.in_(ids), Incident.status == "open")
    ).all()
    if not heads:
        return []
    firsts: dict[int, list[tuple[str, datetime]]] = {}
    for incident_id, kind, at in session.execute(
        select(Action.incident_id, Action.kind, func.min(Action.at))
        .where(Action.incident_id.in_([h.id for h in heads]))
        .group_by(Action.incident_id, Action.kind)
    ):
        firsts.setdefault(incident_id, []).append((kind, at))
    rows = []
    for h in heads:
        preset = load_preset(h.preset)
        case_ = cases.case(h.started_at, Grading(h.level, h.sudden, h.category), firsts.get(h.id, ()))
        # Judged at the end of time, every satisfying action counts: satisfied_at is the earliest.
        verdict = evaluate(case_, preset, now=LATEST)
        for window in verdict.windows:
            rule = preset.window(window.key)
            if not window.applicable or window.due_at is None or rule is None:
                continue
            rows.append({
                "incident_id": h.id, "key": window.key, "due_at": window.due_at,
                "at_risk_at": window.due_at - rule.at_risk, "satisfied_at": window.satisfied_at,
            })
    return rows


def refresh(session: Session, ids: Iterable[int]) -> None:
    """Recompute the stored windows of these incidents from their rows as they stand in `session`."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        session.execute(delete(OpenWindow).where(OpenWindow.incident_id.in_(chunk)))
        rows = _rows(session, chunk)
        if rows:
            session.execute(insert(OpenWindow), rows)


def rebuild(session: Session) -> int:
    """Recompute the stored windows of every open incident (after a preset file changed, a bulk load,
    or the migration that made the table); returns how many open incidents there are."""
    # Only the incidents this session sees (an office's session is scoped, yuqing/db/offices.py):
    # the stored windows of another office's incidents are left as they are.
    ids = list(session.scalars(select(Incident.id).where(Incident.status == "open").order_by(Incident.id)))
    stored = sorted(set(session.scalars(select(OpenWindow.incident_id).distinct())) - set(ids))
    for start in range(0, len(stored), CHUNK):
        gone = list(session.scalars(select(Incident.id).where(Incident.id.in_(stored[start:start + CHUNK]))))
        session.execute(delete(OpenWindow).where(OpenWindow.incident_id.in_(gone)))
    refresh(session, ids)
    return len(ids)


def _utc_second(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    return now.astimezone(UTC).replace(microsecond=0)


def _flag(condition: ColumnElement[bool]) -> Any:
    return func.max(case((condition, 1), else_=0))


def ranked(now: datetime, incidents: Any) -> Any:
    """Per open incident among `incidents` (a select of Incident.id, already filtered): the earliest
    due instant of its windows unmet at `now` (`next_due`, NULL when none is unmet) and one 0/1
    column per tone in TONE_FLAGS. The board's urgency (yuqing.board.urgency: overdue longest first,
    then least time left) is `next_due` ascending, because both the time overdue and the time left
    are `next_due − now` to the whole second."""
    now = _utc_second(now)
    w = OpenWindow
    unmet = or_(w.satisfied_at.is_(None), w.satisfied_at > now)
    done = and_(w.satisfied_at.is_not(None), w.satisfied_at <= now)
    chosen = incidents.subquery("chosen")
    # One pass: the chosen incidents joined to their windows, grouped per incident (an open incident
    # without stored windows keeps a row: NULL next_due, every flag 0).
    return (
        select(
            chosen.c.id.label("id"),
            func.min(case((unmet, w.due_at))).label("next_due"),
            _flag(and_(unmet, w.due_at < now)).label("overdue"),
            _flag(and_(unmet, w.due_at >= now, w.at_risk_at <= now)).label("at_risk"),
            _flag(and_(unmet, w.at_risk_at > now)).label("on_track"),
            _flag(and_(done, w.satisfied_at <= w.due_at)).label("met"),
            _flag(and_(done, w.satisfied_at > w.due_at)).label("late"),
        )
        .select_from(chosen.outerjoin(w, w.incident_id == chosen.c.id))
        .group_by(chosen.c.id)
    )


@dataclass(frozen=True)
class OpenRanking:
    """One page of open incidents ranked most urgent first: the ids (in order), how many match, the
    tone counts over all of them, and where the page starts."""

    ids: tuple[int, ...]
    total: int
    counts: dict[str, int]
    limit: int | None
    offset: int


def rank_open(
    session: Session,
    now: datetime,
    incidents: Any,
    *,
    tones: Sequence[str] = (),
    limit: int | None = None,
    offset: Any = 0,
) -> OpenRanking:
    """Count (one aggregate query) and page (one ordered query) the open incidents of `incidents`
    whose windows carry any of `tones` (all when empty). `offset` may be a function of the total."""
    table = ranked(now, incidents).subquery("ranked")
    if tones:
        # A tone no applicable window carries (not_applicable) matches nothing, as in board_tones.
        carried = [table.c[t] == 1 for t in tones if t in TONE_FLAGS]
        table = select(table).where(or_(*carried) if carried else false()).subquery("toned")
    total, *sums = session.execute(
        select(func.count(), *(func.coalesce(func.sum(table.c[t]), 0) for t in ("overdue", "at_risk", "on_track")))
        .select_from(table)
    ).one()
    if callable(offset):
        offset = offset(int(total))
    offset = max(0, int(offset))
    page = (
        select(table.c.id)
        .order_by(case((table.c.next_due.is_(None), 1), else_=0), table.c.next_due, table.c.id)
        .offset(offset)
    )
    if limit is not None:
        page = page.limit(limit)
    counts = dict(zip(("overdue", "at_risk", "on_track"), (int(s) for s in sums), strict=True))
    return OpenRanking(tuple(session.scalars(page)), int(total), counts, limit, offset)


def _state(now: datetime) -> Any:
    """A stored window's state at `now` as the engine names it (timeline/engine.py `_judge`): met or
    late once its earliest satisfying action is at or before `now`, open up to and including the due
    instant, overdue after it."""
    w = OpenWindow
    return case(
        (and_(w.satisfied_at.is_not(None), w.satisfied_at <= now, w.satisfied_at <= w.due_at), "met"),
        (and_(w.satisfied_at.is_not(None), w.satisfied_at <= now), "late"),
        (w.due_at >= now, "open"),
        else_="overdue",
    )


def state_counts(session: Session, now: datetime, incidents: Any) -> dict[tuple[str, str], int]:
    """(window key, state) → how many applicable windows of the open incidents among `incidents`
    (a select of Incident.id) are in that state at `now`: one aggregate query (what /metrics reports)."""
    now = _utc_second(now)
    chosen = incidents.where(Incident.status == "open").subquery("chosen")
    state = _state(now).label("state")
    rows = session.execute(
        select(OpenWindow.key, state, func.count())
        .select_from(OpenWindow)
        .join(chosen, chosen.c.id == OpenWindow.incident_id)
        .group_by(OpenWindow.key, state)
    ).all()
    return {(key, st): int(n) for key, st, n in rows}


def alerting_ids(session: Session, now: datetime, incidents: Any) -> list[int]:
    """The open incidents among `incidents` with a window unmet at `now` that has reached its amber
    instant (at risk or overdue): the only ones an alert can be due for (yuqing/alerts/rules.py).
    Newest first, as `list_incidents` orders them."""
    now = _utc_second(now)
    w = OpenWindow
    pending = (
        select(w.incident_id)
        .where(or_(w.satisfied_at.is_(None), w.satisfied_at > now), w.at_risk_at <= now)
        .distinct()
        .subquery("pending")
    )
    chosen = incidents.where(Incident.status == "open").subquery("chosen")
    return list(session.scalars(
        select(Incident.id)
        .join(chosen, chosen.c.id == Incident.id)
        .join(pending, pending.c.incident_id == Incident.id)
        .order_by(Incident.started_at.desc(), Incident.id.desc())
    ))
