"""open_windows: the due instants of each open incident's windows, so the board ranks, counts and
pages in SQL; backfilled from the incidents and actions already stored

Revision ID: 0016
Revises: 0015
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from yuqing.db.types import UTCDateTime

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'open_windows',
        sa.Column('incident_id', sa.Integer(), sa.ForeignKey('incidents.id'), nullable=False),
        sa.Column('key', sa.String(length=20), nullable=False),
        sa.Column('due_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('at_risk_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('satisfied_at', UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('incident_id', 'key'),
    )
    op.create_index('ix_open_windows_due_at', 'open_windows', ['due_at'])
    # The windows come from the timeline engine (one rule); only the columns this revision knows are read.
    from sqlalchemy.orm import Session

    from yuqing.db import windows

    with Session(bind=op.get_bind()) as session:
        windows.rebuild(session)


def downgrade() -> None:
    op.drop_index('ix_open_windows_due_at', table_name='open_windows')
    op.drop_table('open_windows')
