"""What every page shares: the cached database, the settings, and short-lived cached reads."""
from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from db.queries import IncidentView, UnitView, list_incidents, list_units
from db.session import Database
from errors import YuqingError
from settings import load_config


_opened: list[Database] = []


@st.cache_resource
def database() -> Database:
    config = load_config()
    db = Database(config.database_url)
    _opened.append(db)
    db.require_current_schema()
    return db


def reset() -> None:
    """Drop cached reads and close every engine this process opened (tests, settings changes)."""
    for cached in (database, open_incidents, units):
        cached.clear()
    while _opened:
        _opened.pop().dispose()


def now() -> datetime:
    return datetime.now(timezone.utc)


@st.cache_data(ttl=5, show_spinner=False)
def open_incidents(unit_code: str | None) -> list[IncidentView]:
    with database().session() as session:
        return list_incidents(session, open_only=True, unit_code=unit_code)


@st.cache_data(ttl=300, show_spinner=False)
def units() -> list[UnitView]:
    with database().session() as session:
        return list_units(session)


def guard() -> bool:
    """Show a Chinese sentence instead of a traceback when the database is not usable."""
    try:
        database()
    except YuqingError as exc:
        st.error(exc.message)
        st.caption("请在命令行运行 `yuqing init` 初始化数据库，或检查 YUQING_DATABASE_URL 设置。")
        return False
    return True
