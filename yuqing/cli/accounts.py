"""`yuqing users …` and `yuqing backup`: accounts and the database copy."""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from yuqing.cli.base import Context, Parser
from yuqing.errors import YuqingError
from yuqing.vocabulary import render


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise YuqingError("E_PASSWORD_INPUT")
        return password
    if not sys.stdin.isatty():
        raise YuqingError("E_PASSWORD_INPUT")
    first = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != first:
        raise YuqingError("E_PASSWORD_MISMATCH")
    return first


def cmd_users_add(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.accounts import add_user

    password = _read_password(args)
    user = ctx.write(add_user, args.name, role=args.role, unit=args.unit, password=password, office=args.office)
    ctx.print(render("CLI_USER_ADDED_UNIT", name=user.name, role=args.role, unit=user.unit_name) if user.unit_name
              else render("CLI_USER_ADDED", name=user.name, role=args.role))
    return 0


def cmd_users_passwd(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.accounts import set_password

    password = _read_password(args)
    ctx.write(set_password, args.name, password)
    ctx.print(render("CLI_USER_PASSWORD", name=args.name))
    return 0


def cmd_users_disable(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.accounts import disable_user

    ctx.write(disable_user, args.name)
    ctx.print(render("CLI_USER_DISABLED", name=args.name))
    return 0


def cmd_users_list(ctx: Context, args: argparse.Namespace) -> int:
    from timeline.clock import display_beijing, iso_beijing
    from yuqing.db.accounts import ROLE_NAMES, list_users

    users = ctx.read(list_users)
    if args.json:
        ctx.json([
            {"name": u.name, "role": u.role, "unit": u.unit_code, "active": u.active,
             "last_login_at": iso_beijing(u.last_login_at)}
            for u in users
        ])
        return 0
    for u in users:
        state = "" if u.active else "（已停用）"
        ctx.print(f"{u.name:<16} {ROLE_NAMES[u.role]:<12} {u.unit_name or '—'}  上次登录 {display_beijing(u.last_login_at)}{state}")
    return 0


def cmd_backup(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.backup import backup

    database = ctx.database(require_schema=False)
    if ctx.actor_name is not None:
        # The copy holds every password hash: only an administrator may take it.
        from yuqing.db.accounts import require_admin_account

        database.read(lambda session: require_admin_account(ctx.actor(session), "备份数据库"))
    count = backup(database, Path(args.out))
    ctx.print(render("CLI_BACKUP_DONE", path=args.out, pages=count))
    ctx.print(render("CLI_BACKUP_EVIDENCE", path=str(ctx.config.evidence_dir)))
    return 0


def register(sub: Any) -> None:
    us = sub.add_parser("users", help="账号管理").add_subparsers(dest="users_command", required=True, parser_class=Parser)
    p = us.add_parser("add", help="新建账号")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["admin", "staff", "viewer"])
    p.add_argument("--unit", metavar="UNIT", help="staff 账号所属单位")
    p.add_argument("--office", metavar="CODE", help="账号所属考核办（默认：本考核办）")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为密码")
    p.set_defaults(func=cmd_users_add)
    p = us.add_parser("passwd", help="修改密码")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true")
    p.set_defaults(func=cmd_users_passwd)
    p = us.add_parser("disable", help="停用账号")
    p.add_argument("name")
    p.set_defaults(func=cmd_users_disable)
    p = us.add_parser("list", help="列出账号")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_users_list)

    p = sub.add_parser("backup", help="备份数据库（SQLite：运行中也可得到一致的副本）")
    p.add_argument("out", metavar="OUT")
    p.set_defaults(func=cmd_backup)
