"""offices: each office's window preset and its own scoring schemes

Revision ID: 0022
Revises: 0021

`offices.preset` is the preset an office's new incidents are stamped with (NULL: the setting
YUQING_PRESET, as before); `office_schemes` holds the scheme files an office loaded (its 第十七条
method or its own yearly points), under the same row-level security as its other records (forced).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yuqing.db.types import UTCDateTime

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

KEY = "current_setting('yuqing.office', true)"
OWN = f"({KEY} = '*' OR office_id::text = {KEY})"


def upgrade() -> None:
    with op.batch_alter_table('offices') as batch:
        batch.add_column(sa.Column('preset', sa.String(length=40), nullable=True))
    op.create_table(
        'office_schemes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('office_id', 'name', name='uq_office_schemes_office_name'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE office_schemes ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY office_scope ON office_schemes USING {OWN} WITH CHECK {OWN}')
        op.execute('ALTER TABLE office_schemes FORCE ROW LEVEL SECURITY')


def downgrade() -> None:
    op.drop_table('office_schemes')
    with op.batch_alter_table('offices') as batch:
        batch.drop_column('preset')
