"""PostgreSQL: the application's own role, which may append to the audit trail and read it, nothing more.

Migrations run as the owner of the tables (YUQING_OWNER_DATABASE_URL); the application connects as a
plain role (YUQING_DATABASE_URL) that is neither owner nor superuser. Such a role cannot UPDATE,
DELETE or TRUNCATE audit_log, cannot ALTER or DROP its trigger, and cannot set
session_replication_role (superuser only) to bypass the trigger. SQLite has no roles: whoever owns
the file can do anything, and only the audit key and the checkpoints catch it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from yuqing.errors import YuqingError

# Tables the application may read but never change: the audit trail (append only) and Alembic's
# revision marker (the schema is the owner's business).
APPEND_ONLY = ("audit_log",)
READ_ONLY = ("alembic_version",)
TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"


@dataclass(frozen=True)
class RoleReport:
    """What ensure_app_role did: the role, whether it was created or its password set now, the
    schema granted on and how many tables the role may read and write there."""

    role: str
    schema: str
    created: bool
    password_set: bool
    tables: int


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    # standard_conforming_strings is on (PostgreSQL's default since 9.1): only ' needs doubling.
    return "'" + value.replace("'", "''") + "'"


def current_role(connection: Connection) -> str:
    return str(connection.scalar(text("SELECT current_user")))


def check_app_role(connection: Connection, role: str) -> None:
    """Refuse, before anything is changed, a role this owner cannot set up or that no grant would
    hold: a superuser, the owner itself or a member of it, or a missing role the owner may not create."""
    owner = current_role(connection)
    row = connection.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if row is None:
        may_create = connection.scalar(
            text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"))
        if not may_create:
            raise YuqingError("E_APP_ROLE_CANNOT_CREATE", role=role, owner=owner)
        return
    if row.rolsuper:
        raise YuqingError("E_APP_ROLE_SUPERUSER", role=role)
    if connection.scalar(text("SELECT pg_has_role(:r, current_user, 'USAGE')"), {"r": role}):
        raise YuqingError("E_APP_ROLE_OWNER", role=role, owner=owner)


def ensure_app_role(connection: Connection, role: str, *, password: str | None = None) -> RoleReport:
    """Create `role` if it is missing (LOGIN, no other attribute) and grant it, in the connection's
    current schema: SELECT and INSERT on audit_log; SELECT on alembic_version; SELECT, INSERT, UPDATE,
    DELETE on every other table; USAGE and SELECT on the sequences; the same by default on tables and
    sequences the owner creates later. Run as the owner of the tables (after the migrations), inside
    its transaction; idempotent — grants are reset to exactly these on every run.

    `password` (the app URL's) is set on the role when given and the owner may manage roles.
    Refused with a YuqingError (see check_app_role) when the role cannot be made safe.
    """
    check_app_role(connection, role)
    ident = _quote_ident(role)
    exists = connection.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role})
    created = password_set = False
    if not exists:
        clause = f" PASSWORD {_quote_literal(password)}" if password else ""
        connection.exec_driver_sql(f"CREATE ROLE {ident} LOGIN{clause}")
        created, password_set = True, bool(password)
    elif password and connection.scalar(
            text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")):
        connection.exec_driver_sql(f"ALTER ROLE {ident} PASSWORD {_quote_literal(password)}")
        password_set = True
    schema = str(connection.scalar(text("SELECT current_schema()")))
    where = _quote_ident(schema)
    tables = list(connection.scalars(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY tablename"), {"s": schema}))
    statements = [
        f"GRANT USAGE ON SCHEMA {where} TO {ident}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {ident}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {ident}",
        f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {where} TO {ident}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {ident}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT {TABLE_RIGHTS} ON TABLES TO {ident}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT USAGE, SELECT ON SEQUENCES TO {ident}",
    ]
    for name in APPEND_ONLY:
        if name in tables:
            statements.append(f"REVOKE UPDATE, DELETE ON {where}.{_quote_ident(name)} FROM {ident}")
    for name in READ_ONLY:
        if name in tables:
            statements.append(f"REVOKE INSERT, UPDATE, DELETE ON {where}.{_quote_ident(name)} FROM {ident}")
    for statement in statements:
        connection.exec_driver_sql(statement)
    others = len([t for t in tables if t not in APPEND_ONLY + READ_ONLY])
    return RoleReport(role, schema, created, password_set, others)


def audit_rights(connection: Connection, role: str) -> dict[str, bool]:
    """What `role` may do to audit_log (for checks and tests): privilege name → granted."""
    return {
        right: bool(connection.scalar(text("SELECT has_table_privilege(:r, 'audit_log', :p)"), {"r": role, "p": right}))
        for right in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")
    }
