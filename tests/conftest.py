"""Shared fixtures: a real database per test (SQLite always, PostgreSQL when configured), factories."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from classify.units import load_units_file
from yuqing.db.models import Base
from yuqing.db.service import Actor, Writer
from yuqing.db.session import Database, make_engine
from yuqing.settings import UNITS_FILE

PG_URL = os.environ.get("YUQING_TEST_DATABASE_URL", "")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

# 2026-06-10 14:00 Beijing time, the contract's example start.
T0 = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"PostgreSQL leg: on ({PG_URL.split('@')[-1]})"
    return "PostgreSQL leg: SKIPPED — set YUQING_TEST_DATABASE_URL=postgresql+psycopg://... to run it"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="PostgreSQL leg skipped: YUQING_TEST_DATABASE_URL is not set")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL: a fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Every test that touches the database runs on each backend.
    if "db_url" not in metafunc.fixturenames:
        return
    explicit = any("db_url" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize"))
    if not explicit:
        metafunc.parametrize("db_url", BACKENDS, indirect=True)


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated database with the unit registry loaded."""
    from yuqing.db import migrate

    database = Database(db_url)
    migrate.upgrade(database.engine)
    _, refs = load_units_file(UNITS_FILE)
    with database.session() as session:
        Writer(session, Actor("fixture"), now=T0, preset="sanmenxia-2017").sync_units(refs)
    yield database
    database.dispose()


@pytest.fixture
def bare_database(db_url: str) -> Iterator[Database]:
    """Tables from the models, no migration, no units (for tests that do not need the registry)."""
    database = Database(db_url)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


def writer(session: Any, *, now: datetime = T0, actor: str = "tester", preset: str = "sanmenxia-2017",
           evidence_dir: Path | None = None) -> Writer:
    return Writer(session, Actor(actor), now=now, preset=preset, evidence_dir=evidence_dir)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test has its own data folder (evidence files, the audit key, checkpoints), never the
    checkout's ./data."""
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def url(db_url: str) -> str:
    """An initialised database (units loaded, migrated to head), on SQLite and on PostgreSQL."""
    from tests.cliutil import yq

    assert yq(db_url, "init").code == 0
    return db_url


@pytest.fixture
def server() -> Iterator[Any]:
    """A local feed server on loopback (tests/feedserver.py)."""
    from tests.feedserver import FeedServer

    with FeedServer() as s:
        yield s
