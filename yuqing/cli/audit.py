"""`yuqing audit verify|log`: the hash-chained audit trail."""
from __future__ import annotations

import argparse
import json
from typing import Any

from yuqing.cli.base import Context, Parser
from yuqing.errors import YuqingError


def cmd_audit_verify(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db import audit

    report = ctx.read(audit.verify)
    if not report.ok:
        raise YuqingError("E_AUDIT_BROKEN", id=report.broken_id, problem=report.problem)
    ctx.print(f"审计链完整：共 {report.count} 条记录")
    ctx.print(f"链头哈希：{report.head}")
    return 0


def cmd_audit_log(ctx: Context, args: argparse.Namespace) -> int:
    from timeline.clock import display_beijing, iso_beijing
    from yuqing.db.audit import audit_log

    rows = ctx.read(audit_log, entity=args.entity, entity_id=args.id)
    if args.json:
        ctx.json(
            [
                {
                    "id": r.id,
                    "at": iso_beijing(r.at),
                    "actor": r.actor,
                    "entity": r.entity,
                    "entity_id": r.entity_id,
                    "action": r.action,
                    "before": json.loads(r.before) if r.before else None,
                    "after": json.loads(r.after) if r.after else None,
                    "reason": r.reason,
                    "hash": r.hash,
                }
                for r in rows
            ]
        )
        return 0
    for r in rows:
        reason = f"  原因：{r.reason}" if r.reason else ""
        ctx.print(f"{r.id:>6} {display_beijing(r.at)} {r.actor} {r.entity}#{r.entity_id} {r.action}{reason}")
    return 0


def register(sub: Any) -> None:
    au = sub.add_parser("audit", help="审计记录").add_subparsers(dest="audit_command", required=True, parser_class=Parser)
    p = au.add_parser("verify", help="校验审计链")
    p.set_defaults(func=cmd_audit_verify)
    p = au.add_parser("log", help="查看审计记录")
    p.add_argument("--entity", metavar="NAME")
    p.add_argument("--id", metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit_log)
