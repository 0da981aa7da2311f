"""office_presets: an office's own window preset files

Revision ID: 0024
Revises: 0023

An office may load its own preset file (its 第十七条 method's 时限) besides choosing a shipped one
(0022). The text is stored as loaded, named `<office code>:<file name>` — the name its incidents are
stamped with, unique in the installation — under the same row-level security as the office's other
records (forced); the clock of an incident reads it by that name (yuqing.db.office_rules).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yuqing.db.types import UTCDateTime

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

KEY = "current_setting('yuqing.office', true)"
OWN = f"({KEY} = '*' OR office_id::text = {KEY})"


def upgrade() -> None:
    op.create_table(
        'office_presets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name', name='uq_office_presets_name'),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE office_presets ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY office_scope ON office_presets USING {OWN} WITH CHECK {OWN}')
        op.execute('ALTER TABLE office_presets FORCE ROW LEVEL SECURITY')


def downgrade() -> None:
    op.drop_table('office_presets')
