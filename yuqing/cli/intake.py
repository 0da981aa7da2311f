"""Getting opinion in: `feeds …`, `ingest once|run|file`, `import`."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from yuqing.cli.base import Context, Parser, UsageError, record_id
from yuqing.errors import YuqingError
from yuqing.vocabulary import render


def _feed_json(view: Any) -> dict[str, Any]:
    from timeline.clock import iso_beijing

    return {
        "id": view.id, "url": view.url, "kind": view.kind, "name": view.name,
        "unit": None if view.unit_code is None else {"code": view.unit_code, "name": view.unit_name},
        "timezone": view.timezone, "interval": view.interval_s, "enabled": view.enabled,
        "last_success_at": iso_beijing(view.last_success_at), "last_fetch_at": iso_beijing(view.last_fetch_at),
        "last_error": view.last_error, "error_count": view.error_count,
        "failing_since": iso_beijing(view.failing_since), "last_item_at": iso_beijing(view.last_item_at),
        "items_24h": view.items_24h, "next_poll_at": iso_beijing(view.next_poll_at), "stale": view.stale,
        "skipped_count": view.skipped_count, "last_skip_reason": view.last_skip_reason,
    }


def cmd_feeds_add(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.feeds import add_feed

    feed_id = ctx.write(lambda w: add_feed(w, args.url, name=args.name, unit=args.unit, timezone=args.timezone,
                                           interval_s=args.interval).id)
    ctx.print(str(feed_id))
    return 0


def cmd_feeds_list(ctx: Context, args: argparse.Namespace) -> int:
    from timeline.clock import display_beijing
    from yuqing.db.feeds import list_feeds

    views = ctx.read(list_feeds, now=ctx.now())
    if args.json:
        ctx.json([_feed_json(v) for v in views])
        return 0
    if not views:
        ctx.print(render("CLI_FEEDS_NONE"))
    for v in views:
        state = "已停用" if not v.enabled else ("故障" if v.error_count else ("停更" if v.stale else (
            "部分条目异常" if v.skipped_count else "正常")))
        ctx.print(f"#{v.id} [{state}] {v.name}  {v.url}")
        ctx.print(f"    上次成功 {display_beijing(v.last_success_at)}，24 小时新增 {v.items_24h} 条，下次抓取 {display_beijing(v.next_poll_at)}")
        if v.error_count:
            ctx.print(f"    连续失败 {v.error_count} 次：{v.last_error}")
        if v.skipped_count:
            ctx.print(f"    已跳过 {v.skipped_count} 条无法保存的条目，最近一次：{v.last_skip_reason}")
    return 0


def _feeds_toggle(ctx: Context, args: argparse.Namespace, enabled: bool) -> int:
    from yuqing.db.feeds import set_enabled

    ctx.write(set_enabled, args.id, enabled)
    ctx.print(render("CLI_FEED_ENABLED" if enabled else "CLI_FEED_DISABLED", id=args.id))
    return 0


def cmd_feeds_remove(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.feeds import remove_feed

    ctx.write(remove_feed, args.id)
    ctx.print(render("CLI_FEED_REMOVED", id=args.id))
    return 0


def _progress(ctx: Context) -> Callable[[Any], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(report: Any) -> None:
        print(f"\r已抓取 {report.feeds} 个信息源，新增 {report.stats.new} 条，重复 {report.stats.duplicate} 条",
              end="", file=sys.stderr, flush=True)

    return show


@contextmanager
def _import_progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr when it is a terminal (rich); nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from yuqing.vocabulary import render

    with Progress(TextColumn(render("CLI_IMPORT_PROGRESS")), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("import", total=None)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield show


def _report(ctx: Context, report: Any, *, as_json: bool) -> None:
    if as_json:
        ctx.json({"feeds": report.feeds, "feeds_unchanged": report.unchanged,
                  "items_new": report.stats.new, "items_duplicate": report.stats.duplicate,
                  "errors": [{"source": source, "error": error} for source, error in report.errors]})
        return
    if sys.stderr.isatty():
        print(file=sys.stderr)
    ctx.print(render("CLI_INGEST_DONE", feeds=report.feeds, new=report.stats.new, duplicate=report.stats.duplicate,
                     errors=len(report.errors)))
    for source, error in report.errors:
        ctx.print(f"    {source}：{error}")
    if report.stats.skipped:
        ctx.print(render("CLI_INGEST_SKIPPED", count=report.stats.skipped, reason=report.stats.last_skip_reason or ""))


def _check_died(report: Any) -> None:
    if getattr(report, "died", 0):
        raise YuqingError("E_WORKER_DIED", count=report.died)


def _poller(ctx: Context) -> Any:
    """The root office's operator polls every office's feeds (as `--workers N` does); an office
    under it, its own."""
    from yuqing.db.offices import root_office_id
    from yuqing.worker import Poller

    database = ctx.database()
    if database.office_id is not None and database.office_id == database.read(root_office_id):
        database = database.for_office(None)
    return Poller(database, preset=ctx.config.preset)


def _check_workers(ctx: Context, workers: int) -> None:
    if workers < 1:
        raise UsageError("yuqing ingest: --workers 至少为 1")
    if workers > 1 and ctx.database().engine.dialect.name != "postgresql":
        raise YuqingError("E_SQLITE_ONE_WORKER")


def cmd_ingest_once(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.worker import run_workers

    _check_workers(ctx, args.workers)
    if args.workers > 1:
        report = run_workers(ctx.config.database_url, ctx.config.preset, args.workers)
    else:
        report = _poller(ctx).poll_due(progress=_progress(ctx))
    _report(ctx, report, as_json=args.json)
    _check_died(report)
    return 0


def cmd_ingest_run(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.worker import run_workers, sleep_until_next

    _check_workers(ctx, args.workers)
    if args.interval < 5:
        raise UsageError("yuqing ingest run: --interval 至少 5 秒")
    ctx.print(render("CLI_INGEST_LOOP", seconds=args.interval))
    poller = _poller(ctx)
    try:
        while True:
            if args.workers > 1:
                report = run_workers(ctx.config.database_url, ctx.config.preset, args.workers)
            else:
                report = poller.poll_due(progress=_progress(ctx))
            if report.feeds:
                _report(ctx, report, as_json=False)
            ctx.out.flush()
            sleep_until_next(args.interval)
    except KeyboardInterrupt:
        ctx.print(render("CLI_INGEST_STOPPED"))
    return 0


def cmd_ingest_file(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.feeds import file_feed
    from yuqing.worker import PollReport

    report = PollReport()
    feed_ids: list[int] = []
    for path_text in args.paths:
        path = Path(path_text).expanduser()
        if not path.is_file():
            report.errors.append((path_text, YuqingError("E_FILE_READ", path=path_text, detail="文件不存在").message))
            continue
        url = path.resolve().as_uri()
        feed_ids.append(ctx.write(file_feed, url, name=path.name))
    report.merge(_poller(ctx).poll_feeds(feed_ids))
    _report(ctx, report, as_json=args.json)
    return 0


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    from ingest.importer import load_mapping
    from yuqing.db.imports import import_table

    load_mapping(args.mapping)  # an unknown mapping is refused before anything is read
    path = Path(args.file).expanduser()
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise YuqingError("E_IMPORT_FORMAT", path=args.file)
    if not path.is_file():
        raise YuqingError("E_FILE_READ", path=args.file, detail="文件不存在")
    poller = _poller(ctx)
    with _import_progress() as progress:
        report = import_table(ctx.write, path, args.mapping or "generic", poller=poller, shown_name=str(path),
                              limits=ctx.config.import_limits, progress=progress)
    errors = [{"row": row, "error": error} for row, error in zip(report.error_rows, report.errors)]
    if args.json:
        ctx.json({"rows": report.rows, "items_new": report.new, "items_duplicate": report.duplicate, "errors": errors})
        return 0
    ctx.print(render("CLI_IMPORT_DONE", rows=report.rows, new=report.new, duplicate=report.duplicate, errors=len(errors)))
    for error in errors:
        ctx.print(f"    {error['error']}")
    return 0


def register(sub: Any) -> None:
    fd = sub.add_parser("feeds", help="信息源（RSS/Atom）").add_subparsers(dest="feeds_command", required=True, parser_class=Parser)
    p = fd.add_parser("add", help="登记信息源，输出编号")
    p.add_argument("url", metavar="URL")
    p.add_argument("--name")
    p.add_argument("--unit", metavar="UNIT", help="该信息源默认对应的责任单位")
    p.add_argument("--timezone", default="Asia/Shanghai", metavar="TZ", help="不带时区的时间按此时区理解")
    p.add_argument("--interval", type=int, default=600, metavar="S", help="抓取间隔（秒）")
    p.set_defaults(func=cmd_feeds_add)
    p = fd.add_parser("list", help="信息源及其健康状况")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_feeds_list)
    for name, func in (("disable", lambda c, a: _feeds_toggle(c, a, False)), ("enable", lambda c, a: _feeds_toggle(c, a, True)),
                       ("remove", cmd_feeds_remove)):
        p = fd.add_parser(name, help={"disable": "停用", "enable": "启用", "remove": "删除"}[name])
        p.add_argument("id", type=record_id, metavar="ID")
        p.set_defaults(func=func)

    ig = sub.add_parser("ingest", help="抓取信息源").add_subparsers(dest="ingest_command", required=True, parser_class=Parser)
    p = ig.add_parser("once", help="抓取所有到期的信息源一次")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="并行进程数（仅 PostgreSQL）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ingest_once)
    p = ig.add_parser("run", help="持续抓取")
    p.add_argument("--interval", type=int, default=60, metavar="S")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="并行进程数（仅 PostgreSQL）")
    p.set_defaults(func=cmd_ingest_run)
    p = ig.add_parser("file", help="抓取本地订阅文件（首次自动登记为信息源）")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ingest_file)

    p = sub.add_parser("import", help="导入表格（舆情监测服务导出、12345 热线、留言板）")
    p.add_argument("file", metavar="FILE.xlsx|FILE.csv")
    p.add_argument("--mapping", metavar="NAME|FILE", help="列映射：generic（默认）、hotline-12345 或映射文件路径")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)
