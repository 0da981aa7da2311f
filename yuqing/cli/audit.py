"""`yuqing audit verify|log`: the hash-chained audit trail."""
from __future__ import annotations

import argparse
import json
from typing import Any

from yuqing.cli.base import Context, Parser, _now, page_offset, page_size
from yuqing.errors import YuqingError
from yuqing.vocabulary import render


def _checkpoints(ctx: Context, session: Any, against: list[str]) -> list[Any]:
    from pathlib import Path

    from yuqing.db.audit import snapshot_checkpoints
    from yuqing.db.auditkey import read_checkpoints

    found = read_checkpoints(ctx.config.checkpoint_file, missing_ok=True)
    for path in against:
        found += read_checkpoints(Path(path), missing_ok=False)
    return found + snapshot_checkpoints(session)


def cmd_audit_verify(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db import audit
    from yuqing.db.auditkey import load_key
    from yuqing.db.auditstate import verify_state

    key = load_key(ctx.config.audit_key_path)
    report = ctx.read(lambda session: audit.verify(session, _checkpoints(ctx, session, args.against or []), key=key))
    if not report.ok:
        if report.checkpoint_problem:
            raise YuqingError("E_AUDIT_CUT", problem=report.checkpoint_problem)
        if report.broken_id is None:
            raise YuqingError("E_AUDIT_REWRITTEN", problem=report.problem)
        raise YuqingError("E_AUDIT_BROKEN", id=report.broken_id, problem=report.problem)
    if key is None and report.signed:
        raise YuqingError("E_AUDIT_KEY_MISSING", path=str(ctx.config.audit_key_path))
    # The chain holds: now the rows it speaks of must still be what it says (edited, deleted or
    # inserted behind the application's back otherwise).
    state = ctx.read(verify_state)
    if not state.ok:
        more = state.total - len(state.problems)
        named = state.problems + ([f"……另有 {more} 处"] if more else [])
        raise YuqingError("E_AUDIT_STATE", count=state.total, problems="；".join(named))
    ctx.print(render("CLI_AUDIT_INTACT", count=report.count))
    ctx.print(render("CLI_AUDIT_HEAD", head=report.head))
    ctx.print(render("CLI_AUDIT_SIGNED_UNSIGNED", signed=report.signed, unsigned=report.unsigned) if report.unsigned
              else render("CLI_AUDIT_SIGNED", signed=report.signed))
    ctx.print(render("CLI_AUDIT_CHECKPOINTS", count=report.checkpoints) if report.checkpoints
              else render("CLI_AUDIT_NO_CHECKPOINTS"))
    ctx.print(render("CLI_AUDIT_STATE_OK", checked=state.checked))
    return 0


def cmd_audit_checkpoint(ctx: Context, args: argparse.Namespace) -> int:
    from pathlib import Path

    from yuqing.db.auditkey import write_checkpoint

    checkpoint = ctx.read(write_checkpoint, ctx.config, _now(ctx, args.now), Path(args.out) if args.out else None)
    ctx.json(checkpoint.as_json(), indent=None)
    return 0


def cmd_audit_log(ctx: Context, args: argparse.Namespace) -> int:
    from timeline.clock import display_beijing, iso_beijing
    from yuqing.cli.base import JsonArray
    from yuqing.cli.incidents import _page_note
    from yuqing.db.audit import AuditView, audit_total, each_audit

    paged = args.limit is not None or args.offset
    shown = [0]
    array = JsonArray(ctx.out) if args.json else None

    def emit(r: AuditView) -> None:
        shown[0] += 1
        if array is None:
            reason = f"  原因：{r.reason}" if r.reason else ""
            ctx.print(f"{r.id:>6} {display_beijing(r.at)} {r.actor} {r.entity}#{r.entity_id} {r.action}{reason}")
            return
        array.add({
            "id": r.id, "at": iso_beijing(r.at), "actor": r.actor, "entity": r.entity, "entity_id": r.entity_id,
            "action": r.action, "before": json.loads(r.before) if r.before else None,
            "after": json.loads(r.after) if r.after else None, "reason": r.reason, "hash": r.hash,
        })

    # Every matching record, oldest first, streamed a chunk at a time; or the page --limit/--offset asks for.
    ctx.read(each_audit, emit, entity=args.entity, entity_id=args.id, limit=args.limit, offset=args.offset)
    if array is not None:
        array.close()
    if paged:
        note = _page_note(ctx.read(audit_total, entity=args.entity, entity_id=args.id), args.offset, shown[0])
        (ctx.err_print if array is not None else ctx.print)(note)
    return 0


def register(sub: Any) -> None:
    au = sub.add_parser("audit", help="审计记录").add_subparsers(dest="audit_command", required=True, parser_class=Parser)
    p = au.add_parser("verify", help="校验审计链、密钥签名和全部检查点")
    p.add_argument("--against", metavar="FILE", action="append",
                   help="另外核对该文件中的检查点（例如从工作群复制下来的检查点，可重复）")
    p.set_defaults(func=cmd_audit_verify)
    p = au.add_parser("checkpoint", help="记录审计链检查点（条数、链头哈希、时间、签名）到数据库之外的文件")
    p.add_argument("--out", metavar="FILE", help="追加写入的文件（默认：数据目录下的 audit-checkpoints.jsonl）")
    p.add_argument("--now", metavar="TIME", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_audit_checkpoint)
    p = au.add_parser("log", help="查看审计记录")
    p.add_argument("--entity", metavar="NAME")
    p.add_argument("--id", metavar="N")
    p.add_argument("--limit", type=page_size, metavar="N", help="最多列出 N 条（总数另行给出）；默认列出全部")
    p.add_argument("--offset", type=page_offset, default=0, metavar="N", help="跳过前 N 条（从最早的记录算起）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit_log)
