"""The `yuqing` command: parse arguments → one call into the packages → print. Errors → one line, exit 1.

Each noun has its module here (offices, incidents, intake, triage, accounts, alerts, scores, audit, system, holidays),
each command's options beside its handler; this module holds the root parser and the error edge.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TextIO

from yuqing.cli import accounts, alerts, audit, holidays, incidents, intake, offices, scores, system, tokens, triage
from yuqing.cli.base import Context, Parser, UsageError, account_name
from yuqing.errors import YuqingError

NOUNS = (system, offices, incidents, audit, intake, triage, alerts, accounts, tokens, scores, holidays)


def build_parser() -> Parser:
    parser = Parser(prog="yuqing", description="政务舆情回应时效追踪")
    parser.add_argument("--db", metavar="URL", help="数据库地址（覆盖 YUQING_DATABASE_URL）")
    parser.add_argument("--office", dest="scope_office", metavar="CODE", help="查看下级考核办的记录（只读；上级考核办的管理员）")
    parser.add_argument("--as", dest="actor", metavar="NAME", type=account_name, help="以该用户身份操作（记入审计）")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for noun in NOUNS:
        noun.register(sub)
    return parser


def run(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command; returns the exit code. Unexpected exceptions propagate (tests see them)."""
    from yuqing.db.session import StoreUnavailable, unreachable

    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    raw = list(argv) if argv is not None else sys.argv[1:]
    for value in raw:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # bytes that were not UTF-8 arrive as lone surrogates
            print(str(YuqingError("E_ARG_ENCODING")), file=err)
            return 1
    try:
        args = parser.parse_args(raw)
    except UsageError as exc:
        print(parser.format_usage().rstrip(), file=err)
        print(str(exc), file=err)
        return 2
    ctx = Context(db_url=args.db, actor_name=args.actor, out=out, err=err, office_code=args.scope_office)
    try:
        return int(args.func(ctx, args))
    except UsageError as exc:
        print(parser.format_usage().rstrip(), file=err)
        print(str(exc), file=err)
        return 2
    except YuqingError as exc:
        print(str(exc), file=err)
        return 1
    except StoreUnavailable as exc:
        print(str(unreachable(ctx.config.database_url, exc)), file=err)
        return 1
    finally:
        ctx.close()


def main() -> None:
    """Console entry point: a last guard so a user never sees a traceback."""
    from yuqing.messages import log_to_data_dir

    log_to_data_dir()
    try:
        code = run()
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader went away (`yuqing incident list | head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except Exception as exc:  # noqa: BLE001 - the edge: report, never dump a traceback on users
        import logging

        logging.getLogger("yuqing").exception("internal error")
        print(f"内部错误（{type(exc).__name__}），详情已记入日志。请将此信息反馈给系统管理员 [E_INTERNAL]", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
