"""offices: every record belongs to an assessing office; today's rows go to the root office

Revision ID: 0018
Revises: 0017
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# The tables whose rows carry their office, and the index (if any) that leads with it.
SCOPED = (
    ('units', 'ix_units_office', ['office_id', 'kind']),
    ('incidents', 'ix_incidents_office_status_started', ['office_id', 'status', 'started_at']),
    ('feeds', 'ix_feeds_office', ['office_id', 'id']),
    ('items', 'ix_items_office_triage', ['office_id', 'triage_status', 'published_at']),
    ('referrals', 'ix_referrals_office_sent', ['office_id', 'sent_at']),
    ('score_snapshots', 'ix_score_snapshots_office_year', ['office_id', 'year']),
    ('users', None, None),
    ('api_tokens', None, None),
    ('screens', None, None),
)


def _root_office() -> tuple[str, str]:
    """(code, name) of the root office: handed in by yuqing.db.migrate, else read from the settings."""
    given = context.config.attributes.get('root_office')
    if given is not None:
        return given
    from yuqing.settings import load_config

    config = load_config()
    return config.office_code, config.office_name


def upgrade() -> None:
    op.create_table(
        'offices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('unit_code', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['parent_id'], ['offices.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    code, name = _root_office()
    offices = sa.table('offices', sa.column('id', sa.Integer), sa.column('code', sa.String),
                       sa.column('name', sa.String))
    op.bulk_insert(offices, [{'id': 1, 'code': code, 'name': name}])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT setval(pg_get_serial_sequence('offices', 'id'), 1)")
    for table, index, columns in SCOPED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('office_id', sa.Integer(), nullable=True))
        op.execute(sa.text(f'UPDATE {table} SET office_id = 1'))
        with op.batch_alter_table(table, recreate='auto') as batch:
            batch.alter_column('office_id', existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(f'fk_{table}_office_id', 'offices', ['office_id'], ['id'])
            if index is not None:
                batch.create_index(index, columns, unique=False)


def downgrade() -> None:
    for table, index, _ in reversed(SCOPED):
        with op.batch_alter_table(table) as batch:
            if index is not None:
                batch.drop_index(index)
            batch.drop_constraint(f'fk_{table}_office_id', type_='foreignkey')
            batch.drop_column('office_id')
    op.drop_table('offices')
