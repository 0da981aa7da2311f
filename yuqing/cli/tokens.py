"""`yuqing tokens …` (HTTP API bearer tokens) and `yuqing screens …` (wall-display URLs)."""
from __future__ import annotations

import argparse
from typing import Any

from yuqing.cli.base import Context, Parser
from yuqing.vocabulary import render


def screen_url(base: str, token: str) -> str:
    return f"{base}/board?screen=1&display={token}"


def cmd_tokens_add(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.tokens import add_token

    token = ctx.write(add_token, args.name, role=args.role, unit=args.unit)
    ctx.print(token)
    ctx.err_print(f"已创建接口令牌 {args.name}：令牌只显示这一次，请妥善保存（请求头 Authorization: Bearer 令牌）")
    return 0


def _views_json(views: list[Any], *, with_role: bool) -> list[dict[str, Any]]:
    from timeline.clock import iso_beijing

    rows = []
    for v in views:
        row: dict[str, Any] = {"name": v.name}
        if with_role:
            row["role"] = v.role
        row.update({"unit": v.unit_code, "created_at": iso_beijing(v.created_at), "created_by": v.created_by,
                    "revoked": v.revoked_at is not None, "revoked_at": iso_beijing(v.revoked_at),
                    "last_used_at": iso_beijing(v.last_used_at)})
        rows.append(row)
    return rows


def _print_views(ctx: Context, views: list[Any], empty: str) -> None:
    from timeline.clock import display_beijing

    if not views:
        ctx.print(empty)
    for v in views:
        state = "（已停用）" if v.revoked_at else ""
        role = f" {v.role}" if v.role else ""
        ctx.print(f"{v.name:<16}{role} {v.unit_code or '—'}  创建于 {display_beijing(v.created_at)}，"
                  f"上次使用 {display_beijing(v.last_used_at)}{state}")


def cmd_tokens_list(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.tokens import list_tokens

    views = ctx.read(list_tokens)
    if args.json:
        ctx.json(_views_json(views, with_role=True))
    else:
        _print_views(ctx, views, "还没有接口令牌")
    return 0


def cmd_tokens_revoke(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.tokens import revoke_token

    ctx.write(revoke_token, args.name)
    ctx.print(render("CLI_TOKEN_REVOKED", name=args.name))
    return 0


def cmd_screens_add(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.tokens import add_screen

    token = ctx.write(add_screen, args.name, unit=args.unit)
    ctx.print(screen_url(ctx.config.public_url, token))
    ctx.err_print(f"已创建大屏 {args.name}：地址只显示这一次，在大屏浏览器中打开即可（无需登录）")
    return 0


def cmd_screens_list(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.tokens import list_screens

    views = ctx.read(list_screens)
    if args.json:
        ctx.json(_views_json(views, with_role=False))
    else:
        _print_views(ctx, views, "还没有大屏")
    return 0


def cmd_screens_revoke(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.tokens import revoke_screen

    ctx.write(revoke_screen, args.name)
    ctx.print(render("CLI_SCREEN_REVOKED", name=args.name))
    return 0


def register(sub: Any) -> None:
    tk = sub.add_parser("tokens", help="HTTP 接口令牌").add_subparsers(dest="tokens_command", required=True,
                                                                   parser_class=Parser)
    p = tk.add_parser("add", help="新建接口令牌（只显示一次）")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["admin", "staff", "viewer"])
    p.add_argument("--unit", metavar="UNIT", help="staff 令牌所属单位")
    p.set_defaults(func=cmd_tokens_add)
    p = tk.add_parser("list", help="列出接口令牌")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tokens_list)
    p = tk.add_parser("revoke", help="停用接口令牌")
    p.add_argument("name")
    p.set_defaults(func=cmd_tokens_revoke)

    sc = sub.add_parser("screens", help="大屏（免登录只读看板）").add_subparsers(dest="screens_command", required=True,
                                                                       parser_class=Parser)
    p = sc.add_parser("add", help="新建大屏，打印其地址（只显示一次）")
    p.add_argument("name")
    p.add_argument("--unit", metavar="UNIT", help="只显示该单位的舆情")
    p.set_defaults(func=cmd_screens_add)
    p = sc.add_parser("list", help="列出大屏")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_screens_list)
    p = sc.add_parser("revoke", help="停用大屏")
    p.add_argument("name")
    p.set_defaults(func=cmd_screens_revoke)
