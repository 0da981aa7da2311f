"""`yuqing init` and `yuqing serve`: the database and the dashboard."""
from __future__ import annotations

import argparse
from typing import Any

from yuqing.cli.base import Context


def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    from classify.units import load_units_file
    from yuqing.db import migrate
    from yuqing.db.models import Meta
    from yuqing.db.queries import count_incidents

    database = ctx.database(require_schema=False)
    database.check_reachable()
    migrate.upgrade(database.engine)
    version, refs = load_units_file(ctx.config.units_file)
    with database.session() as session:
        added, updated = ctx.writer(session).sync_units(refs)
    from yuqing.db.session import describe_url

    ctx.print(f"数据库已就绪（{describe_url(database.url).split('?')[0]}），单位名单 {version}：新增 {added} 个，更新 {updated} 个")
    if args.demo:
        from yuqing.db.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo, load_demo_accounts

        with database.session() as session:
            if session.get(Meta, "demo_loaded") is not None:
                ctx.print("演示数据已存在，未重复添加")
                return 0
            if count_incidents(session) > 0:
                ctx.print("数据库中已有舆情记录，未添加演示数据")
                return 0
            writer = ctx.writer(session)
            ids = load_demo(writer)
            load_demo_accounts(writer)
            session.add(Meta(key="demo_loaded", value=ctx.now().isoformat()))
        from yuqing.db.demo import write_demo_feed
        from yuqing.db.feeds import add_feed
        from yuqing.worker import Poller

        feed_path = ctx.config.data_dir / "demo" / "demo-feed.xml"
        write_demo_feed(feed_path, ctx.now())
        with database.session() as session:
            feed_id = add_feed(ctx.writer(session), str(feed_path), name="三门峡本地资讯（演示）", interval_s=3600).id
        report = Poller(database, preset=ctx.config.preset).poll_feeds([feed_id])
        ctx.print(f"已添加演示数据：{len(ids)} 条舆情，演示信息源 1 个（{report.stats.new} 条信息）")
        accounts = "；".join(f"{name}（{what}）" for name, _, _, what in DEMO_ACCOUNTS)
        ctx.print(f"演示账号：{accounts}，密码均为 {DEMO_PASSWORD}（仅供试用，正式使用前请停用）")
    return 0


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.server import serve

    ctx.database()  # refuse early, with a sentence, when the database is not there
    workers = "" if args.no_workers else "（同时运行信息源抓取" + ("和时限提醒" if ctx.config.alert_routes else "") + "）"
    ctx.print(f"看板地址：http://{args.address}:{args.port}{workers}")
    ctx.out.flush()
    return serve(ctx.config, host=args.address, port=args.port, with_workers=not args.no_workers)


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="创建或升级数据库，载入单位名单")
    p.add_argument("--demo", action="store_true", help="首次运行时添加演示数据")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("serve", help="启动看板")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--no-workers", action="store_true", help="不在本进程中运行信息源抓取和时限提醒（多副本时只在一处运行）")
    p.set_defaults(func=cmd_serve)
