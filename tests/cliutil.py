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
