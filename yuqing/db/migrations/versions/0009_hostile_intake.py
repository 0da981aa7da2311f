"""hostile intake: over-long links keyed by a hash, set-aside items counted on their feed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:30:00
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

import yuqing.db.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _key(link: str) -> str | None:
    return hashlib.sha256(link.encode("utf-8")).hexdigest() if link else None


def upgrade() -> None:
    with op.batch_alter_table('feeds') as batch:
        batch.add_column(sa.Column('skipped_count', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('last_skip_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('last_skip_at', yuqing.db.types.UTCDateTime(timezone=True), nullable=True))
    op.drop_index('ux_items_link', table_name='items')
    with op.batch_alter_table('items') as batch:
        batch.alter_column('normalized_link', type_=sa.Text(), existing_type=sa.String(length=2000),
                           existing_nullable=False)
        batch.add_column(sa.Column('link_key', sa.String(length=64), nullable=True))
    items = sa.table('items', sa.column('id', sa.Integer), sa.column('normalized_link', sa.Text),
                     sa.column('link_key', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(items.c.id, items.c.normalized_link).where(items.c.normalized_link != '')).all()
    for ident, link in rows:
        connection.execute(sa.update(items).where(items.c.id == ident).values(link_key=_key(link)))
    op.create_index('ux_items_link_key', 'items', ['link_key'], unique=True)


def downgrade() -> None:
    op.drop_index('ux_items_link_key', table_name='items')
    with op.batch_alter_table('items') as batch:
        batch.drop_column('link_key')
        batch.alter_column('normalized_link', type_=sa.String(length=2000), existing_type=sa.Text(),
                           existing_nullable=False)
    op.create_index('ux_items_link', 'items', ['normalized_link'], unique=True,
                    sqlite_where=sa.text("normalized_link <> ''"), postgresql_where=sa.text("normalized_link <> ''"))
    with op.batch_alter_table('feeds') as batch:
        batch.drop_column('last_skip_at')
        batch.drop_column('last_skip_reason')
        batch.drop_column('skipped_count')
