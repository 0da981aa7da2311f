"""Alembic, driven from code: `yuqing init` and the tests migrate through here."""
from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from yuqing.db.session import MIGRATIONS


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration shipped with the code (read once: the scripts do not change while running)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head", *, root_office: tuple[str, str] | None = None) -> None:
    """Migrate to `revision`. `root_office` (code, name) is the office today's rows go to when the
    offices arrive (0018); without it the migration reads the settings."""
    config = alembic_config()
    if root_office is not None:
        config.attributes["root_office"] = root_office
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    config = alembic_config()
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction. On SQLite, foreign keys are off while it migrates: batch mode
    rebuilds a table to change a column, and dropping the old copy of a table others refer to (units)
    fails while they are enforced; the pragma cannot change inside a transaction, so it is set on the
    driver connection before BEGIN, checked and set back after COMMIT. PostgreSQL alters in place."""
    with engine.connect() as connection:
        raw = connection.connection.driver_connection if engine.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    # A migration works on every office's rows: row-level security is forced on the
                    # owner too (0021), keyed on this setting (yuqing.db.session).
                    connection.execute(text("SELECT set_config('yuqing.office', '*', true)"))
                yield connection
            if raw is not None:
                problems = raw.execute("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"foreign key check failed after migrating: {problems[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
