"""items: each group's time span, kept on its head

Revision ID: 0025
Revises: 0024

`items.group_first_at` / `group_last_at`: on a group's head, the earliest and latest publication
among the group's items (NULL when none is dated). Intake compared a new item with the head's own
time, so a late report published more than 48 hours before the group's newest item (its head)
opened a group of its own although it was within 48 hours of the group's first items. The open
groups' index now ends on group_last_at. Existing rows: every item's span is its own time, then each
grouped head's is its group's.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yuqing.db.types import UTCDateTime

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

OWN = "UPDATE items SET group_first_at = published_at, group_last_at = published_at"
GROUPS = """
UPDATE items SET
  group_first_at = (SELECT min(m.published_at) FROM items m WHERE m.office_id = items.office_id
                    AND m.group_key = items.group_key AND m.triage_status = items.triage_status),
  group_last_at = (SELECT max(m.published_at) FROM items m WHERE m.office_id = items.office_id
                   AND m.group_key = items.group_key AND m.triage_status = items.triage_status)
WHERE group_head AND group_key IS NOT NULL AND group_key <> ''
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT set_config('yuqing.office', '*', true)")  # every office's rows (RLS is forced)
    with op.batch_alter_table('items') as batch:
        batch.add_column(sa.Column('group_first_at', UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('group_last_at', UTCDateTime(timezone=True), nullable=True))
    op.execute(sa.text(OWN))
    op.execute(sa.text(GROUPS))
    op.drop_index('ix_items_open_groups', table_name='items')
    op.create_index('ix_items_open_groups', 'items',
                    ['office_id', 'triage_status', 'unit_code', 'event_kind', 'group_head', 'group_last_at'])


def downgrade() -> None:
    op.drop_index('ix_items_open_groups', table_name='items')
    op.create_index('ix_items_open_groups', 'items',
                    ['office_id', 'triage_status', 'unit_code', 'event_kind', 'group_head', 'published_at'])
    with op.batch_alter_table('items') as batch:
        batch.drop_column('group_last_at')
        batch.drop_column('group_first_at')
