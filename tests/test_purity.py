"""The engines are pure, and the alert rules are too: one walk over their imports.

ingest/, classify/, timeline/ and scoring/ import neither a database, a UI, the application
(`yuqing`) nor a migration tool; the alert rules and channel formats import no network, clock,
database or UI code (the caller brings `now` and the data).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("ingest", "classify", "timeline", "scoring")
ENGINE_FORBIDDEN = {"sqlalchemy", "streamlit", "alembic", "psycopg", "yuqing", "dashboard"}
ALERT_MODULES = ("rules.py", "channels.py")
ALERT_FORBIDDEN = {"sqlalchemy", "streamlit", "socket", "time", "http", "urllib.request", "yuqing.db"}


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def forbidden(names: set[str], banned: set[str]) -> set[str]:
    return {n for n in names if any(n == b or n.startswith(b + ".") for b in banned)}


ENGINE_FILES = sorted(p for engine in ENGINES for p in (ROOT / engine).rglob("*.py"))


def test_every_engine_is_walked():
    assert {p.relative_to(ROOT).parts[0] for p in ENGINE_FILES} == set(ENGINES)


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_engines_import_no_database_ui_or_application(path):
    assert forbidden(imports(path), ENGINE_FORBIDDEN) == set()


@pytest.mark.parametrize("module", ALERT_MODULES)
def test_alert_rules_import_no_network_clock_database_or_ui(module):
    assert forbidden(imports(ROOT / "yuqing" / "alerts" / module), ALERT_FORBIDDEN) == set()
