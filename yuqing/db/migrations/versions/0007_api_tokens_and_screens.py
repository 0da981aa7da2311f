"""api tokens and wall-display screens

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yuqing.db.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('api_tokens', 'screens'):
        columns = [
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('name', sa.String(length=60), nullable=False),
            sa.Column('unit_code', sa.String(length=40), nullable=True),
            sa.Column('token_hash', sa.String(length=64), nullable=False),
            sa.Column('created_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
            sa.Column('created_by', sa.String(length=100), nullable=False),
            sa.Column('revoked_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
            sa.Column('last_used_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
        ]
        if table == 'api_tokens':
            columns.append(sa.Column('role', sa.String(length=10), nullable=False))
        op.create_table(table, *columns, sa.PrimaryKeyConstraint('id'), sa.UniqueConstraint('name'),
                        sa.UniqueConstraint('token_hash'))


def downgrade() -> None:
    op.drop_table('screens')
    op.drop_table('api_tokens')
