"""`yuqing triage list|accept|merge|dismiss`: the queue of items waiting for a person."""
from __future__ import annotations

import argparse
from typing import Any

from yuqing.cli.base import Context, Parser, record_id


def cmd_triage_list(ctx: Context, args: argparse.Namespace) -> int:
    from timeline.clock import display_beijing, iso_beijing
    from yuqing.db.classifying import topic_names
    from yuqing.db.triage import pending

    items = ctx.read(pending)
    if args.json:
        ctx.json([
            {"id": i.id, "title": i.title, "link": i.link, "published_at": iso_beijing(i.published_at),
             "published_clamped": i.published_clamped,
             "fetched_at": iso_beijing(i.fetched_at), "source": i.source, "classification": i.classification,
             "unit": i.unit_code, "group": i.group}
            for i in items
        ])
        return 0
    if not items:
        ctx.print("待研判队列为空")
        return 0
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(item.group, []).append(item)
    for members in groups.values():
        head = members[0]
        c = head.classification
        topics = [topic_names().get(t, t) for t in c.get("topics") or []]
        tags = "、".join(x for x in [c.get("category"), c.get("level"), *topics] if x)
        ctx.print(f"【{'重点' if c.get('flagged') else '一般'}】{tags or '—'}  责任单位：{(c.get('unit') or {}).get('name') or head.unit_code}")
        for item in members:
            clamped = "（发布时间晚于抓取时间，已按抓取时间计）" if item.published_clamped else ""
            ctx.print(f"    #{item.id} {display_beijing(item.published_at)}{clamped} {item.source}：{item.title}")
    return 0


def cmd_triage_accept(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.triage import accept

    ctx.print(str(ctx.write(lambda w: accept(w, args.item, unit=args.unit).id)))
    return 0


def cmd_triage_merge(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.triage import merge

    count = ctx.write(merge, args.item, args.incident)
    ctx.print(f"已将 {count} 条信息（信息 {args.item} 所在的一组）并入舆情 {args.incident}")
    return 0


def cmd_triage_dismiss(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.triage import dismiss

    count = ctx.write(dismiss, args.item, reason=args.reason)
    ctx.print(f"已排除 {count} 条信息")
    return 0


def register(sub: Any) -> None:
    tr = sub.add_parser("triage", help="待研判队列").add_subparsers(dest="triage_command", required=True, parser_class=Parser)
    p = tr.add_parser("list", help="列出待研判的信息（按事件分组）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_triage_list)
    p = tr.add_parser("accept", help="立为舆情，输出舆情编号")
    p.add_argument("item", type=record_id, metavar="ITEM")
    p.add_argument("--unit", metavar="UNIT")
    p.set_defaults(func=cmd_triage_accept)
    p = tr.add_parser("merge", help="并入已有舆情")
    p.add_argument("item", type=record_id, metavar="ITEM")
    p.add_argument("incident", type=record_id, metavar="INCIDENT")
    p.set_defaults(func=cmd_triage_merge)
    p = tr.add_parser("dismiss", help="排除")
    p.add_argument("item", type=record_id, metavar="ITEM")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_triage_dismiss)
