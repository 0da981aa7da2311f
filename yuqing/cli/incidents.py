"""Incidents and their clocks: `incident …`, `units list`, `timeline check`, `classify`."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from yuqing.board import window_status
from yuqing.cli.base import Context, JsonArray, Parser, UsageError, _now, _time, page_offset, page_size, record_id
from yuqing.errors import YuqingError
from yuqing.vocabulary import label, render


def cmd_classify(ctx: Context, args: argparse.Namespace) -> int:
    from classify import classify_json, run_jsonl
    from classify.units import load_units_file
    from timeline.presets import load_preset
    from yuqing.db.classifying import classifier_for

    if args.texts[:1] == ["report"]:
        return cmd_classify_report(ctx, args)
    if args.year is not None or args.json:
        raise UsageError(render("REPORT_ONLY_OPTIONS"))
    # Works without a database: the unit registry file is the same data `yuqing init` loads.
    _, units = load_units_file(ctx.config.units_file)
    classifier = classifier_for(units)
    preset = load_preset(ctx.config.preset)
    write = lambda obj: print(json.dumps(obj, ensure_ascii=False), file=ctx.out)  # noqa: E731 - a one-line writer passed to run_jsonl
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


def cmd_classify_report(ctx: Context, args: argparse.Namespace) -> int:
    """`yuqing classify report [--year Y] [--json]`: the stored suggestions against people's decisions."""
    from classify.ruleset import rules_version
    from yuqing.db.agreement import classify_report, report_year

    if args.jsonl or len(args.texts) > 1:
        raise UsageError(render("REPORT_USAGE"))
    year = report_year(args.year)
    report = ctx.read(classify_report, rules_version=rules_version(), year=year)
    if args.json:
        ctx.json(report.as_json())
        return 0
    for line in report_lines(report):
        ctx.print(line)
    return 0


def report_lines(report: Any) -> list[str]:
    """The terminal table of a ClassifyReport (columns padded by display width)."""
    import unicodedata

    from yuqing.db.agreement import report_title, table_rows

    def pad(text: str, width: int = 12) -> str:
        shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
        return text + " " * max(1, width - shown)

    rows = table_rows(report)
    lines = [report_title(report), "".join(pad(h) for h in rows[0]).rstrip()]
    lines += ["".join(pad(cell) for cell in row.values()).rstrip() for row in rows]
    if report.other_versions:
        lines.append(render("REPORT_OTHER_VERSIONS", count=report.other_versions))
    lines.append(render("REPORT_NOTE"))
    return lines


def cmd_units_list(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.units import list_units

    units = ctx.read(list_units, include_inactive=args.all)
    if args.json:
        ctx.json([{"code": u.code, "name": u.name, "kind": u.kind, "aliases": list(u.aliases)} for u in units])
        return 0
    for u in units:
        extra = "" if u.active else "（已撤并）"
        ctx.print(f"{u.code:<10} {label('UNIT_KIND', u.kind):<8} {u.name}{extra}  {'、'.join(u.aliases)}")
    return 0


def cmd_incident_add(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.service import NewIncident

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
    from yuqing.db.service import NewAction

    new = NewAction(
        kind=args.kind,
        at=_time(args.at),  # type: ignore[arg-type]  # --at is required, so the parsed time is never None
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
    ctx.print(render("CLI_INCIDENT_RECLASSIFIED", id=args.id))
    return 0


def cmd_incident_transfer(ctx: Context, args: argparse.Namespace) -> int:
    at = _time(args.at)
    name = ctx.write(lambda w: w.transfer(args.id, unit=args.unit, reason=args.reason, at=at).to_unit.name)
    ctx.print(render("CLI_INCIDENT_TRANSFERRED", id=args.id, unit=name))
    return 0


def cmd_incident_void(ctx: Context, args: argparse.Namespace) -> int:
    ctx.write(lambda w: w.void(args.id, reason=args.reason))
    ctx.print(render("CLI_INCIDENT_VOIDED", id=args.id))
    return 0


def cmd_incident_reopen(ctx: Context, args: argparse.Namespace) -> int:
    ctx.write(lambda w: w.reopen(args.id, reason=args.reason))
    ctx.print(render("CLI_INCIDENT_REOPENED", id=args.id))
    return 0


def cmd_incident_close(ctx: Context, args: argparse.Namespace) -> int:
    at = _time(args.at)
    ctx.write(lambda w: w.close(args.id, at=at))
    ctx.print(render("CLI_INCIDENT_CLOSED", id=args.id))
    return 0


def cmd_incident_reindex(ctx: Context, args: argparse.Namespace) -> int:
    count = ctx.write(lambda w: w.rebuild_windows())
    ctx.print(render("CLI_WINDOWS_REBUILT", count=count))
    return 0


def cmd_incident_show(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.incidents import get_incident, incident_json

    now = _now(ctx, args.now)
    view = ctx.read(get_incident, args.id)
    if view is None:
        raise YuqingError("E_INCIDENT_MISSING", id=args.id)
    ctx.json(incident_json(view, now))
    return 0


def cmd_incident_report(ctx: Context, args: argparse.Namespace) -> int:
    """处置台账 of one incident as docx or PDF; nothing is written for an unknown incident."""
    from yuqing.db.records import incident_record
    from yuqing.documents.incident_doc import incident_docx
    from yuqing.documents.pdf import soffice, to_pdf

    if args.format == "pdf" and soffice() is None:
        raise YuqingError("E_PDF_NO_LIBREOFFICE")
    now = _now(ctx, args.now)
    record = ctx.read(incident_record, args.id)
    if record is None:
        raise YuqingError("E_INCIDENT_MISSING", id=args.id)
    data = incident_docx(record, now=now)
    if args.format == "pdf":
        data = to_pdf(data)
    path = Path(args.out or f"舆情{args.id}处置台账.{args.format}").expanduser()
    write_file(path, data)
    ctx.print(render("CLI_RECORD_WRITTEN", id=args.id, path=str(path)))
    return 0


def write_file(path: Path, data: bytes) -> None:
    """The whole file or none: written beside the target, then renamed over it."""
    import os
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise YuqingError("E_FILE_WRITE", path=str(path), detail=exc.strerror or str(exc)) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise YuqingError("E_FILE_WRITE", path=str(path), detail=exc.strerror or str(exc)) from exc


def cmd_incident_list(ctx: Context, args: argparse.Namespace) -> int:
    from yuqing.db.incidents import each_incident, incident_json, incident_page, open_ranking
    from yuqing.db.scoring_writes import resolve_unit

    now = _now(ctx, args.now)
    paged = args.limit is not None or args.offset
    unit_code = ctx.read(resolve_unit, args.unit).code if args.unit else None
    # Open incidents come in the board's order (most urgent first at `now`), ranked and paged in SQL;
    # the whole list newest first.
    page: Any = (
        ctx.read(open_ranking, now, unit_code=unit_code, limit=args.limit, offset=args.offset)
        if args.open
        else ctx.read(incident_page, unit_code=unit_code, limit=args.limit, offset=args.offset)
    )
    if args.json:
        # Streamed: the incidents are read and written a chunk at a time.
        array = JsonArray(ctx.out)
        ctx.read(each_incident, list(page.ids), lambda view: array.add(incident_json(view, now, with_actions=False)))
        array.close()
        if paged:
            ctx.err_print(_page_note(page.total, args.offset, len(page.ids)))
        return 0
    if not page.ids:
        ctx.print(render("CLI_INCIDENTS_NONE"))
        if paged and page.total:
            ctx.print(_page_note(page.total, args.offset, 0))
        return 0
    ctx.read(each_incident, list(page.ids), lambda view: _print_incident(ctx, view, now))
    if paged:
        ctx.print(_page_note(page.total, args.offset, len(page.ids)))
    return 0


def _page_note(total: int, offset: int, shown: int) -> str:
    if not shown:
        return render("CLI_PAGE_EMPTY", total=total, offset=offset)
    return render("CLI_PAGE", total=total, first=offset + 1, last=offset + shown)


def _print_incident(ctx: Context, view: Any, now: datetime) -> None:
    from timeline.clock import display_beijing
    from timeline.model import WINDOW_NAMES

    verdict = view.verdict(now)
    ctx.print(f"#{view.id} [{label('STATUS', view.status)}] {view.title}  —— {view.unit.name}，开始 {display_beijing(view.started_at)}")
    for w in verdict.windows:
        if not w.applicable:
            continue
        risk = render("CLI_AT_RISK") if w.state == "open" and w.at_risk else ""
        ctx.print(render("CLI_WINDOW_LINE", window=WINDOW_NAMES[w.key], hours=w.hours,
                         due=display_beijing(w.due_at), status=window_status(w) + risk))


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


def _sudden_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sudden", dest="sudden", action="store_const", const=True, default=None, help="突发事件")
    group.add_argument("--not-sudden", dest="sudden", action="store_const", const=False, help="非突发事件")


def register(sub: Any) -> None:
    p = sub.add_parser("classify", help="判断文本是否为突发/重大事件、类别、级别、责任单位；classify report：建议与人工决定的对比")
    p.add_argument("texts", nargs="*", metavar="TEXT|report")
    p.add_argument("--jsonl", action="store_true", help="从标准输入逐行读取 {\"id\", \"title\", \"text\"}")
    p.add_argument("--year", metavar="Y", help="（report）只统计该年（北京时间）登记的舆情和信息")
    p.add_argument("--json", action="store_true", help="（report）以 JSON 输出")
    p.set_defaults(func=cmd_classify)

    units = sub.add_parser("units", help="单位名单").add_subparsers(dest="units_command", required=True, parser_class=Parser)
    p = units.add_parser("list", help="列出单位")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="包括已撤并的单位")
    p.set_defaults(func=cmd_units_list)
    from yuqing.cli.offices import register_units

    register_units(units)

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
    p.add_argument("--kind", required=True, help="回应|发布权威信息|新闻发布会|后续跟进 或 response|release|press_conference|follow_up")
    p.add_argument("--at", required=True, metavar="T")
    p.add_argument("--channel", action="append", metavar="CODE", help="渠道代码或中文名（如 微博、抖音）")
    p.add_argument("--by-principal", action="store_true", help="由主要负责人作出")
    p.add_argument("--evidence", metavar="URL")
    p.add_argument("--evidence-file", metavar="PATH")
    p.add_argument("--note")
    p.add_argument("--reason", help="补录 48 小时以前的处置，或在已办结的舆情上补录办结前的处置时必须说明")
    p.set_defaults(func=cmd_incident_act)

    p = inc.add_parser("reclassify", help="调整级别、突发属性或类别")
    p.add_argument("id", type=record_id)
    p.add_argument("--level", metavar="L")
    _sudden_flags(p)
    p.add_argument("--category", metavar="C")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_incident_reclassify)

    p = inc.add_parser("reopen", help="重新打开误办结的舆情（政务公开办）")
    p.add_argument("id", type=record_id)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_incident_reopen)

    p = inc.add_parser("transfer", help="转办给其他单位（时限继续计算）")
    p.add_argument("id", type=record_id)
    p.add_argument("--unit", required=True)
    p.add_argument("--reason", required=True)
    p.add_argument("--at", metavar="T", help="转办时间（默认：现在；补录时填实际转办时间）")
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

    p = inc.add_parser("report", help="生成一条舆情的处置台账（docx 或 pdf，pdf 需要 LibreOffice）")
    p.add_argument("id", type=record_id)
    p.add_argument("--format", choices=["docx", "pdf"], default="docx")
    p.add_argument("--out", metavar="FILE", help="输出文件（默认：当前目录下的 舆情ID处置台账.docx/.pdf）")
    p.add_argument("--now", metavar="T", help="判定时限的时间（默认：现在）")
    p.set_defaults(func=cmd_incident_report)

    p = inc.add_parser("list", help="列出舆情及其时限")
    p.add_argument("--open", action="store_true", help="只列处置中的舆情")
    p.add_argument("--unit", metavar="UNIT")
    p.add_argument("--limit", type=page_size, metavar="N", help="最多列出 N 条（总数另行给出）")
    p.add_argument("--offset", type=page_offset, default=0, metavar="N", help="跳过前 N 条")
    p.add_argument("--json", action="store_true")
    p.add_argument("--now", metavar="T")
    p.set_defaults(func=cmd_incident_list)

    p = inc.add_parser("reindex", help="按现行规则重算处置中舆情的时限（规则文件修改后、批量导入后）")
    p.set_defaults(func=cmd_incident_reindex)

    tl = sub.add_parser("timeline", help="时限判定").add_subparsers(dest="timeline_command", required=True, parser_class=Parser)
    p = tl.add_parser("check", help="按规则判定一份 JSON 描述的舆情时限")
    p.add_argument("file", metavar="FILE|-")
    p.add_argument("--now", metavar="T")
    p.add_argument("--preset", metavar="NAME")
    p.set_defaults(func=cmd_timeline_check)
