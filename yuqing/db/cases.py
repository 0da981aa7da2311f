"""The one converter from stored rows to the timeline's cases: every read that judges windows (the
board, `incident show`, scores, bulletins, alerts) builds its Case here."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from timeline.engine import ActionAt, Case, Grading, Regrade


def grading(data: Mapping[str, Any]) -> Grading:
    """A stored grading (the JSON of a reclassification's before/after) → the engine's Grading."""
    return Grading(data.get("level"), data.get("sudden"), data.get("category"))


def case(
    started_at: datetime,
    current: Grading,
    actions: Iterable[tuple[str, datetime]],
    regrades: Iterable[tuple[datetime, Mapping[str, Any], Mapping[str, Any]]] = (),
    *,
    voided: bool = False,
) -> Case:
    """An incident as the engine sees it: start, grading now, (kind, at) actions, and reclassifications
    as (at, before, after) with stored gradings."""
    return Case(
        started_at=started_at,
        grading=current,
        actions=tuple(ActionAt(kind, at) for kind, at in actions),
        regrades=tuple(Regrade(at, grading(before), grading(after)) for at, before, after in regrades),
        voided=voided,
    )
