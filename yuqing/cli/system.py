"""`yuqing init` and `yuqing serve`: the database and the dashboard."""
from __future__ import annotations

import argparse
from typing import Any

from yuqing.cli.base import Context
from yuqing.vocabulary import render


def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db import demo
    from yuqing.db.session import describe_url

    database = ctx.database(require_schema=False)
    _migrate_and_grant(ctx, database)
    from yuqing.db.auditkey import create_key

    if create_key(ctx.config.audit_key_path):
        ctx.print(render("CLI_AUDIT_KEY_CREATED", path=str(ctx.config.audit_key_path)))
    version, added, updated = ctx.write(demo.sync_registry, ctx.config.units_file)
    # The board's stored windows follow the preset files shipped with this version (an edited preset
    # takes effect at the next init, as after an upgrade).
    ctx.write(lambda w: w.rebuild_windows())
    ctx.print(render("CLI_INIT_READY", url=describe_url(database.url).split("?")[0], version=version,
                     added=added, updated=updated))
    if args.demo:
        outcome = ctx.write(demo.load_demo_once)
        if isinstance(outcome, str):
            ctx.print(render(outcome))
            return 0
        feed_id = ctx.write(demo.add_demo_feed, ctx.config.data_dir)
        from yuqing.worker import Poller

        report = Poller(database, preset=ctx.config.preset).poll_feeds([feed_id])
        ctx.print(render("CLI_DEMO_LOADED", incidents=len(outcome), items=report.stats.new))
        accounts = "；".join(f"{name}（{what}）" for name, _, _, what in demo.DEMO_ACCOUNTS)
        ctx.print(render("CLI_DEMO_ACCOUNTS", accounts=accounts, password=demo.DEMO_PASSWORD))
    return 0


def _migrate_and_grant(ctx: Context, database: Any) -> None:
    """Migrate as the owner (YUQING_OWNER_DATABASE_URL, else the application's URL); on PostgreSQL
    with a separate application role, create it when missing and grant it (yuqing/db/roles.py)."""
    from sqlalchemy.engine import make_url

    from yuqing.db import migrate, roles
    from yuqing.db.session import Database
    from yuqing.settings import check_owner_url

    config = ctx.config
    if config.owner_database_url:
        check_owner_url(config)
    else:
        database.check_reachable()
        migrate.upgrade(database.engine, root_office=(config.office_code, config.office_name))
        if database.engine.dialect.name == "postgresql":
            with database.engine.connect() as connection:
                ctx.print(render("CLI_APP_ROLE_IS_OWNER", role=roles.current_role(connection)))
        return
    owner = Database(config.owner_database_url)
    try:
        owner.check_reachable()
        app = make_url(config.database_url)
        with owner.engine.connect() as connection:
            owner_role = roles.current_role(connection)
            app_role = app.username or owner_role
            if app_role != owner_role:
                roles.check_app_role(connection, app_role)  # refused before anything changes
        migrate.upgrade(owner.engine, root_office=(config.office_code, config.office_name))
        if app_role == owner_role:
            ctx.print(render("CLI_APP_ROLE_IS_OWNER", role=owner_role))
            return
        with owner.engine.begin() as connection:
            report = roles.ensure_app_role(connection, app_role, password=app.password)
    finally:
        owner.dispose()
    if report.created:
        ctx.print(render("CLI_APP_ROLE_CREATED", role=report.role))
    elif report.password_set:
        ctx.print(render("CLI_APP_ROLE_PASSWORD", role=report.role))
    ctx.print(render("CLI_APP_ROLE_GRANTED", role=report.role, schema=report.schema, tables=report.tables))


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.server import serve

    ctx.database()  # refuse early, with a sentence, when the database is not there
    code = "CLI_SERVE" if args.no_workers else "CLI_SERVE_ALERTS" if ctx.config.alert_routes else "CLI_SERVE_FEEDS"
    ctx.print(render(code, address=args.address, port=args.port))
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
