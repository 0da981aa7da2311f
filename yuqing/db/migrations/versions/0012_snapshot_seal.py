"""score snapshots: the audit chain's count and head once the freeze's own record is in (a checkpoint)

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Older snapshots keep only audit_head (checked as a hash that must stay in the chain).
    with op.batch_alter_table('score_snapshots') as batch:
        batch.add_column(sa.Column('audit_count', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('audit_seal', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('score_snapshots') as batch:
        batch.drop_column('audit_seal')
        batch.drop_column('audit_count')
