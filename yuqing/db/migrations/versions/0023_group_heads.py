"""items: each group's head, stored; incidents: pick lists read by status and number

Revision ID: 0023
Revises: 0022

`items.group_head` marks the first item of a group (same group key and triage status) in queue
order: flagged first, then newest published (undated last), then highest id. The 待研判 page reads
a page of groups through ix_items_office_heads (and their items through
ix_items_office_group) instead of ranking every pending item (issue 19).
ix_incidents_status_id lets a pick list read the newest open incidents backwards by number;
ix_items_open_groups takes group_head, so intake compares a new item with the groups' heads only.
Existing rows: every item is a head, then each group's other items are unmarked in one statement.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

NOT_FIRST = """
UPDATE items SET group_head = false WHERE id IN (
  SELECT id FROM (
    SELECT id, row_number() OVER (
      PARTITION BY office_id, group_key, triage_status
      ORDER BY flagged DESC, published_at DESC NULLS LAST, id DESC) AS n
    FROM items WHERE group_key IS NOT NULL AND group_key <> ''
  ) ranked WHERE n > 1)
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT set_config('yuqing.office', '*', true)")  # every office's rows (RLS is forced)
    with op.batch_alter_table('items') as batch:
        batch.add_column(sa.Column('group_head', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.execute(sa.text(NOT_FIRST))
    with op.batch_alter_table('items') as batch:
        batch.create_index('ix_items_office_heads',
                           ['office_id', 'triage_status', 'group_head', 'flagged', 'published_at', 'id'], unique=False)
        batch.create_index('ix_items_office_group', ['office_id', 'group_key', 'triage_status', 'group_head'],
                           unique=False)
    with op.batch_alter_table('incidents') as batch:
        batch.create_index('ix_incidents_status_id', ['status', 'id'], unique=False)
    # Grouping at intake compares a new item with the heads of the open groups near it (not every member).
    op.drop_index('ix_items_open_groups', table_name='items')
    op.create_index('ix_items_open_groups', 'items',
                    ['office_id', 'triage_status', 'unit_code', 'event_kind', 'group_head', 'published_at'])


def downgrade() -> None:
    op.drop_index('ix_items_open_groups', table_name='items')
    op.create_index('ix_items_open_groups', 'items', ['office_id', 'triage_status', 'unit_code', 'event_kind', 'published_at'])
    with op.batch_alter_table('incidents') as batch:
        batch.drop_index('ix_incidents_status_id')
    with op.batch_alter_table('items') as batch:
        batch.drop_index('ix_items_office_group')
        batch.drop_index('ix_items_office_heads')
        batch.drop_column('group_head')
