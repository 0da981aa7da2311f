"""items: the four indexes no query reads are dropped

Revision ID: 0026
Revises: 0025

Every read of items in a signed-in session is its office's (yuqing.db.offices adds the condition),
and intake names the office itself, so the office-led indexes serve them: ix_items_office_heads
(an office's items of a state, in queue order, and the counts), ix_items_office_group (a group's
items). The installation-wide ix_items_triage, ix_items_published_at and ix_items_group_key, and
ix_items_office_triage (a prefix of ix_items_office_heads' use), were only written: each new item
took a page of each of them into the write, so an intake commit wrote more the larger the year grew
(bench/ingest_speed.py). Dropping them takes a quarter of what an intake commit writes.
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


def downgrade() -> None:
    for name, columns in DROPPED:
        op.create_index(name, 'items', columns)
