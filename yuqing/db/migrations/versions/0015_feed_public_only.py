"""feeds: public_only — a staff-added feed's every fetch and redirect hop must reach a public address

Revision ID: 0015
Revises: 0014
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feeds') as batch:
        batch.add_column(sa.Column('public_only', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Feeds a non-admin account added before this column existed: the audit trail names who created them.
    op.execute(sa.text(
        "UPDATE feeds SET public_only = :yes WHERE CAST(id AS VARCHAR(20)) IN ("
        " SELECT entity_id FROM audit_log WHERE entity = 'feed' AND action = 'create'"
        " AND actor IN (SELECT name FROM users WHERE role <> 'admin'))"
    ).bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table('feeds') as batch:
        batch.drop_column('public_only')
