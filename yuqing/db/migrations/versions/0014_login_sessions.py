"""dashboard sessions (cookie token hashes) and login failures per account and client address

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yuqing.db.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=True),
        sa.Column('revoked_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_sessions_user_id', 'sessions', ['user_id'])
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=60), nullable=False),
        sa.Column('client', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failed_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account', 'client'),
    )


def downgrade() -> None:
    op.drop_table('login_failures')
    op.drop_index('ix_sessions_user_id', table_name='sessions')
    op.drop_table('sessions')
