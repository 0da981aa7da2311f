"""audit_log: TRUNCATE refused on PostgreSQL too (a statement trigger that fires in every replication role)

Revision ID: 0020
Revises: 0019

The BEFORE UPDATE OR DELETE trigger of 0002 left TRUNCATE to the table's owner; now even the owner
must first DROP TRIGGER audit_log_no_truncate, a deliberate act. ENABLE ALWAYS: the trigger fires
with session_replication_role = replica as well. SQLite has no TRUNCATE (DELETE is refused by 0002).
"""
from __future__ import annotations

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
