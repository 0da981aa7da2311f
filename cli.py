"""The `yuqing` command: parse arguments → one call into the packages → print. Errors → one line, exit 1."""
from __future__ import annotations

import argparse
import getpass
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

from errors import YuqingError


def _argparse_in_chinese() -> None:
    # argparse looks its sentences up through the module-level gettext `_` at call time.
    from messages import ARGPARSE

    argparse._ = lambda message: ARGPARSE.get(message, message)  # type: ignore[attr-defined]


_argparse_in_chinese()


class UsageError(Exception):
    """Wrong usage: argparse's exit 2, raised instead of exiting so tests can see it."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


@dataclass
class Context:
    db_url: str | None
    actor_name: str | None
    out: TextIO
    _config: Any = None
    _database: Any = None
    _actor: Any = None
    now_override: datetime | None = field(default=None)

    @property
    def config(self) -> Any:
        if self._config is None:
            from settings import load_config

            self._config = load_config(database_url=self.db_url)
        return self._config

    def database(self, *, require_schema: bool = True) -> Any:
        if self._database is None:
            from db.session import Database

            self._database = Database(self.config.database_url)
            if require_schema:
                self._database.require_current_schema()
                if self.actor_name:
                    # `--as` is checked for every command, reads included.
                    with self._database.session() as session:
                        self.actor(session)
        return self._database

    def actor(self, session: Any) -> Any:
        """`--as NAME` names an account (refused if unknown or disabled); without it the local
        operator acts as admin, recorded under the operating-system user."""
        from db.accounts import actor_for
        from db.service import Actor

        if self._actor is None:
            self._actor = actor_for(session, self.actor_name) if self.actor_name else Actor(_os_user(), "admin")
        return self._actor

    def now(self) -> datetime:
        return self.now_override or datetime.now(timezone.utc)

    def writer(self, session: Any, *, classify: bool = False) -> Any:
        from db.service import Writer

        suggest = None
        if classify:
            from db.classifying import classifier_for, suggester
            from db.service import unit_refs

            suggest = suggester(classifier_for(unit_refs(session)), self.config.preset)
        return Writer(
            session,
            self.actor(session),
            now=self.now(),
            preset=self.config.preset,
            evidence_dir=self.config.evidence_dir,
            classify=suggest,
        )

    def write(self, operation: Callable[..., Any], *args: Any, classify: bool = False, **kwargs: Any) -> Any:
        """Run one write-service operation in its own transaction; its result is returned after the
        commit, so nothing is printed for a write that did not land."""
        with self.database().session() as session:
            return operation(self.writer(session, classify=classify), *args, **kwargs)

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def json(self, value: Any, *, indent: int | None = 2) -> None:
        print(json.dumps(value, ensure_ascii=False, indent=indent), file=self.out)

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "unknown"


MAX_ID = 2**63 - 1


def record_id(text: str) -> int:
    """argparse type for record ids: a whole number the databases can hold (else exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效的编号：{text}") from None
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"编号超出范围：{text}")
    return value


def year(text: str) -> int:
    """argparse type for assessment years (2000–2100)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效的年份：{text}") from None
    if not 2000 <= value <= 2100:
        raise argparse.ArgumentTypeError(f"年份必须在 2000 到 2100 之间：{text}")
    return value


def _time(text: str | None) -> datetime | None:
    from timeline.clock import parse_user_time

    return None if text is None else parse_user_time(text)


def _day(text: str | None, *, end: bool = False) -> datetime | None:
    """A day-valued option (a record's date, a due date): a bare date means its start, or its end."""
    from timeline.clock import parse_user_time

    return None if text is None else parse_user_time(text, date_only="23:59:59" if end else "00:00:00")


def _now(ctx: Context, text: str | None) -> datetime:
    return _time(text) or ctx.now()


# --- commands --------------------------------------------------------------------------------------
def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    from classify.units import load_units_file
    from db import migrate
    from db.models import Meta
    from db.queries import count_incidents

    database = ctx.database(require_schema=False)
    database.check_reachable()
    migrate.upgrade(database.engine)
    version, refs = load_units_file(ctx.config.units_file)
    with database.session() as session:
        added, updated = ctx.writer(session).sync_units(refs)
    from db.session import describe_url

    ctx.print(f"数据库已就绪（{describe_url(database.url).split('?')[0]}），单位名单 {version}：新增 {added} 个，更新 {updated} 个")
    if args.demo:
        from db.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo, load_demo_accounts

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
        from db.demo import write_demo_feed
        from ingest.feeds import add_feed
        from ingest.runner import Poller

        feed_path = ctx.config.data_dir / "demo" / "demo-feed.xml"
        write_demo_feed(feed_path, ctx.now())
        with database.session() as session:
            feed_id = add_feed(ctx.writer(session), str(feed_path), name="三门峡本地资讯（演示）", interval_s=3600).id
        report = Poller(database, preset=ctx.config.preset).poll_feeds([feed_id])
        ctx.print(f"已添加演示数据：{len(ids)} 条舆情，演示信息源 1 个（{report.stats.new} 条信息）")
        accounts = "；".join(f"{name}（{what}）" for name, _, _, what in DEMO_ACCOUNTS)
        ctx.print(f"演示账号：{accounts}，密码均为 {DEMO_PASSWORD}（仅供试用，正式使用前请停用）")
    return 0


def cmd_classify(ctx: Context, args: argparse.Namespace) -> int:
    from classify import classify_json, run_jsonl
    from classify.units import load_units_file
    from db.classifying import classifier_for
    from timeline.presets import load_preset

    # Works without a database: the unit registry file is the same data `yuqing init` loads.
    _, units = load_units_file(ctx.config.units_file)
    classifier = classifier_for(units)
    preset = load_preset(ctx.config.preset)
    write = lambda obj: print(json.dumps(obj, ensure_ascii=False), file=ctx.out)  # noqa: E731
    if args.jsonl:
        if args.texts:
            raise UsageError("yuqing classify: --jsonl 从标准输入读取，不能同时给出 TEXT")
        run_jsonl(sys.stdin, write, classifier, preset.is_flagged)
        return 0
    if not args.texts:
        raise UsageError("yuqing classify: 请给出要分类的文本，或使用 --jsonl")
    for number, text in enumerate(args.texts, start=1):
        result = classifier.classify(text)
        write(classify_json(result, str(number), preset.is_flagged(result.level, result.sudden)))
    return 0


def cmd_units_list(ctx: Context, args: argparse.Namespace) -> int:
    from db.queries import list_units

    with ctx.database().session() as session:
        units = list_units(session, include_inactive=args.all)
    if args.json:
        ctx.json([{"code": u.code, "name": u.name, "kind": u.kind, "aliases": list(u.aliases)} for u in units])
        return 0
    kinds = {"department": "市直部门", "county": "县（市、区）"}
    for u in units:
        extra = "" if u.active else "（已撤并）"
        ctx.print(f"{u.code:<10} {kinds[u.kind]:<8} {u.name}{extra}  {'、'.join(u.aliases)}")
    return 0


def cmd_incident_add(ctx: Context, args: argparse.Namespace) -> int:
    from db.service import NewIncident

    new = NewIncident(
        title=args.title,
        unit=args.unit,
        co_units=tuple(args.co_unit or ()),
        parent_id=args.parent,
        summary=args.summary,
        first_post_at=_time(args.first_post_at),
        detected_at=_time(args.detected_at),
        level=args.level,
        sudden=args.sudden,
        category=args.category,
        source_url=args.source_url,
        classify=not args.no_classify,
    )
    incident_id = ctx.write(lambda w: w.add_incident(new).id, classify=new.classify)
    ctx.print(str(incident_id))
    return 0


def cmd_incident_act(ctx: Context, args: argparse.Namespace) -> int:
    from db.service import NewAction

    new = NewAction(
        kind=args.kind,
        at=_time(args.at),  # type: ignore[arg-type]
        channels=tuple(args.channel or ()),
        by_principal=args.by_principal,
        evidence_url=args.evidence,
        evidence_file=Path(args.evidence_file) if args.evidence_file else None,
        note=args.note,
        reason=args.reason,
    )
    ctx.print(str(ctx.write(lambda w: w.record_action(args.id, new).id)))
    return 0


def cmd_incident_reclassify(ctx: Context, args: argparse.Namespace) -> int:
    ctx.write(lambda w: w.reclassify(args.id, reason=args.reason, level=args.level, sudden=args.sudden,
                                     category=args.category))
    ctx.print(f"已调整舆情 {args.id} 的分级")
    return 0


def cmd_incident_transfer(ctx: Context, args: argparse.Namespace) -> int:
    name = ctx.write(lambda w: w.transfer(args.id, unit=args.unit, reason=args.reason).to_unit.name)
    ctx.print(f"舆情 {args.id} 已转办至{name}，时限继续计算")
    return 0


def cmd_incident_void(ctx: Context, args: argparse.Namespace) -> int:
    ctx.write(lambda w: w.void(args.id, reason=args.reason))
    ctx.print(f"舆情 {args.id} 已作废，不再计入考核")
    return 0


def cmd_incident_close(ctx: Context, args: argparse.Namespace) -> int:
    at = _time(args.at)
    ctx.write(lambda w: w.close(args.id, at=at))
    ctx.print(f"舆情 {args.id} 已办结")
    return 0


def cmd_incident_show(ctx: Context, args: argparse.Namespace) -> int:
    from db.queries import get_incident, incident_json

    now = _now(ctx, args.now)
    with ctx.database().session() as session:
        view = get_incident(session, args.id)
    if view is None:
        raise YuqingError("E_INCIDENT_MISSING", id=args.id)
    ctx.json(incident_json(view, now))
    return 0


def cmd_incident_list(ctx: Context, args: argparse.Namespace) -> int:
    from classify.units import UnitResolver
    from db.queries import incident_json, list_incidents
    from db.service import unit_refs
    from timeline.clock import display_beijing, format_duration
    from timeline.model import STATE_NAMES, WINDOW_NAMES

    now = _now(ctx, args.now)
    with ctx.database().session() as session:
        unit_code = UnitResolver(unit_refs(session)).resolve(args.unit).code if args.unit else None
        views = list_incidents(session, open_only=args.open, unit_code=unit_code)
    if args.json:
        ctx.json([incident_json(v, now, with_actions=False) for v in views])
        return 0
    if not views:
        ctx.print("没有符合条件的舆情")
        return 0
    status_names = {"open": "处置中", "closed": "已办结", "voided": "已作废"}
    for view in views:
        verdict = view.verdict(now)
        ctx.print(f"#{view.id} [{status_names[view.status]}] {view.title}  —— {view.unit.name}，开始 {display_beijing(view.started_at)}")
        for w in verdict.windows:
            if not w.applicable:
                continue
            if w.state == "open":
                tail = f"剩余 {format_duration(w.remaining_seconds or 0)}" + ("（临近时限）" if w.at_risk else "")
            elif w.state == "overdue":
                tail = f"超出 {format_duration(w.overdue_seconds or 0)}"
            else:
                tail = f"完成于 {display_beijing(w.satisfied_at)}"
            if w.past_due_at_reclassification:
                tail += "（调整分级时已过时限）"
            ctx.print(f"    {WINDOW_NAMES[w.key]}（{w.hours} 小时，{display_beijing(w.due_at)} 前）：{STATE_NAMES[w.state]}，{tail}")
    return 0


def cmd_timeline_check(ctx: Context, args: argparse.Namespace) -> int:
    from timeline.check import check_document

    if args.file == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise YuqingError("E_FILE_READ", path=args.file, detail=getattr(exc, "strerror", None) or str(exc)) from exc
    preset = args.preset
    if preset is None:
        preset = ctx.config.preset
    ctx.json(check_document(text, preset=preset, now=_now(ctx, args.now)))
    return 0


def cmd_audit_verify(ctx: Context, args: argparse.Namespace) -> int:
    from db import audit

    with ctx.database().session() as session:
        report = audit.verify(session)
    if not report.ok:
        raise YuqingError("E_AUDIT_BROKEN", id=report.broken_id, problem=report.problem)
    ctx.print(f"审计链完整：共 {report.count} 条记录")
    ctx.print(f"链头哈希：{report.head}")
    return 0


def cmd_audit_log(ctx: Context, args: argparse.Namespace) -> int:
    from db.queries import audit_log
    from timeline.clock import display_beijing, iso_beijing

    with ctx.database().session() as session:
        rows = audit_log(session, entity=args.entity, entity_id=args.id)
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


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    import importlib.util

    spec = importlib.util.find_spec("dashboard")
    if spec is None or spec.origin is None:
        raise YuqingError("E_FILE_READ", path="dashboard.py", detail="找不到看板程序")
    ctx.database()  # refuse early, with a sentence, when the database is not there
    env = dict(os.environ)
    if ctx.db_url:
        env["YUQING_DATABASE_URL"] = ctx.config.database_url
    command = [
        sys.executable, "-m", "streamlit", "run", spec.origin,
        "--server.port", str(args.port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "type",
        "--server.maxUploadSize", "50",
        "--server.address", args.address,
    ]
    ctx.print(f"看板地址：http://{args.address}:{args.port}")
    ctx.out.flush()
    return subprocess.call(command, env=env)


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
    from db.accounts import add_user

    password = _read_password(args)
    user = ctx.write(add_user, args.name, role=args.role, unit=args.unit, password=password)
    ctx.print(f"已创建账号 {user.name}（{args.role}{'，' + user.unit_name if user.unit_name else ''}）")
    return 0


def cmd_users_passwd(ctx: Context, args: argparse.Namespace) -> int:
    from db.accounts import set_password

    password = _read_password(args)
    ctx.write(set_password, args.name, password)
    ctx.print(f"账号 {args.name} 的密码已修改")
    return 0


def cmd_users_disable(ctx: Context, args: argparse.Namespace) -> int:
    from db.accounts import disable_user

    ctx.write(disable_user, args.name)
    ctx.print(f"账号 {args.name} 已停用")
    return 0


def cmd_users_list(ctx: Context, args: argparse.Namespace) -> int:
    from db.accounts import ROLE_NAMES, list_users
    from timeline.clock import display_beijing, iso_beijing

    with ctx.database().session() as session:
        users = list_users(session)
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
    from db.backup import backup

    database = ctx.database(require_schema=False)
    count = backup(database, Path(args.out))
    ctx.print(f"已备份到 {args.out}（{count} 页）")
    ctx.print(f"证据文件不在数据库中：请同时备份 {ctx.config.evidence_dir}")
    return 0


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
    }


def cmd_feeds_add(ctx: Context, args: argparse.Namespace) -> int:
    from ingest.feeds import add_feed

    feed_id = ctx.write(lambda w: add_feed(w, args.url, name=args.name, unit=args.unit, timezone=args.timezone,
                                           interval_s=args.interval).id)
    ctx.print(str(feed_id))
    return 0


def cmd_feeds_list(ctx: Context, args: argparse.Namespace) -> int:
    from ingest.feeds import list_feeds
    from timeline.clock import display_beijing

    with ctx.database().session() as session:
        views = list_feeds(session, now=ctx.now())
    if args.json:
        ctx.json([_feed_json(v) for v in views])
        return 0
    if not views:
        ctx.print("还没有信息源，用 yuqing feeds add URL 添加")
    for v in views:
        state = "已停用" if not v.enabled else ("故障" if v.error_count else ("停更" if v.stale else "正常"))
        ctx.print(f"#{v.id} [{state}] {v.name}  {v.url}")
        ctx.print(f"    上次成功 {display_beijing(v.last_success_at)}，24 小时新增 {v.items_24h} 条，下次抓取 {display_beijing(v.next_poll_at)}")
        if v.error_count:
            ctx.print(f"    连续失败 {v.error_count} 次：{v.last_error}")
    return 0


def _feeds_toggle(ctx: Context, args: argparse.Namespace, enabled: bool) -> int:
    from ingest.feeds import set_enabled

    ctx.write(set_enabled, args.id, enabled)
    ctx.print(f"信息源 {args.id} 已{'启用' if enabled else '停用'}")
    return 0


def cmd_feeds_remove(ctx: Context, args: argparse.Namespace) -> int:
    from ingest.feeds import remove_feed

    ctx.write(remove_feed, args.id)
    ctx.print(f"信息源 {args.id} 已删除（已收录的信息保留）")
    return 0


def _progress(ctx: Context) -> Callable[[Any], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(report: Any) -> None:
        print(f"\r已抓取 {report.feeds} 个信息源，新增 {report.stats.new} 条，重复 {report.stats.duplicate} 条",
              end="", file=sys.stderr, flush=True)

    return show


def _report(ctx: Context, report: Any, *, as_json: bool) -> None:
    if as_json:
        ctx.json({"feeds": report.feeds, "items_new": report.stats.new, "items_duplicate": report.stats.duplicate,
                  "errors": [{"source": source, "error": error} for source, error in report.errors]})
        return
    if sys.stderr.isatty():
        print(file=sys.stderr)
    ctx.print(f"已抓取 {report.feeds} 个信息源：新增 {report.stats.new} 条，重复 {report.stats.duplicate} 条，出错 {len(report.errors)} 个")
    for source, error in report.errors:
        ctx.print(f"    {source}：{error}")


def _poller(ctx: Context) -> Any:
    from ingest.runner import Poller

    return Poller(ctx.database(), preset=ctx.config.preset)


def _check_workers(ctx: Context, workers: int) -> None:
    if workers < 1:
        raise UsageError("yuqing ingest: --workers 至少为 1")
    if workers > 1 and ctx.database().engine.dialect.name != "postgresql":
        raise YuqingError("E_SQLITE_ONE_WORKER")


def cmd_ingest_once(ctx: Context, args: argparse.Namespace) -> int:
    from ingest.runner import run_workers

    _check_workers(ctx, args.workers)
    if args.workers > 1:
        report = run_workers(ctx.config.database_url, ctx.config.preset, args.workers)
    else:
        report = _poller(ctx).poll_due(progress=_progress(ctx))
    _report(ctx, report, as_json=args.json)
    return 0


def cmd_ingest_run(ctx: Context, args: argparse.Namespace) -> int:
    from ingest.runner import run_workers, sleep_until_next

    _check_workers(ctx, args.workers)
    if args.interval < 5:
        raise UsageError("yuqing ingest run: --interval 至少 5 秒")
    ctx.print(f"开始持续抓取：每 {args.interval} 秒检查一次到期的信息源（Ctrl-C 停止）")
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
        ctx.print("已停止抓取")
    return 0


def cmd_ingest_file(ctx: Context, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from db.models import Feed
    from ingest.feeds import add_feed
    from ingest.runner import PollReport

    report = PollReport()
    feed_ids: list[int] = []
    for path_text in args.paths:
        path = Path(path_text).expanduser()
        if not path.is_file():
            report.errors.append((path_text, YuqingError("E_FILE_READ", path=path_text, detail="文件不存在").message))
            continue
        url = path.resolve().as_uri()
        with ctx.database().session() as session:
            feed = session.scalar(select(Feed).where(Feed.url == url))
            if feed is None:
                feed = add_feed(ctx.writer(session), url, name=path.name)
            feed_ids.append(feed.id)
    report.merge(_poller(ctx).poll_feeds(feed_ids))
    _report(ctx, report, as_json=args.json)
    return 0


def cmd_import(ctx: Context, args: argparse.Namespace) -> int:
    from ingest.importer import load_mapping
    from ingest.importing import import_table

    load_mapping(args.mapping)  # an unknown mapping is refused before anything is read
    path = Path(args.file).expanduser()
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise YuqingError("E_IMPORT_FORMAT", path=args.file)
    if not path.is_file():
        raise YuqingError("E_FILE_READ", path=args.file, detail="文件不存在")
    poller = _poller(ctx)
    report = ctx.write(import_table, path, args.mapping or "generic", poller=poller, shown_name=str(path))
    errors = [{"row": row, "error": error} for row, error in zip(report.error_rows, report.errors)]
    if args.json:
        ctx.json({"rows": report.rows, "items_new": report.new, "items_duplicate": report.duplicate, "errors": errors})
        return 0
    ctx.print(f"已读取 {report.rows} 行：新增 {report.new} 条，重复 {report.duplicate} 条，无法读取 {len(errors)} 行")
    for error in errors:
        ctx.print(f"    {error['error']}")
    return 0


def cmd_triage_list(ctx: Context, args: argparse.Namespace) -> int:
    from db.classifying import topic_names
    from ingest.queue import pending
    from timeline.clock import display_beijing, iso_beijing

    with ctx.database().session() as session:
        items = pending(session)
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
    from ingest.queue import accept

    ctx.print(str(ctx.write(lambda w: accept(w, args.item, unit=args.unit).id)))
    return 0


def cmd_triage_merge(ctx: Context, args: argparse.Namespace) -> int:
    from ingest.queue import merge

    count = ctx.write(merge, args.item, args.incident)
    ctx.print(f"已将 {count} 条信息（信息 {args.item} 所在的一组）并入舆情 {args.incident}")
    return 0


def cmd_triage_dismiss(ctx: Context, args: argparse.Namespace) -> int:
    from ingest.queue import dismiss

    count = ctx.write(dismiss, args.item, reason=args.reason)
    ctx.print(f"已排除 {count} 条信息")
    return 0


def _routes(ctx: Context) -> Any:
    from alerts import load_routes
    from classify.units import load_units_file

    path = ctx.config.alert_routes
    if path is None:
        raise YuqingError("E_ALERTS_NO_ROUTES")
    _, units = load_units_file(ctx.config.units_file)
    return load_routes(path, unit_codes=[u.code for u in units])


def cmd_alerts_run(ctx: Context, args: argparse.Namespace) -> int:
    import time

    from db.alerting import run_alerts

    routes = _routes(ctx)
    database = ctx.database()
    while True:
        run = run_alerts(database, routes, now=ctx.now(), clock=ctx.now)
        ctx.print(f"待发送提醒 {run.due} 条，已发送 {run.sent} 条，失败 {len(run.failed)} 条")
        for key, channel, error in run.failed:
            ctx.print(f"    {key} → {channel}：{error}")
        if not args.interval:
            return 0
        ctx.out.flush()
        try:
            time.sleep(args.interval)
        except KeyboardInterrupt:
            ctx.print("已停止")
            return 0


def cmd_alerts_test(ctx: Context, args: argparse.Namespace) -> int:
    from alerts import build_request, deliver
    from messages import render

    channel = _routes(ctx).channel(args.channel)
    delivery = deliver(build_request(channel, render("AL_TEST", channel=channel.name), now=ctx.now()))
    if not delivery.ok:
        raise YuqingError("E_ALERT_TEST_FAILED", detail=delivery.error or "")
    ctx.print(f"测试消息已发送到“{channel.name}”（尝试 {delivery.attempts} 次）")
    return 0


def cmd_alerts_log(ctx: Context, args: argparse.Namespace) -> int:
    from db.alerting import delivery_log
    from timeline.clock import display_beijing, iso_beijing

    with ctx.database().session() as session:
        rows = delivery_log(session)
    if args.json:
        ctx.json([{"key": r.key, "channel": r.channel, "kind": r.kind, "title": r.title, "status": r.status,
                   "attempts": r.attempts, "error": r.error, "last_tried_at": iso_beijing(r.last_tried_at),
                   "sent_at": iso_beijing(r.sent_at)} for r in rows])
        return 0
    for r in rows:
        state = "已送达" if r.status == "sent" else f"失败（{r.error}）"
        ctx.print(f"{display_beijing(r.last_tried_at)} {r.channel} {r.title}：{state}，尝试 {r.attempts} 次")
    return 0


# --- parser --------------------------------------------------------------------------------------
def _sudden_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sudden", dest="sudden", action="store_const", const=True, default=None, help="突发事件")
    group.add_argument("--not-sudden", dest="sudden", action="store_const", const=False, help="非突发事件")


def build_parser() -> Parser:
    parser = Parser(prog="yuqing", description="政务舆情回应时效追踪")
    parser.add_argument("--db", metavar="URL", help="数据库地址（覆盖 YUQING_DATABASE_URL）")
    parser.add_argument("--as", dest="actor", metavar="NAME", help="以该用户身份操作（记入审计）")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("init", help="创建或升级数据库，载入单位名单")
    p.add_argument("--demo", action="store_true", help="首次运行时添加演示数据")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("classify", help="判断文本是否为突发/重大事件、类别、级别、责任单位")
    p.add_argument("texts", nargs="*", metavar="TEXT")
    p.add_argument("--jsonl", action="store_true", help="从标准输入逐行读取 {\"id\", \"title\", \"text\"}")
    p.set_defaults(func=cmd_classify)

    units = sub.add_parser("units", help="单位名单").add_subparsers(dest="units_command", required=True, parser_class=Parser)
    p = units.add_parser("list", help="列出单位")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="包括已撤并的单位")
    p.set_defaults(func=cmd_units_list)

    inc = sub.add_parser("incident", help="舆情登记与处置").add_subparsers(
        dest="incident_command", required=True, parser_class=Parser
    )
    p = inc.add_parser("add", help="登记舆情，输出新舆情编号")
    p.add_argument("--title", required=True)
    p.add_argument("--unit", required=True, help="牵头单位：代码、全称、简称或旧称")
    p.add_argument("--co-unit", action="append", metavar="UNIT", help="协办单位，可多次给出")
    p.add_argument("--parent", type=record_id, metavar="ID", help="次生舆情的上级舆情编号")
    p.add_argument("--summary")
    p.add_argument("--first-post-at", metavar="T", help="网上首发时间")
    p.add_argument("--detected-at", metavar="T", help="发现或接报时间（默认：现在）")
    p.add_argument("--level", metavar="L", help="特别重大|重大|较大|一般 或 I|II|III|IV")
    _sudden_flags(p)
    p.add_argument("--category", metavar="C", help="自然灾害|事故灾难|公共卫生事件|社会安全事件")
    p.add_argument("--source-url", metavar="URL")
    p.add_argument("--no-classify", action="store_true", help="不使用自动分类补全级别、突发属性和类别")
    p.set_defaults(func=cmd_incident_add)

    p = inc.add_parser("act", help="登记回应、发布、发布会或后续发布")
    p.add_argument("id", type=record_id)
    p.add_argument("--kind", required=True, help="response|release|press_conference|follow_up")
    p.add_argument("--at", required=True, metavar="T")
    p.add_argument("--channel", action="append", metavar="CODE")
    p.add_argument("--by-principal", action="store_true", help="由主要负责人作出")
    p.add_argument("--evidence", metavar="URL")
    p.add_argument("--evidence-file", metavar="PATH")
    p.add_argument("--note")
    p.add_argument("--reason", help="补录 48 小时以前的处置时必须说明")
    p.set_defaults(func=cmd_incident_act)

    p = inc.add_parser("reclassify", help="调整级别、突发属性或类别")
    p.add_argument("id", type=record_id)
    p.add_argument("--level", metavar="L")
    _sudden_flags(p)
    p.add_argument("--category", metavar="C")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_incident_reclassify)

    p = inc.add_parser("transfer", help="转办给其他单位（时限继续计算）")
    p.add_argument("id", type=record_id)
    p.add_argument("--unit", required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_incident_transfer)

    p = inc.add_parser("void", help="作废（误报、不属于政务舆情、重复）")
    p.add_argument("id", type=record_id)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_incident_void)

    p = inc.add_parser("close", help="办结")
    p.add_argument("id", type=record_id)
    p.add_argument("--at", metavar="T")
    p.set_defaults(func=cmd_incident_close)

    p = inc.add_parser("show", help="查看一条舆情及其时限")
    p.add_argument("id", type=record_id)
    p.add_argument("--json", action="store_true", required=True)
    p.add_argument("--now", metavar="T")
    p.set_defaults(func=cmd_incident_show)

    p = inc.add_parser("list", help="列出舆情及其时限")
    p.add_argument("--open", action="store_true", help="只列处置中的舆情")
    p.add_argument("--unit", metavar="UNIT")
    p.add_argument("--json", action="store_true")
    p.add_argument("--now", metavar="T")
    p.set_defaults(func=cmd_incident_list)

    tl = sub.add_parser("timeline", help="时限判定").add_subparsers(dest="timeline_command", required=True, parser_class=Parser)
    p = tl.add_parser("check", help="按规则判定一份 JSON 描述的舆情时限")
    p.add_argument("file", metavar="FILE|-")
    p.add_argument("--now", metavar="T")
    p.add_argument("--preset", metavar="NAME")
    p.set_defaults(func=cmd_timeline_check)

    au = sub.add_parser("audit", help="审计记录").add_subparsers(dest="audit_command", required=True, parser_class=Parser)
    p = au.add_parser("verify", help="校验审计链")
    p.set_defaults(func=cmd_audit_verify)
    p = au.add_parser("log", help="查看审计记录")
    p.add_argument("--entity", metavar="NAME")
    p.add_argument("--id", metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit_log)

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

    us = sub.add_parser("users", help="账号管理").add_subparsers(dest="users_command", required=True, parser_class=Parser)
    p = us.add_parser("add", help="新建账号")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=["admin", "staff", "viewer"])
    p.add_argument("--unit", metavar="UNIT", help="staff 账号所属单位")
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

    import cli_scoring

    cli_scoring.register(sub)

    p = sub.add_parser("serve", help="启动看板")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.set_defaults(func=cmd_serve)
    return parser


def run(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command; returns the exit code. Unexpected exceptions propagate (tests see them)."""
    from sqlalchemy.exc import OperationalError

    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except UsageError as exc:
        print(parser.format_usage().rstrip(), file=err)
        print(str(exc), file=err)
        return 2
    ctx = Context(db_url=args.db, actor_name=args.actor, out=out)
    try:
        return int(args.func(ctx, args))
    except UsageError as exc:
        print(parser.format_usage().rstrip(), file=err)
        print(str(exc), file=err)
        return 2
    except YuqingError as exc:
        print(str(exc), file=err)
        return 1
    except OperationalError as exc:
        from db.session import unreachable

        print(str(unreachable(ctx.config.database_url, exc)), file=err)
        return 1
    finally:
        ctx.close()


def main() -> None:
    """Console entry point: a last guard so a user never sees a traceback."""
    try:
        code = run()
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        # The reader went away (`yuqing incident list | head`): not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    except Exception as exc:  # noqa: BLE001 - the edge: report, never dump a traceback on users
        print(f"内部错误：{type(exc).__name__}: {exc}。请将此信息反馈给系统管理员 [E_INTERNAL]", file=sys.stderr)
        code = 1
    sys.exit(code)


if __name__ == "__main__":
    main()
