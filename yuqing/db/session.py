"""Engines and sessions: created on first use, SQLite tuned for one writer, errors turned into sentences."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from yuqing.errors import YuqingError

MIGRATIONS = Path(__file__).with_name("migrations")


T = TypeVar("T")

# What the command line's error edge catches when the database cannot be reached or is busy.
StoreUnavailable = OperationalError


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise YuqingError(
                    "E_DB_UNREACHABLE", url=describe_url(url), detail=f"无法创建目录 {folder}：{exc.strerror or exc}"
                ) from exc
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN; take the write lock at the start of every
    # transaction instead (BEGIN IMMEDIATE) so the audit chain's "read head, append" cannot interleave.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def describe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def unreachable(url: str, exc: BaseException) -> YuqingError:
    detail = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return YuqingError("E_DB_UNREACHABLE", url=describe_url(url), detail=detail)


class Database:
    """One engine and its session factory for one database URL."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error."""
        try:
            with self.sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            if _is_connection_error(exc):
                raise unreachable(self.url, exc) from exc
            raise

    def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `work(session, *args, **kwargs)` in one transaction (committed, or rolled back on error)."""
        with self.session() as session:
            return work(session, *args, **kwargs)

    def check_reachable(self) -> None:
        try:
            with self.engine.connect():
                pass
        except DBAPIError as exc:
            raise unreachable(self.url, exc) from exc

    def require_current_schema(self) -> None:
        """Refuse to work on a database that was never migrated or is behind the code."""
        from yuqing.db.migrate import current_revision, head_revision

        self.check_reachable()
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                raise YuqingError("E_DB_NOT_INITIALISED")
            current = current_revision(connection)
        if current is None:
            raise YuqingError("E_DB_NOT_INITIALISED")
        if current != head_revision():
            raise YuqingError("E_DB_OUTDATED")

    def dispose(self) -> None:
        self.engine.dispose()


def _is_connection_error(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else ""
    return any(s in text for s in ("connection", "could not connect", "unable to open", "server closed", "timeout"))
