"""items: four indexes no read needs are dropped, one the feeds page needs is added

Revision ID: 0026
Revises: 0025

Every read of items in a signed-in session is its office's (yuqing.db.offices adds the condition),
and intake names the office itself, so the office-led indexes serve them: ix_items_office_heads
(an office's items of a state, in queue order, and the counts), ix_items_office_group (a group's
items). The installation-wide ix_items_triage, ix_items_published_at and ix_items_group_key, and
ix_items_office_triage (whose reads ix_items_office_heads' first two columns serve as well), are
not needed by any read: each new item took a page of each of them into the write, so an intake
commit wrote more the larger the year grew (bench/ingest_speed.py). Dropping them takes a third of
what an intake commit writes.

ix_items_office_fetched (office, fetched_at): the feeds page counts each feed's items of the last
24 hours; it read every item of the office. Fetch times follow insertion, so intake appends to it.
"""
from __future__ import annotations

from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

DROPPED = (
    ('ix_items_triage', ['triage_status', 'published_at']),
    ('ix_items_published_at', ['published_at']),
    ('ix_items_group_key', ['group_key']),
    ('ix_items_office_triage', ['office_id', 'triage_status', 'published_at']),
)


def upgrade() -> None:
    for name, _columns in DROPPED:
        op.drop_index(name, table_name='items')
    op.create_index('ix_items_office_fetched', 'items', ['office_id', 'fetched_at'])


def downgrade() -> None:
    op.drop_index('ix_items_office_fetched', table_name='items')
    for name, columns in DROPPED:
        op.create_index(name, 'items', columns)
