"""scoring: referrals, manual scores, special items, zeroings, daily records, appeals, rectifications, snapshots

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 16:08:57.065807
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yuqing.db.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('score_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=60), nullable=False),
    sa.Column('scheme_digest', sa.String(length=64), nullable=False),
    sa.Column('now', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data_hash', sa.String(length=64), nullable=False),
    sa.Column('audit_head', sa.String(length=64), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('created_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('score_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_snapshots_year'), ['year'], unique=False)

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('deduction_key', sa.String(length=120), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('filed_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('filed_by', sa.String(length=100), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index('ix_appeals_key', ['year', 'unit_id', 'deduction_key'], unique=False)

    op.create_table('daily_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('indicator', sa.String(length=80), nullable=True),
    sa.Column('created_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('daily_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_daily_records_on_date'), ['on_date'], unique=False)

    op.create_table('manual_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=80), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_id', 'year', 'indicator')
    )
    with op.batch_alter_table('manual_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manual_scores_year'), ['year'], unique=False)

    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('due_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('done_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectifications_year'), ['year'], unique=False)

    op.create_table('special_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=80), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('created_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('special_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_special_items_year'), ['year'], unique=False)

    op.create_table('zeroings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('created_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('zeroings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zeroings_year'), ['year'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_workdays', sa.Integer(), nullable=False),
    sa.Column('due_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('replied_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('replied_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_unit_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_sent_at'))
        batch_op.drop_index(batch_op.f('ix_referrals_incident_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('zeroings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zeroings_year'))

    op.drop_table('zeroings')
    with op.batch_alter_table('special_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_special_items_year'))

    op.drop_table('special_items')
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectifications_year'))

    op.drop_table('rectifications')
    with op.batch_alter_table('manual_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manual_scores_year'))

    op.drop_table('manual_scores')
    with op.batch_alter_table('daily_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_daily_records_on_date'))

    op.drop_table('daily_records')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index('ix_appeals_key')
        batch_op.drop_index(batch_op.f('ix_appeals_decided_at'))

    op.drop_table('appeals')
    with op.batch_alter_table('score_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_snapshots_year'))

    op.drop_table('score_snapshots')
