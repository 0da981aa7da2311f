"""audit: HMAC-SHA-256 of each record's hash under a key kept outside the database

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Records written before the key existed stay unsigned: the first signed record's MAC covers
    # its hash, which chains every record before it.
    op.add_column('audit_log', sa.Column('mac', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('mac')
