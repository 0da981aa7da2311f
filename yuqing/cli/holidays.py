"""`yuqing holidays`: the year's holidays from the State Council's notice, and which years are known."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from yuqing.cli.base import Context, Parser
from yuqing.errors import YuqingError
from yuqing.vocabulary import render

MAX_NOTICE_BYTES = 200_000


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read(MAX_NOTICE_BYTES + 1)[:MAX_NOTICE_BYTES + 1]
    try:
        data = Path(source).read_bytes()[: MAX_NOTICE_BYTES + 1]
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise YuqingError("E_NOTICE_READ", name=Path(source).name) from exc


def _days(days: tuple[date, ...]) -> str:
    return "、".join(f"{d.month}月{d.day}日" for d in days) or "无"


def cmd_holidays_import(ctx: Context, args: argparse.Namespace) -> int:
    from scoring.notice import parse_notice

    text = _read(args.file)
    if len(text) > MAX_NOTICE_BYTES:
        raise YuqingError("E_NOTICE_TOO_LONG", limit=MAX_NOTICE_BYTES)
    notice = parse_notice(text)
    if not args.dry_run:
        from yuqing.db.holidays import import_notice

        source = "标准输入" if args.file == "-" else Path(args.file).name
        ctx.write(lambda w: import_notice(w, notice, source=source))
    if args.json:
        ctx.json(notice.as_json())
        return 0
    ctx.print(render("CLI_HOLIDAYS_DRY_RUN" if args.dry_run else "CLI_HOLIDAYS_SAVED", year=notice.year))
    for name, off, on in notice.items:
        worked = f"；调休上班：{_days(on)}" if on else ""
        ctx.print(f"  {name}：放假 {_days(off)}（{len(off)} 天）{worked}")
    ctx.print(render("CLI_HOLIDAYS_TOTAL", off=len(notice.holidays), on=len(notice.workdays)))
    return 0


def register(sub: Any) -> None:
    hol = sub.add_parser("holidays", help="节假日安排（函件工作日计算）").add_subparsers(
        dest="holidays_command", required=True, parser_class=Parser)
    p = hol.add_parser("import", help="读入国务院办公厅《关于YYYY年部分节假日安排的通知》原文")
    p.add_argument("file", metavar="FILE|-", help="通知原文的文本文件，- 为标准输入")
    p.add_argument("--dry-run", action="store_true", help="只显示读到的安排，不保存")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_holidays_import)
