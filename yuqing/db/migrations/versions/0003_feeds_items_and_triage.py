"""feeds items and triage

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 15:57:25.279954
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import yuqing.db.types


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=60), nullable=False),
    sa.Column('interval_s', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('etag', sa.String(length=500), nullable=True),
    sa.Column('last_modified', sa.String(length=200), nullable=True),
    sa.Column('created_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_fetch_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_code', sa.String(length=40), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('failing_since', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_poll_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_item_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('typical_gap_s', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url')
    )
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.create_index('ix_feeds_due', ['enabled', 'next_poll_at'], unique=False)

    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=False),
    sa.Column('normalized_link', sa.String(length=2000), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('content_text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('published_raw', sa.String(length=200), nullable=True),
    sa.Column('published_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_clamped', sa.Boolean(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('fetched_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('classification', sa.JSON(), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('unit_code', sa.String(length=40), nullable=True),
    sa.Column('group_key', sa.String(length=200), nullable=True),
    sa.Column('triage_status', sa.String(length=12), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('content_hash')
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_group_key'), ['group_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_published_at'), ['published_at'], unique=False)
        batch_op.create_index('ix_items_triage', ['triage_status', 'published_at'], unique=False)
        batch_op.create_index('ux_items_link', ['normalized_link'], unique=True, sqlite_where=sa.text("normalized_link <> ''"), postgresql_where=sa.text("normalized_link <> ''"))

    op.create_table('item_sightings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed_id', sa.Integer(), nullable=False),
    sa.Column('guid', sa.String(length=2000), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('feed_id', 'guid')
    )
    with op.batch_alter_table('item_sightings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_sightings_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('item_sightings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_sightings_item_id'))

    op.drop_table('item_sightings')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ux_items_link', sqlite_where=sa.text("normalized_link <> ''"), postgresql_where=sa.text("normalized_link <> ''"))
        batch_op.drop_index('ix_items_triage')
        batch_op.drop_index(batch_op.f('ix_items_published_at'))
        batch_op.drop_index(batch_op.f('ix_items_incident_id'))
        batch_op.drop_index(batch_op.f('ix_items_group_key'))

    op.drop_table('items')
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_index('ix_feeds_due')

    op.drop_table('feeds')
