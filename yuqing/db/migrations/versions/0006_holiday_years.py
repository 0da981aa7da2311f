"""holiday years imported from the State Council's notice

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yuqing.db.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('holiday_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('workdays', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('imported_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )


def downgrade() -> None:
    op.drop_table('holiday_years')
