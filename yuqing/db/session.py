"""Engines and sessions: created on first use, SQLite tuned for one writer, errors turned into sentences."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from timeline.presets import office_lookup, set_office_lookup
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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_SECONDS}, **kwargs)
        _tune_sqlite(engine)
        _strip_nul(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    engine = create_engine(url, **kwargs)
    _strip_nul(engine)
    return engine


# How long a SQLite statement waits for another process's write lock before "数据库正忙".
BUSY_SECONDS = 30


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling is switched off; every transaction begins explicitly.
    # Writes take the write lock at the start (BEGIN IMMEDIATE) so the audit chain's "read head,
    # append" cannot interleave; reads begin deferred, so under WAL they read their snapshot while
    # an import writes (BEGIN IMMEDIATE for reads made them wait behind it).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get("yuqing_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clean(v) for v in value)
    return value


def _strip_nul(engine: Engine) -> None:
    """NUL characters are removed from every bound value of every statement, on both databases.

    PostgreSQL refuses NUL in text (one NUL in a CSV cell failed a whole import); SQLite stores it
    but cuts strings at it in some functions. No text here means anything by a NUL, so the edge of
    the store is the one place every write path (feeds, imports, CLI, dashboard) passes.
    """
    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> Any:
        return statement, _clean(parameters)


def describe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def database_error(url: str, exc: OperationalError) -> YuqingError:
    """The sentence for an operational error: busy (another writer holds the lock) or unreachable."""
    if _is_busy(exc):
        return YuqingError("E_DB_BUSY", seconds=BUSY_SECONDS)
    return unreachable(url, exc)


def unreachable(url: str, exc: BaseException) -> YuqingError:
    detail = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return YuqingError("E_DB_UNREACHABLE", url=describe_url(url), detail=detail)


class Database:
    """One engine and its session factory for one database URL."""

    def __init__(self, url: str, engine: Engine | None = None, *, office_id: int | None = None,
                 read_only: bool = False, presets: dict[str, str] | None = None) -> None:
        import yuqing.db.offices  # noqa: F401 - registers the office scope on every session

        self.url = url
        self.engine = engine or make_engine(url)
        # The office whose records this handle's sessions see and write (yuqing.db.offices); None: the
        # whole installation (migrations, init, the feed worker). `read_only`: a parent office's
        # administrator reading a child office — the write service refuses every write.
        self.office_id = office_id
        self.read_only = read_only
        # Office presets read by name for incidents' clocks (yuqing.db.office_rules.preset_lookup),
        # shared by the handles of one engine; this handle's sessions read through it.
        self.presets: dict[str, str] = presets if presets is not None else {}
        from yuqing.db.office_rules import preset_lookup

        self.preset_lookup = preset_lookup(self.engine, self.presets)
        set_office_lookup(self.preset_lookup)
        info: dict[str, Any] = {} if office_id is None else {"office_id": office_id, "office_read_only": read_only}
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=info)

    def for_office(self, office_id: int | None, *, read_only: bool = False) -> Database:
        """The same database (one engine) seen from one office."""
        return Database(self.url, self.engine, office_id=office_id, read_only=read_only, presets=self.presets)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on any error.

        `write=False` for a session that only reads: on SQLite it does not take the write lock, so
        it answers while another process writes.
        """
        try:
            with office_lookup(self.preset_lookup), self.sessions() as session, session.begin():
                if not write and self.engine.dialect.name == "sqlite":
                    session.connection(execution_options={"yuqing_read_only": True})
                if self.engine.dialect.name == "postgresql":
                    # Row-level security's key (yuqing.db.rls): this transaction's office, or every office.
                    session.execute(text("SELECT set_config('yuqing.office', :office, true)"),
                                    {"office": "*" if self.office_id is None else str(self.office_id)})
                yield session
        except OperationalError as exc:
            if _is_busy(exc):
                raise YuqingError("E_DB_BUSY", seconds=BUSY_SECONDS) from exc
            if _is_connection_error(exc):
                raise unreachable(self.url, exc) from exc
            raise

    def run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `work(session, *args, **kwargs)` in one transaction (committed, or rolled back on error)."""
        with self.session() as session:
            return work(session, *args, **kwargs)

    def read(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a query that only reads: on SQLite it answers while another process writes."""
        with self.session(write=False) as session:
            return work(session, *args, **kwargs)

    def check_reachable(self) -> None:
        try:
            with self.engine.connect().execution_options(yuqing_read_only=True):
                pass
        except DBAPIError as exc:
            raise unreachable(self.url, exc) from exc

    def require_current_schema(self) -> None:
        """Refuse to work on a database that was never migrated or is behind the code."""
        from yuqing.db.migrate import current_revision, head_revision

        self.check_reachable()
        with self.engine.connect().execution_options(yuqing_read_only=True) as connection:
            if not inspect(connection).has_table("alembic_version"):
                raise YuqingError("E_DB_NOT_INITIALISED")
            current = current_revision(connection)
        if current is None:
            raise YuqingError("E_DB_NOT_INITIALISED")
        if current != head_revision():
            raise YuqingError("E_DB_OUTDATED")

    def dispose(self) -> None:
        self.engine.dispose()


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else ""
    return "database is locked" in text or "database is busy" in text


def _is_connection_error(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else ""
    return any(s in text for s in ("connection", "could not connect", "unable to open", "server closed", "timeout"))
