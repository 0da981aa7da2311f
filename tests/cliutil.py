"""Running the `yuqing` command in-process for tests."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from timeline.clock import BEIJING
from yuqing import cli


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def yq(db_url: str, *args: str, actor: str | None = None, stdin: str | None = None, monkeypatch: Any = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    argv = ["--db", db_url] + (["--as", actor] if actor else []) + list(args)
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.run(argv, out=out, err=err)
    return Result(code, out.getvalue(), err.getvalue())


def ago(hours: float = 0, minutes: float = 0) -> str:
    """A Beijing wall time `hours` ago, in the `YYYY-MM-DD HH:MM:SS` form people type."""
    moment = datetime.now(UTC) - timedelta(hours=hours, minutes=minutes)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def error_code(result: Result) -> str:
    assert result.err.rstrip().endswith("]"), result.err
    return result.err.rstrip().rsplit("[", 1)[1][:-1]


def session_for(db_url: str, actor: Any) -> str | None:
    """A dashboard session for `actor` (its account created if missing, with a password that never
    verifies), as the login form would open one: the token an in-process run (AppTest) stands on.
    None when the database is not initialised yet (the page then says so)."""
    from sqlalchemy import select

    from yuqing.db.logins import open_session
    from yuqing.db.models import Unit, User
    from yuqing.db.session import Database
    from yuqing.errors import YuqingError

    database = Database(db_url)
    try:
        database.require_current_schema()
        with database.session() as session:
            if session.scalar(select(User).where(User.name == actor.name)) is None:
                unit = session.scalar(select(Unit).where(Unit.code == actor.unit_code)) if actor.unit_code else None
                session.add(User(name=actor.name, role=actor.role, unit=unit, password_hash="!", active=True,
                                 failed_logins=0, created_at=datetime.now(UTC)))
                session.flush()
            return open_session(session, actor.name, client="127.0.0.1", now=datetime.now(UTC))
    except YuqingError:
        return None
    finally:
        database.dispose()
