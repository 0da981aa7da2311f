"""intake at scale: items keep their kind and grouping fingerprint; feeds keep the last body's hash

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ingest.triage import ItemFacts, event_kind, fingerprint

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items') as batch:
        batch.add_column(sa.Column('event_kind', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('fingerprint', sa.Text(), nullable=True))
    with op.batch_alter_table('feeds') as batch:
        batch.add_column(sa.Column('body_sha256', sa.String(length=64), nullable=True))
    op.create_index('ix_items_open_groups', 'items', ['triage_status', 'unit_code', 'event_kind', 'published_at'])
    # Pending items stored before this revision become representatives of their groups too.
    items = sa.table('items', sa.column('id', sa.Integer), sa.column('title', sa.Text), sa.column('summary', sa.Text),
                     sa.column('content_text', sa.Text), sa.column('classification', sa.JSON),
                     sa.column('unit_code', sa.String), sa.column('triage_status', sa.String),
                     sa.column('event_kind', sa.String), sa.column('fingerprint', sa.Text))
    connection = op.get_bind()
    rows = connection.execute(sa.select(items.c.id, items.c.title, items.c.summary, items.c.content_text,
                                        items.c.classification, items.c.unit_code)
                              .where(items.c.triage_status == 'pending')).all()
    values = []
    for ident, title, summary, content, classification, unit_code in rows:
        c = classification or {}
        facts = ItemFacts(ident, title or "", summary or content or "", None, unit_code, event_kind(c),
                          frozenset(c.get("keywords") or ()))
        values.append({"b_id": ident, "b_kind": facts.kind, "b_print": fingerprint(facts)})
    if values:
        connection.execute(sa.update(items).where(items.c.id == sa.bindparam("b_id"))
                           .values(event_kind=sa.bindparam("b_kind"), fingerprint=sa.bindparam("b_print")), values)

def downgrade() -> None:
    op.drop_index('ix_items_open_groups', table_name='items')
    with op.batch_alter_table('feeds') as batch:
        batch.drop_column('body_sha256')
    with op.batch_alter_table('items') as batch:
        batch.drop_column('fingerprint')
        batch.drop_column('event_kind')
