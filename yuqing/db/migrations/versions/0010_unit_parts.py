"""units do their own part: referral reply evidence and note, appeal evidence, what a rectification answers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reply_evidence_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reply_evidence_name', sa.String(length=255), nullable=True))
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('evidence_name', sa.String(length=255), nullable=True))
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answers', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_column('answers')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_column('evidence_name')
        batch_op.drop_column('evidence_sha256')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('reply_evidence_name')
        batch_op.drop_column('reply_evidence_sha256')
        batch_op.drop_column('reply_note')
