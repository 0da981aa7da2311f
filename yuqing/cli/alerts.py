"""`yuqing alerts run|test|log`: deadline alerts to group robots."""
from __future__ import annotations

import argparse
from typing import Any

from yuqing.cli.base import Context, Parser
from yuqing.errors import YuqingError
from yuqing.vocabulary import render


def _routes(ctx: Context) -> Any:
    from classify.units import load_units_file
    from yuqing.alerts import load_routes

    path = ctx.config.alert_routes
    if path is None:
        raise YuqingError("E_ALERTS_NO_ROUTES")
    _, units = load_units_file(ctx.config.units_file)
    return load_routes(path, unit_codes=[u.code for u in units])


def cmd_alerts_run(ctx: Context, args: argparse.Namespace) -> int:
    import time

    from yuqing.db.alerting import DailyCheckpoint, run_alerts

    routes = _routes(ctx)
    database = ctx.database()
    daily = DailyCheckpoint(ctx.config.audit_key_path, ctx.config.checkpoint_file)
    while True:
        run = run_alerts(database, routes, now=ctx.now(), clock=ctx.now, checkpoint=daily)
        ctx.print(render("CLI_ALERTS_RUN", due=run.due, sent=run.sent, failed=len(run.failed)))
        if run.checkpoint_sent:
            ctx.print(render("CLI_ALERTS_CHECKPOINT", channels="、".join(run.checkpoint_sent)))
        for key, channel, error in run.failed:
            ctx.print(f"    {key} → {channel}：{error}")
        if not args.interval:
            return 0
        ctx.out.flush()
        try:
            time.sleep(args.interval)
        except KeyboardInterrupt:
            ctx.print(render("CLI_STOPPED"))
            return 0


def cmd_alerts_test(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.alerts import build_request, deliver

    channel = _routes(ctx).channel(args.channel)
    delivery = deliver(build_request(channel, render("AL_TEST", channel=channel.name), now=ctx.now()))
    if not delivery.ok:
        raise YuqingError("E_ALERT_TEST_FAILED", detail=delivery.error or "")
    ctx.print(render("CLI_ALERT_TEST_SENT", channel=channel.name, attempts=delivery.attempts))
    return 0


def cmd_alerts_log(ctx: Context, args: argparse.Namespace) -> int:
    from timeline.clock import display_beijing, iso_beijing
    from yuqing.db.alerting import delivery_log

    rows = ctx.read(delivery_log)
    if args.json:
        ctx.json([{"key": r.key, "channel": r.channel, "kind": r.kind, "title": r.title, "status": r.status,
                   "attempts": r.attempts, "error": r.error, "last_tried_at": iso_beijing(r.last_tried_at),
                   "sent_at": iso_beijing(r.sent_at)} for r in rows])
        return 0
    for r in rows:
        state = "已送达" if r.status == "sent" else f"失败（{r.error}）"
        ctx.print(f"{display_beijing(r.last_tried_at)} {r.channel} {r.title}：{state}，尝试 {r.attempts} 次")
    return 0


def register(sub: Any) -> None:
    al = sub.add_parser("alerts", help="时限提醒（企业微信、钉钉、飞书、通用 webhook）").add_subparsers(
        dest="alerts_command", required=True, parser_class=Parser)
    p = al.add_parser("run", help="发送到期的提醒；给出 --interval 时持续运行")
    p.add_argument("--interval", type=int, metavar="S")
    p.set_defaults(func=cmd_alerts_run)
    p = al.add_parser("test", help="向一个渠道发送测试消息")
    p.add_argument("channel", metavar="CHANNEL")
    p.set_defaults(func=cmd_alerts_test)
    p = al.add_parser("log", help="提醒发送记录")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_alerts_log)
