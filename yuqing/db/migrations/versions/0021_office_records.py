"""offices: the scoring records and alert deliveries carry their office; dedup keys per office; RLS forced

Revision ID: 0021
Revises: 0020

Manual scores, special items, zeroings, 日常考核 records, appeals and rectifications take the office of
their unit (the root office for today's single-office data); an alert delivery takes its incident's
office, else its feed's, else the root's. Indexes lead with the office. An item is one per office: the
link key and the content hash are unique within an office, not across the installation, and so is a
feed's address (two offices may poll the same feed). On PostgreSQL the row-level security of 0019 now
covers these tables too and is FORCEd on every scoped table, so the owner of the tables is fenced as
well when the application runs as the owner (migrations set `yuqing.office` to `*`, yuqing.db.migrate).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# Table, how its rows find their office, and the index that leads with it.
BY_UNIT = "(SELECT u.office_id FROM units u WHERE u.id = {table}.unit_id)"
ADDED = (
    ('manual_scores', BY_UNIT, 'ix_manual_scores_office_year', ['office_id', 'year']),
    ('special_items', BY_UNIT, 'ix_special_items_office_year', ['office_id', 'year']),
    ('zeroings', BY_UNIT, 'ix_zeroings_office_year', ['office_id', 'year']),
    ('daily_records', BY_UNIT, 'ix_daily_records_office_date', ['office_id', 'on_date']),
    ('appeals', BY_UNIT, 'ix_appeals_office_key', ['office_id', 'year', 'unit_id', 'deduction_key']),
    ('rectifications', BY_UNIT, 'ix_rectifications_office_year', ['office_id', 'year']),
    ('alert_deliveries',
     "COALESCE((SELECT i.office_id FROM incidents i WHERE i.id = alert_deliveries.incident_id),"
     " (SELECT f.office_id FROM feeds f WHERE f.id = alert_deliveries.feed_id))",
     'ix_alert_deliveries_office_tried', ['office_id', 'last_tried_at']),
)

# 0019's tables and this migration's: every one under the office policy, forced.
RLS_BEFORE = ('incidents', 'feeds', 'items', 'referrals', 'score_snapshots', 'screens', 'api_tokens')
RLS_ADDED = tuple(table for table, *_ in ADDED)
KEY = "current_setting('yuqing.office', true)"
OWN = f"({KEY} = '*' OR office_id::text = {KEY})"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        # This transaction's own rows are every office's (FORCE below fences the owner too).
        op.execute("SELECT set_config('yuqing.office', '*', true)")
    for table, source, index, columns in ADDED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('office_id', sa.Integer(), nullable=True))
        op.execute(sa.text(f'UPDATE {table} SET office_id = COALESCE({source.format(table=table)}, 1)'))
        with op.batch_alter_table(table, recreate='auto') as batch:
            batch.alter_column('office_id', existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(f'fk_{table}_office_id', 'offices', ['office_id'], ['id'])
            batch.create_index(index, columns, unique=False)
    with op.batch_alter_table('appeals') as batch:
        batch.drop_index('ix_appeals_key')

    # One item per office: the same link (or content) in two offices' feeds is two items.
    op.drop_index('ux_items_link_key', table_name='items')
    op.create_index('ux_items_office_link_key', 'items', ['office_id', 'link_key'], unique=True)
    with op.batch_alter_table('items', recreate='auto', naming_convention=NAMING) as batch:
        batch.drop_constraint(_unique_name('items', 'content_hash'), type_='unique')
        batch.create_unique_constraint('uq_items_office_content_hash', ['office_id', 'content_hash'])
    # Triage grouping reads one office's open groups of one unit and kind.
    op.drop_index('ix_items_open_groups', table_name='items')
    op.create_index('ix_items_open_groups', 'items',
                    ['office_id', 'triage_status', 'unit_code', 'event_kind', 'published_at'])
    with op.batch_alter_table('feeds', recreate='auto', naming_convention=NAMING) as batch:
        batch.drop_constraint(_unique_name('feeds', 'url'), type_='unique')
        batch.create_unique_constraint('uq_feeds_office_url', ['office_id', 'url'])

    if postgres:
        for table in RLS_ADDED:
            op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY office_scope ON {table} USING {OWN} WITH CHECK {OWN}')
        for table in RLS_BEFORE + RLS_ADDED:
            op.execute(f'ALTER TABLE {table} FORCE ROW LEVEL SECURITY')


# SQLite reflects 0003's unnamed unique constraints without a name: batch mode names them so.
NAMING = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def _unique_name(table: str, column: str) -> str:
    """The name of 0003's one-column unique constraint: PostgreSQL's (feeds_url_key), else NAMING's."""
    bind = op.get_bind()
    for constraint in sa.inspect(bind).get_unique_constraints(table):
        if constraint['column_names'] == [column] and constraint['name']:
            return str(constraint['name'])
    return f'uq_{table}_{column}'


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute("SELECT set_config('yuqing.office', '*', true)")
        for table in RLS_BEFORE + RLS_ADDED:
            op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
        for table in RLS_ADDED:
            op.execute(f'DROP POLICY IF EXISTS office_scope ON {table}')
            op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
    with op.batch_alter_table('feeds', recreate='auto') as batch:
        batch.drop_constraint('uq_feeds_office_url', type_='unique')
        batch.create_unique_constraint('uq_feeds_url', ['url'])
    op.drop_index('ix_items_open_groups', table_name='items')
    op.create_index('ix_items_open_groups', 'items', ['triage_status', 'unit_code', 'event_kind', 'published_at'])
    with op.batch_alter_table('items', recreate='auto') as batch:
        batch.drop_constraint('uq_items_office_content_hash', type_='unique')
        batch.create_unique_constraint('uq_items_content_hash', ['content_hash'])
    op.drop_index('ux_items_office_link_key', table_name='items')
    op.create_index('ux_items_link_key', 'items', ['link_key'], unique=True)
    op.create_index('ix_appeals_key', 'appeals', ['year', 'unit_id', 'deduction_key'])
    for table, _, index, _ in reversed(ADDED):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(index)
            batch.drop_constraint(f'fk_{table}_office_id', type_='foreignkey')
            batch.drop_column('office_id')
