"""What every command shares: the parser class, the context (config, database, actor, output), argument types."""
from __future__ import annotations

import argparse
import getpass
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO


def _argparse_in_chinese() -> None:
    # argparse looks its sentences up through the module-level gettext `_` at call time.
    from yuqing.vocabulary import ARGPARSE

    argparse._ = lambda message: ARGPARSE.get(message, message)  # type: ignore[attr-defined]  # argparse reads its module-level gettext `_` at call time


class UsageError(Exception):
    """Wrong usage: argparse's exit 2, raised instead of exiting so tests can see it."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # raises instead of exiting (argparse declares NoReturn)
        raise UsageError(f"{self.prog}: {message}")


@dataclass
class Context:
    db_url: str | None
    actor_name: str | None
    out: TextIO
    _config: Any = None
    _database: Any = None
    _actor: Any = None
    now_override: datetime | None = field(default=None)
    err: TextIO | None = None
    # The global `--office CODE`: read a child office's records (an administrator of a parent office).
    office_code: str | None = None

    @property
    def config(self) -> Any:
        if self._config is None:
            from yuqing.settings import load_config

            self._config = load_config(database_url=self.db_url)
        return self._config

    def database(self, *, require_schema: bool = True) -> Any:
        if self._database is None:
            from yuqing.db.session import Database

            base = Database(self.config.database_url)
            self._database = base
            if require_schema:
                base.require_current_schema()
                # `--as` is checked for every command, reads included; the office follows from it.
                office_id, read_only = base.read(self._scope)
                self._database = base.for_office(office_id, read_only=read_only)
        return self._database

    def _scope(self, session: Any) -> tuple[int, bool]:
        """The office this command works in: the account's own, or (`--office`) one under it, read-only."""
        from yuqing.db.offices import descendants, find_office

        actor = self.actor(session)
        if self.office_code is None:
            return actor.office_id, False
        target = find_office(session, self.office_code)
        if target.id == actor.office_id:
            return actor.office_id, False
        if actor.role == "admin" and target.id in descendants(session, actor.office_id):
            return target.id, True
        from yuqing.errors import YuqingError

        raise YuqingError("E_OFFICE_FORBIDDEN", office=target.name, what="查看")

    def home_office_id(self) -> int:
        """The acting account's own office."""
        self.database()
        return int(self._actor.office_id)

    def actor(self, session: Any) -> Any:
        """`--as NAME` names an account (refused if unknown or disabled); without it the local
        operator acts as admin of the root office (YUQING_OFFICE), recorded under the operating-system user."""
        from yuqing.db.accounts import actor_for
        from yuqing.db.service import Actor

        if self._actor is None:
            if self.actor_name is not None:
                self._actor = actor_for(session, self.actor_name)
            else:
                from yuqing.db.offices import local_office_id

                self._actor = Actor(_os_user(), "admin", office_id=local_office_id(session, self.config.office_code))
        return self._actor

    def now(self) -> datetime:
        return self.now_override or datetime.now(UTC)

    def writer(self, session: Any, *, classify: bool = False) -> Any:
        from yuqing.db.service import Writer

        suggest = None
        if classify:
            from yuqing.db.classifying import classifier_for, suggester
            from yuqing.db.service import unit_refs

            suggest = suggester(classifier_for(unit_refs(session)), self.config.preset)
        return Writer(
            session,
            self.actor(session),
            now=self.now(),
            preset=self.config.preset,
            evidence_dir=self.config.evidence_dir,
            evidence_max_bytes=self.config.evidence_max_mb * 1024 * 1024,
            classify=suggest,
        )

    def write(self, operation: Callable[..., Any], *args: Any, classify: bool = False, **kwargs: Any) -> Any:
        """Run one write-service operation in its own transaction; its result is returned after the
        commit, so nothing is printed for a write that did not land."""
        database = self.database()
        if database.read_only:
            from yuqing.db.offices import office_by_id
            from yuqing.errors import YuqingError

            office = database.read(office_by_id, database.office_id)
            raise YuqingError("E_OFFICE_READ_ONLY", office=office.name, what="修改")
        return database.run(lambda session: operation(self.writer(session, classify=classify), *args, **kwargs))

    def read(self, query: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run one read query of yuqing.db (`query(session, ...)`) and return its result."""
        return self.database().read(query, *args, **kwargs)

    def json_list(self, values: Any) -> None:
        """A JSON array written one element at a time (as `json(list(values))` would print it), so a
        long list never sits whole in memory."""
        array = JsonArray(self.out)
        for value in values:
            array.add(value)
        array.close()

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def err_print(self, text: str) -> None:
        import sys

        print(text, file=self.err or sys.stderr)

    def json(self, value: Any, *, indent: int | None = 2) -> None:
        print(json.dumps(value, ensure_ascii=False, indent=indent), file=self.out)

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "unknown"


from yuqing.db.types import MAX_ID  # noqa: E402 - beside its use; the largest id a record can have


def account_name(text: str) -> str:
    """argparse type for `--as`: an empty or blank name is refused (exit 2), never read as "no
    account" — that would run as the operating-system user with admin rights."""
    if not text.strip():
        from yuqing.messages import quote

        raise argparse.ArgumentTypeError(f"账号名不能为空：{quote(text)}")
    return text


class JsonArray:
    """A JSON array written element by element, byte for byte what `json.dumps(list, indent=2)` prints."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.first = True

    def add(self, value: Any) -> None:
        body = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        self.out.write(("[\n  " if self.first else ",\n  ") + body)
        self.first = False

    def close(self) -> None:
        self.out.write("[]\n" if self.first else "\n]\n")


def page_size(text: str) -> int:
    """argparse type for --limit: a whole number from 1 (else exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效的条数：{text}") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"条数应为 1 到 {MAX_ID} 之间的整数：{text}")
    return value


def page_offset(text: str) -> int:
    """argparse type for --offset: a whole number from 0 (else exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效的起点：{text}") from None
    if not 0 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"起点应为 0 到 {MAX_ID} 之间的整数：{text}")
    return value


def record_id(text: str) -> int:
    """argparse type for record ids: a whole number the databases can hold (else exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效的编号：{text}") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"编号超出范围：{text}")
    return value


def year(text: str) -> int:
    """argparse type for assessment years (2000–2100)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效的年份：{text}") from None
    if not 2000 <= value <= 2100:
        raise argparse.ArgumentTypeError(f"年份必须在 2000 到 2100 之间：{text}")
    return value


def _time(text: str | None) -> datetime | None:
    from timeline.clock import parse_user_time

    return None if text is None else parse_user_time(text)


def _day(text: str | None, *, end: bool = False) -> datetime | None:
    """A day-valued option (a record's date, a due date): a bare date means its start, or its end."""
    from timeline.clock import parse_user_time

    return None if text is None else parse_user_time(text, date_only="23:59:59" if end else "00:00:00")


def _now(ctx: Context, text: str | None) -> datetime:
    return _time(text) or ctx.now()


_argparse_in_chinese()
