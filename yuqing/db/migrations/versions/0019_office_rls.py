"""offices: PostgreSQL row-level security on the office's records, keyed on the transaction's office

Revision ID: 0019
Revises: 0018
"""
from __future__ import annotations

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# The second wall behind the office filter of every query (yuqing.db.offices): each transaction sets
# `yuqing.office` (yuqing.db.session) to its office's id, or `*` for an installation-wide session (init,
# the feed worker, a sign-in before the account is known). A row is visible and writable only when its
# office is that office; an incident also when its lead unit is one of that office's units (the county
# government's incident in the city's view). Row-level security applies to roles that do not own the
# tables — the application role of yuqing/db/roles.py; the owner that migrates (and superusers) bypass it.
# The unit registry stays readable: a county's incident names the city's unit that is its government.
SCOPED = ('incidents', 'feeds', 'items', 'referrals', 'score_snapshots', 'screens', 'api_tokens')
KEY = "current_setting('yuqing.office', true)"


def _condition(table: str) -> str:
    own = f"({KEY} = '*' OR office_id::text = {KEY})"
    if table == 'incidents':
        return f"({own} OR unit_id IN (SELECT id FROM units WHERE office_id::text = {KEY}))"
    return own


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in SCOPED:
        op.execute(f'ALTER TABLE {table} ENABLE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY office_scope ON {table} USING {_condition(table)} WITH CHECK {_condition(table)}')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in SCOPED:
        op.execute(f'DROP POLICY IF EXISTS office_scope ON {table}')
        op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
