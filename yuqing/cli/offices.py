"""`yuqing offices …` and `yuqing units import`: the assessing offices of one installation and their registries."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from yuqing.cli.base import Context, Parser
from yuqing.vocabulary import render


def cmd_offices_add(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.offices import add_office

    office = ctx.write(add_office, args.code, name=args.name, parent=args.parent, unit=args.unit)
    ctx.print(render("CLI_OFFICE_ADDED", office=office.code, name=office.name, parent=office.parent or "—"))
    return 0


def cmd_offices_list(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.offices import visible_offices

    offices = ctx.read(visible_offices, ctx.home_office_id())
    if args.json:
        ctx.json([o.as_json() for o in offices])
        return 0
    for office in offices:
        ctx.print(render("CLI_OFFICE_LINE", office=office.code, name=office.name, parent=office.parent or "—"))
    return 0


def cmd_offices_preset(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.office_rules import add_office_preset, set_office_preset
    from yuqing.db.offices import office_by_id

    if args.name.endswith(".toml"):  # the office's own preset file: loaded, then chosen
        preset, new = ctx.write(add_office_preset, Path(args.name))
        office = ctx.read(office_by_id, ctx.database().office_id)
        ctx.print(render("CLI_OFFICE_PRESET_LOADED" if new else "CLI_OFFICE_PRESET_CHOSEN", preset=preset.name,
                         title=preset.title, office=office.name))
        return 0
    name = ctx.write(set_office_preset, args.name)
    office = ctx.read(office_by_id, ctx.database().office_id)
    ctx.print(render("CLI_OFFICE_PRESET_SET", office=office.name, preset=name))
    return 0


def cmd_offices_scheme(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.office_rules import add_office_scheme
    from yuqing.db.offices import office_by_id

    scheme, replaced = ctx.write(add_office_scheme, Path(args.file))
    office = ctx.read(office_by_id, ctx.database().office_id)
    ctx.print(render("CLI_OFFICE_SCHEME_REPLACED" if replaced else "CLI_OFFICE_SCHEME_LOADED", office=office.name,
                     scheme=scheme.name, first=scheme.first_year, last=scheme.last_year or ""))
    return 0


def cmd_units_import(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.units import import_units

    name, version, added, updated = ctx.write(import_units, Path(args.file), office=args.office)
    ctx.print(render("CLI_UNITS_IMPORTED", office=name, version=version, added=added, updated=updated))
    return 0


def register(sub: Any) -> None:
    offices = sub.add_parser("offices", help="考核办（考核主体）").add_subparsers(
        dest="offices_command", required=True, parser_class=Parser
    )
    p = offices.add_parser("add", help="添加下级考核办（县〔市、区〕、示范区、开发区、市直部门的系统）")
    p.add_argument("code", metavar="CODE", help="代码：小写字母、数字、-、_")
    p.add_argument("--name", required=True, help="考核办全称")
    p.add_argument("--parent", required=True, metavar="CODE", help="上级考核办代码")
    p.add_argument("--unit", metavar="UNIT", help="上级单位名单中代表本级政府的单位代码（如 灵宝市 的 lingbao）")
    p.set_defaults(func=cmd_offices_add)
    p = offices.add_parser("list", help="列出本账号可见的考核办")
    p.add_argument("--json", action="store_true", help="输出 [{\"code\", \"name\", \"parent\"}]")
    p.set_defaults(func=cmd_offices_list)
    p = offices.add_parser("preset", help="本考核办新登记舆情使用的时限规则预设（已登记的舆情不变）")
    p.add_argument("name", metavar="NAME|FILE.toml",
                   help="预设名称，如 sanmenxia-2017、national-2016、lingbao:lingbao-2025；或本考核办自己的预设文件（.toml，载入后选用）")
    p.set_defaults(func=cmd_offices_preset)
    p = offices.add_parser("scheme", help="载入本考核办自己的考核方案文件（第十七条；适用年度内优先于随程序提供的方案）")
    p.add_argument("file", metavar="FILE.toml")
    p.set_defaults(func=cmd_offices_scheme)


def register_units(units: Any) -> None:
    p = units.add_parser("import", help="载入某考核办的单位名单（TOML 的 [[unit]]，或同样列名的 xlsx）")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--office", required=True, metavar="CODE", help="考核办代码")
    p.set_defaults(func=cmd_units_import)
