"""`yuqing triage list|accept|merge|dismiss`: the queue of items waiting for a person."""
from __future__ import annotations

import argparse
from typing import Any

from yuqing.cli.base import Context, JsonArray, Parser, page_offset, page_size, record_id
from yuqing.vocabulary import render


def cmd_triage_list(ctx: Context, args: argparse.Namespace) -> int:
    from timeline.clock import display_beijing, to_beijing
    from yuqing.cli.base import _now
    from yuqing.cli.incidents import _page_note
    from yuqing.db.classifying import topic_names
    from yuqing.db.triage import each_queued, item_json, queue, queue_total
    from yuqing.vocabulary import render

    now = _now(ctx, args.now)
    paged = args.limit is not None or args.offset
    total = ctx.read(queue_total, state=args.state) if paged else None
    if args.json:
        # Streamed: the items are read and written a chunk at a time; every one unless --limit.
        array = JsonArray(ctx.out)
        shown = [0]

        def add(item: Any) -> None:
            array.add(item_json(item))
            shown[0] += 1

        ctx.read(each_queued, add, state=args.state, limit=args.limit, offset=args.offset, now=now)
        array.close()
        if total is not None:
            ctx.err_print(_page_note(total, args.offset, shown[0]))
        return 0
    items = ctx.read(queue, state=args.state, limit=args.limit, offset=args.offset, now=now)
    if not items:
        ctx.print(_page_note(total, args.offset, 0) if total else render(f"TRIAGE_EMPTY_{args.state}"))
        return 0
    groups: dict[str, list[Any]] = {}
    for item in items:
        groups.setdefault(item.group, []).append(item)
    for members in groups.values():
        head = members[0]
        c = head.classification
        topics = [topic_names().get(t, t) for t in c.get("topics") or []]
        tags = "、".join(x for x in [c.get("category"), c.get("level"), *topics] if x)
        unit = head.unit_code and ((c.get('unit') or {}).get('name') if (c.get('unit') or {}).get('code') == head.unit_code else head.unit_code)
        ctx.print(f"【{'重点' if c.get('flagged') else '一般'}】{tags or '—'}  责任单位：{unit or render('TRIAGE_UNIT_AT_ACCEPT')}")
        for item in members:
            clamped = "（发布时间晚于抓取时间，已按抓取时间计）" if item.published_clamped else ""
            state = render(f"TRIAGE_STATE_{item.state}")
            reason = render(f"TRIAGE_REASON_{item.reason}") if item.reason else ""
            when = (render("TRIAGE_DATE_ONLY", date=to_beijing(item.published_at).date().isoformat())
                    if item.published_date_only and item.published_at else display_beijing(item.published_at))
            ctx.print(f"    #{item.id} [{state}：{reason}] {when}{clamped} {item.source}：{item.title}")
            for similar in item.similar:
                ctx.print("        " + render("TRIAGE_SIMILAR", id=similar.id, title=similar.title, score=f"{similar.score:.2f}",
                                              item=item.id))
    if total is not None:
        ctx.print(_page_note(total, args.offset, len(items)))
    return 0


def cmd_triage_accept(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.triage import accept

    ctx.print(str(ctx.write(lambda w: accept(w, args.item, unit=args.unit).id)))
    return 0


def cmd_triage_merge(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.triage import merge

    count = ctx.write(merge, args.item, args.incident)
    ctx.print(render("CLI_TRIAGE_MERGED", count=count, item=args.item, incident=args.incident))
    return 0


def cmd_triage_dismiss(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.triage import dismiss

    count = ctx.write(dismiss, args.item, reason=args.reason)
    ctx.print(render("CLI_TRIAGE_DISMISSED", count=count))
    return 0


def register(sub: Any) -> None:
    tr = sub.add_parser("triage", help="待研判队列").add_subparsers(dest="triage_command", required=True, parser_class=Parser)
    p = tr.add_parser("list", help="列出待研判的信息（按事件分组）；--state 可看无需研判、已处理或全部信息及原因")
    p.add_argument("--state", choices=("pending", "ignored", "decided", "all"), default="pending",
                   help="pending 待研判（默认）、ignored 无需研判、decided 已处理、all 全部")
    p.add_argument("--now", metavar="T", help="判断“可能重复”的时间（默认：现在）")
    p.add_argument("--limit", type=page_size, metavar="N", help="最多列出 N 条（总数另行给出）；默认列出全部")
    p.add_argument("--offset", type=page_offset, default=0, metavar="N", help="跳过前 N 条")
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
