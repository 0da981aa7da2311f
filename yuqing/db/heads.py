"""Each triage group's head, kept as items arrive and are decided.

A group is the items of one office sharing a group key and a triage status (an item without a key is
a group of its own). Its head is its first item in queue order: flagged first, then the newest
published (undated last), then the highest id. The 待研判 page ranks and counts groups by their heads
(ix_items_office_heads) instead of ranking every pending item with a window over the whole queue.

Two workers adding to one group at once may each mark their own item as the head; an item is
unmarked only by a transaction that saw a better one, so a group never loses its head, and the next
refresh of the group leaves exactly one. Readers take each key once.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yuqing.db.models import Item

_CHUNK = 500


def queue_rank(flagged: bool, published_at: datetime | None, ident: int) -> tuple[Any, ...]:
    """The queue order as a sort key, larger first (yuqing.db.triage._ordered in Python)."""
    return (bool(flagged), published_at is not None, published_at or datetime.min, ident)


def refresh_heads(session: Session, office_id: int, keys: Iterable[str | None]) -> None:
    """Mark the head of each (key, status) group of these keys in the office, unmark the others."""
    wanted = sorted({key for key in keys if key})
    for at in range(0, len(wanted), _CHUNK):
        chunk = wanted[at:at + _CHUNK]
        rows = session.execute(
            select(Item.id, Item.group_key, Item.triage_status, Item.flagged, Item.published_at, Item.group_head)
            .where(Item.office_id == office_id, Item.group_key.in_(chunk))
        ).tuples().all()
        best: dict[tuple[str | None, str], tuple[Any, ...]] = {}
        for ident, key, status, flagged, published_at, _head in rows:
            rank = queue_rank(flagged, published_at, ident)
            if (key, status) not in best or rank > best[(key, status)]:
                best[(key, status)] = rank
        heads = {rank[-1] for rank in best.values()}
        marked = sorted(ident for ident, *_rest, head in rows if ident in heads and not head)
        unmarked = sorted(ident for ident, *_rest, head in rows if ident not in heads and head)
        for ids, value in ((marked, True), (unmarked, False)):
            if ids:
                session.execute(update(Item).where(Item.office_id == office_id, Item.id.in_(ids)).values(group_head=value)
                                .execution_options(synchronize_session=False))
