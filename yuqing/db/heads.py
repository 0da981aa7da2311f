"""Each triage group's head, kept as items arrive and are decided.

A group is the items of one office sharing a group key and a triage status (an item without a key is
a group of its own). Its head is its first item in queue order: flagged first, then the newest
published (undated last), then the highest id. The 待研判 page ranks and counts groups by their heads
(ix_items_office_heads) instead of ranking every pending item with a window over the whole queue.

The head also holds its group's time span (group_first_at, group_last_at: the earliest and latest
publication among the group's items), which intake windows a new item on.

Two workers adding to one group at once may each mark their own item as the head; an item is
unmarked only by a transaction that saw a better one, so a group never loses its head, and the next
refresh of the group leaves exactly one. Readers take each key once.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from yuqing.db.models import Base, Item

_CHUNK = 500


def queue_rank(flagged: bool, published_at: datetime | None, ident: int) -> tuple[Any, ...]:
    """The queue order as a sort key, larger first (yuqing.db.triage._ordered in Python)."""
    return (bool(flagged), published_at is not None, published_at or datetime.min, ident)


def refresh_heads(session: Session, office_id: int, keys: Iterable[str | None]) -> None:
    """Mark the head of each (key, status) group of these keys in the office, unmark the others.
    Reads every item of the groups: for decisions, which move items between states (a group that
    lost its head takes its next item; a moved item may head the group it joins)."""
    _settle(session, office_id, keys, heads_only=False)


def settle_arrivals(session: Session, office_id: int, arrivals: Iterable[tuple[str | None, str]]) -> None:
    """After new items (stored as heads) joined groups — (group key, triage status) pairs: keep each
    group's best head, unmark the others. Reads only the groups' heads (a seek on all four columns of
    ix_items_office_group), not their members, so intake costs what it stores however large its
    groups have grown: an arrival can only displace a head, never promote an older member."""
    pairs = {(key, status) for key, status in arrivals if key}
    _settle(session, office_id, (key for key, _status in pairs), heads_only=True,
            statuses=sorted({status for _key, status in pairs}))


def _settle(session: Session, office_id: int, keys: Iterable[str | None], *, heads_only: bool,
            statuses: list[str] | None = None) -> None:
    wanted = sorted({key for key in keys if key})
    for at in range(0, len(wanted), _CHUNK):
        chunk = wanted[at:at + _CHUNK]
        stmt = (select(Item.id, Item.group_key, Item.triage_status, Item.flagged, Item.published_at, Item.group_head,
                       Item.group_first_at, Item.group_last_at)
                .where(Item.office_id == office_id, Item.group_key.in_(chunk)))
        if heads_only:
            stmt = stmt.where(Item.triage_status.in_(statuses or []), Item.group_head.is_(True))
        # Locked in id order (no deadlock between two workers): on PostgreSQL a head a decision is
        # moving is waited for and read again as committed, so an arrival never unmarks itself for a
        # head that has just left the state (a group left with none), nor unmarks a decided group's.
        rows = session.execute(stmt.order_by(Item.id).with_for_update()).tuples().all()
        best: dict[tuple[str | None, str], tuple[Any, ...]] = {}
        spans: dict[tuple[str | None, str], tuple[datetime | None, datetime | None]] = {}
        for ident, key, status, flagged, published_at, _head, first_at, last_at in rows:
            rank = queue_rank(flagged, published_at, ident)
            if (key, status) not in best or rank > best[(key, status)]:
                best[(key, status)] = rank
            # The group's span: of every member (a decision reads them all), or of the heads read (an
            # arrival is a head spanning its own time; each earlier head holds its group's span so far).
            own = [published_at, first_at, last_at] if heads_only else [published_at]
            times = [t for t in (*own, *spans.get((key, status), ())) if t is not None]
            if times:
                spans[(key, status)] = (min(times), max(times))
        heads = {rank[-1] for rank in best.values()}
        marked = sorted(ident for ident, *_rest, head, _first, _last in rows if ident in heads and not head)
        unmarked = sorted(ident for ident, *_rest, head, _first, _last in rows if ident not in heads and head)
        # By primary key on the table (the ids were read in the office): with the office's condition
        # too, SQLite chose the office's index and read every item of the office for each update, so
        # intake grew with the square of the queue (100 → 1 000 feeds 12.7×).
        table = Base.metadata.tables[Item.__tablename__]
        for ids, value in ((marked, True), (unmarked, False)):
            if ids:
                session.execute(update(table).where(table.c.id.in_(ids)).values(group_head=value))
        stored = {ident: (first_at, last_at) for ident, *_rest, first_at, last_at in rows}
        moved = []  # each head whose stored span is not its group's
        for group, rank in best.items():
            first_at, last_at = spans.get(group, (None, None))
            if stored[rank[-1]] != (first_at, last_at):
                moved.append({"head": rank[-1], "first": first_at, "last": last_at})
        if moved:  # one UPDATE executed per head, by id
            session.execute(update(table).where(table.c.id == bindparam("head"))
                            .values(group_first_at=bindparam("first"), group_last_at=bindparam("last")), moved)
