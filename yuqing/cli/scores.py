"""Scoring commands of the `yuqing` CLI (referrals, manual scores, specials, daily records, appeals,
rectifications, score, bulletin): parse → one call into yuqing.db.scoring_reads / scoring → print.

Over 500 lines: the scoring nouns (referral, manual-score, special, daily, appeal, rectify, bulletin,
score) share argument types and output helpers; each command is short and sits beside its options.
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from scoring.indicators import deadline_state
from yuqing.cli.base import Parser, UsageError, _day, _time, record_id, year
from yuqing.errors import YuqingError
from yuqing.vocabulary import LABELS, label, render

REFERRAL_STATES = LABELS["REFERRAL"]
RECTIFY_STATES = LABELS["RECTIFY"]




def _now(ctx: Any, text: str | None) -> datetime:
    return _time(text) or ctx.now()


def _usage(message: str) -> Exception:
    return UsageError(message)


def _write(ctx: Any, data: bytes | str, out: str | None) -> None:
    """To --out as bytes (a confirmation on stdout), else to stdout as text."""
    if out is None:
        ctx.out.write(data.decode("utf-8") if isinstance(data, bytes) else data)
        return
    path = Path(out).expanduser()
    try:
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    except OSError as exc:
        raise YuqingError("E_FILE_WRITE", path=out, detail=exc.strerror or str(exc)) from exc
    ctx.print(render("CLI_WRITTEN", path=str(path)))


def _json_lines(rows: list[dict[str, Any]]) -> str:
    """A JSON list with one unit per line: readable, and the C encoder (indent= is ~10× slower on a year)."""
    if not rows:
        return "[]\n"
    return "[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n"


def _iso(value: datetime | None) -> str | None:
    from timeline.clock import iso_beijing

    return iso_beijing(value)


def _show(value: datetime | None) -> str:
    from timeline.clock import display_beijing

    return display_beijing(value)


def _number(value: float | None) -> str:
    from yuqing.exports import number

    return number(value) or "—"


# --- referrals -----------------------------------------------------------------------------------
def cmd_referral_add(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.referrals import add_referral

    row_id = ctx.write(lambda w: add_referral(w, args.incident, unit=args.unit, due_workdays=args.due_workdays,
                                              sent_at=_time(args.sent_at)).id)
    ctx.print(str(row_id))
    return 0


def cmd_referral_reply(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.referrals import reply_referral

    evidence = Path(args.evidence_file) if args.evidence_file else None
    row = ctx.write(reply_referral, args.id, at=_time(args.at), evidence_file=evidence, note=args.note)
    state = deadline_state(row.replied_at, row.due_at, row.replied_at)
    ctx.print(render("CLI_REFERRAL_REPLIED", id=args.id, state=render(f"REFERRAL_{state}")))
    return 0


def cmd_referral_list(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.referrals import list_referrals

    now = _now(ctx, args.now)
    views = ctx.read(list_referrals, now=now, year=args.year)
    if args.json:
        ctx.json([
            {"id": v.id, "incident_id": v.incident_id, "incident_title": v.incident_title,
             "unit": {"code": v.unit_code, "name": v.unit_name}, "sent_at": _iso(v.sent_at),
             "due_workdays": v.due_workdays, "due_at": _iso(v.due_at), "replied_at": _iso(v.replied_at),
             "state": v.state}
            for v in views
        ])
        return 0
    if not views:
        ctx.print(render("DASH_REFERRALS_EMPTY"))
    for v in views:
        replied = f"（{_show(v.replied_at)}）" if v.replied_at else ""
        ctx.print(f"#{v.id} 舆情 #{v.incident_id}《{v.incident_title}》→ {v.unit_name}  发出 {_show(v.sent_at)}，"
                  f"{v.due_workdays} 个工作日，限 {_show(v.due_at)} 前回复：{REFERRAL_STATES[v.state]}{replied}")
    return 0


# --- manual scores, special items, daily records -------------------------------------------------
def cmd_manual_set(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.scoring_writes import set_manual_score

    ctx.write(set_manual_score, args.unit, args.indicator, args.points, year=args.year, note=args.note)
    ctx.print(render("CLI_MANUAL_SET", year=args.year, unit=args.unit, indicator=args.indicator, points=f"{args.points:g}"))
    return 0


def cmd_manual_template(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.office_rules import office_scheme
    from yuqing.db.service import unit_refs
    from yuqing.documents.scoresheet import score_sheet

    if not args.out.lower().endswith(".xlsx"):
        raise _usage("yuqing manual-score template: --out 必须是 .xlsx 文件")
    _write(ctx, score_sheet(ctx.read(office_scheme, args.year), ctx.read(unit_refs)), args.out)
    return 0


def cmd_manual_import(ctx: Any, args: argparse.Namespace) -> int:
    from ingest.importer import read_sheets
    from yuqing.db.scoring_writes import import_score_sheets

    path = Path(args.file).expanduser()
    if not path.is_file():
        raise YuqingError("E_FILE_READ", path=args.file, detail="文件不存在")
    sheets = read_sheets(path)
    count = ctx.write(import_score_sheets, sheets, year=args.year, path=args.file)
    ctx.print(render("CLI_MANUAL_IMPORTED", year=args.year, count=count))
    return 0


def cmd_special_add(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.scoring_writes import add_special

    row_id = ctx.write(lambda w: add_special(w, args.unit, year=args.year, item=args.item, points=args.points,
                                             evidence=args.evidence, on=_day(args.date)).id)
    ctx.print(str(row_id))
    return 0


def cmd_special_zero(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.scoring_writes import add_zeroing

    row_id = ctx.write(lambda w: add_zeroing(w, args.unit, year=args.year, evidence=args.evidence,
                                             on=_day(args.date)).id)
    ctx.print(str(row_id))
    return 0


def cmd_daily_add(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.scoring_writes import add_daily

    row_id = ctx.write(lambda w: add_daily(w, args.unit, on=_day(args.date), points=args.points,  # type: ignore[arg-type]  # the option is required, so the parsed day is never None
                                           reason=args.reason, indicator=args.indicator).id)
    ctx.print(str(row_id))
    return 0


# --- appeals -------------------------------------------------------------------------------------
def cmd_appeal_add(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.appeals import add_appeal

    evidence = Path(args.evidence_file) if args.evidence_file else None
    row_id = ctx.write(lambda w: add_appeal(w, args.deduction, reason=args.reason, unit=args.unit,
                                            evidence_file=evidence).id)
    ctx.print(str(row_id))
    return 0


def cmd_appeal_decide(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.appeals import decide_appeal

    key = ctx.write(decide_appeal, args.id, overturn=args.overturn, reason=args.reason).deduction_key
    ctx.print(render("CLI_APPEAL_DECIDED", id=args.id, decision=label("APPEAL", "overturn" if args.overturn else "uphold"), key=key))
    return 0


# --- rectifications ------------------------------------------------------------------------------
def cmd_rectify_add(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.appeals import add_rectification

    row_id = ctx.write(lambda w: add_rectification(w, args.unit, year=args.year, problem=args.problem,
                                                   due=_day(args.due, end=True), answers=args.answers or ()).id)  # type: ignore[arg-type]  # the option is required, so the parsed day is never None
    ctx.print(str(row_id))
    return 0


def cmd_rectify_done(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.appeals import finish_rectification

    row = ctx.write(finish_rectification, args.id, at=_day(args.at), note=args.note)
    state = deadline_state(row.done_at, row.due_at, row.done_at)
    ctx.print(render("CLI_RECTIFY_DONE", id=args.id, state=render(f"RECTIFY_{state}")))
    return 0


def cmd_rectify_list(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.appeals import list_rectifications

    now = _now(ctx, args.now)
    views = ctx.read(list_rectifications, year=args.year)
    if args.json:
        ctx.json([
            {"id": v.id, "unit": {"code": v.unit_code, "name": v.unit_name}, "year": v.year, "problem": v.problem,
             "due_at": _iso(v.due_at), "done_at": _iso(v.done_at), "note": v.note, "state": v.state(now),
             "answers": list(v.answers)}
            for v in views
        ])
        return 0
    if not views:
        ctx.print(render("DASH_RECTIFY_EMPTY"))
    for v in views:
        ctx.print(f"#{v.id} {v.unit_name}（{v.year} 年）{v.problem}  限 {_show(v.due_at)}：{RECTIFY_STATES[v.state(now)]}"
                  + (f"（{_show(v.done_at)}，{v.note}）" if v.done_at else ""))
    return 0


# --- bulletin and score --------------------------------------------------------------------------
def cmd_bulletin(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.scoring_reads import make_bulletin
    from yuqing.db.scoring_writes import resolve_unit

    if args.format == "xlsx" and not args.out:
        raise YuqingError("E_XLSX_NEEDS_OUT")
    if args.format in ("docx", "pdf") and not args.out:
        raise YuqingError("E_BINARY_NEEDS_OUT", format=args.format)
    if (args.doc_number or args.criticism) and args.format not in ("docx", "pdf"):
        raise _usage("yuqing bulletin: --doc-number、--criticism 只用于 --format docx 或 pdf")
    if args.format == "pdf":
        from yuqing.documents.pdf import soffice

        if soffice() is None:
            raise YuqingError("E_PDF_NO_LIBREOFFICE")
    now = _now(ctx, args.now)
    code = ctx.read(resolve_unit, args.criticism).code if args.criticism else None
    result = ctx.read(make_bulletin, args.year, args.quarter, now=now, draft=args.draft)
    if result.audit_count is not None and result.audit_head:
        # The head printed in the bulletin is a checkpoint too: kept outside the database, checked by verify.
        from yuqing.db.auditkey import record_checkpoint

        record_checkpoint(ctx.config, result.audit_count, result.audit_head, ctx.now(),
                          render("CHECKPOINT_BULLETIN", year=args.year, quarter=args.quarter,
                                 draft=render("CHECKPOINT_DRAFT") if args.draft else ""))
    if args.format in ("docx", "pdf"):
        from yuqing.documents.bulletin_doc import bulletin_docx, criticism_docx

        office = ctx.config.office_name
        if code is not None:
            unit = next((u for u in result.units if u.unit.code == code), None)
            if unit is None:
                raise YuqingError("E_CRITICISM_NONE", unit=args.criticism, year=args.year, quarter=args.quarter)
            data = criticism_docx(result, unit, office=office, doc_number=args.doc_number)
        else:
            data = bulletin_docx(result, office=office, doc_number=args.doc_number)
        if args.format == "pdf":
            from yuqing.documents.pdf import to_pdf

            data = to_pdf(data)
        _write(ctx, data, args.out)
        return 0
    _write(ctx, result.to_xlsx() if args.format == "xlsx" else result.to_markdown(), args.out)
    return 0


def cmd_score(ctx: Any, args: argparse.Namespace) -> int:
    if args.freeze or args.diff:
        if args.public:
            raise _usage("yuqing score: --public 不能与 --freeze、--diff 同时使用")
        if args.freeze and (args.unit or args.out or args.format != "table"):
            raise _usage("yuqing score: --freeze 不能与 --unit、--format、--out 同时使用")
        return _score_freeze(ctx, args) if args.freeze else _score_diff(ctx, args)
    if args.public:
        return _score_public(ctx, args)
    from scoring import as_json
    from yuqing.db.scoring_reads import attributed_to, load_year
    from yuqing.db.scoring_writes import resolve_unit
    from yuqing.exports import export_csv, export_xlsx, render_table

    if args.format in ("docx", "html"):
        raise _usage(f"yuqing score: --format {args.format} 只用于 --public")
    if args.format == "xlsx" and not args.out:
        raise YuqingError("E_XLSX_NEEDS_OUT")
    now = _now(ctx, args.now)
    code = ctx.read(resolve_unit, args.unit).code if args.unit else None
    data = ctx.read(load_year, args.year, now=now)
    results = data.score()
    details = data.incidents
    if code is not None:
        results = [r for r in results if r.unit.code == code]
        details = tuple(i for i in details if attributed_to(i, code))
    if args.format == "json":
        _write(ctx, _json_lines(as_json(results)), args.out)
    elif args.format == "csv":
        _write(ctx, export_csv(results), args.out)
    elif args.format == "xlsx":
        _write(ctx, export_xlsx(results, details), args.out)
    else:
        proposed = "，分值为建议值" if data.scheme.status == "proposed" else ""
        head = f"{args.year} 年政务公开考核（评分方案 {data.scheme.name}{proposed}），判定时间 {_show(now)}\n\n"
        _write(ctx, head + render_table(results), args.out)
    return 0


def _score_public(ctx: Any, args: argparse.Namespace) -> int:
    """The public ranking: 类别, 名次, 单位, 总分, 等次 per kind; xlsx, docx or one HTML page."""
    from scoring import as_json
    from timeline.clock import to_beijing
    from yuqing.db.scoring_reads import load_year
    from yuqing.documents.ranking import public_docx, public_html, public_xlsx

    if args.unit or args.format not in ("xlsx", "docx", "html"):
        raise _usage("yuqing score: --public 只支持 --format xlsx、docx 或 html，且不能与 --unit 同时使用")
    if args.format != "html" and not args.out:
        raise YuqingError("E_BINARY_NEEDS_OUT", format=args.format)
    now = _now(ctx, args.now)
    data = ctx.read(load_year, args.year, now=now)
    rows = as_json(data.score())
    office, day = ctx.config.office_name, to_beijing(now).date()
    if args.format == "xlsx":
        out = public_xlsx(rows, args.year)
    elif args.format == "docx":
        out = public_docx(rows, args.year, office=office, day=day)
    else:
        out = public_html(rows, args.year, office=office, day=day)
    _write(ctx, out, args.out)
    return 0


def _score_freeze(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.scoring_reads import freeze

    now = _now(ctx, args.now)
    snapshot = ctx.write(freeze, args.year, now=now)
    ctx.print(render("CLI_FREEZE_DONE", year=args.year, id=snapshot.id))
    ctx.print(render("CLI_FREEZE_SCHEME", scheme=snapshot.scheme))
    ctx.print(render("CLI_FREEZE_NOW", at=_show(snapshot.now)))
    ctx.print(render("CLI_FREEZE_HASH", hash=snapshot.data_hash))
    ctx.print(render("CLI_FREEZE_AUDIT", head=snapshot.audit_head))
    if snapshot.audit_count is not None:
        from yuqing.db.auditkey import record_checkpoint

        record_checkpoint(ctx.config, snapshot.audit_count, snapshot.audit_seal, ctx.now(),
                          render("CHECKPOINT_SNAPSHOT", id=snapshot.id, year=snapshot.year))
        ctx.print(render("CLI_CHECKPOINT_RECORDED", path=str(ctx.config.checkpoint_file), count=snapshot.audit_count))
    return 0


def _score_diff(ctx: Any, args: argparse.Namespace) -> int:
    from yuqing.db.scoring_reads import diff_since_snapshot
    from yuqing.db.scoring_writes import resolve_unit

    now = _now(ctx, args.now)
    code = ctx.read(resolve_unit, args.unit).code if args.unit else None
    snapshot, data, changes = ctx.read(diff_since_snapshot, args.year, now=now)
    if code is not None:
        changes = [c for c in changes if c["unit"]["code"] == code]
    data_hash = data.data_hash()
    if args.format == "json":
        _write(ctx, json.dumps({
            "snapshot": {"id": snapshot.id, "year": snapshot.year, "scheme": snapshot.scheme, "now": _iso(snapshot.now),
                         "data_hash": snapshot.data_hash, "audit_head": snapshot.audit_head,
                         "created_at": _iso(snapshot.created_at), "created_by": snapshot.created_by},
            "now": _iso(now), "scheme": data.scheme.name, "data_hash": data_hash, "changes": changes,
        }, ensure_ascii=False, indent=2) + "\n", args.out)
        return 0
    if args.format != "table":
        raise _usage("yuqing score: --diff 只支持 --format table 或 json")
    lines = [
        f"与 {args.year} 年评分快照 #{snapshot.id} 比较（冻结于 {_show(snapshot.created_at)}，快照判定时间 {_show(snapshot.now)}；"
        f"本次判定时间 {_show(now)}）",
        f"数据哈希：{'未变' if data_hash == snapshot.data_hash else '已变'}（快照 {snapshot.data_hash[:12]}…，现在 {data_hash[:12]}…）",
    ]
    if snapshot.scheme != data.scheme.name:
        lines.append(f"评分方案：{snapshot.scheme} → {data.scheme.name}")
    if not changes:
        lines.append("各单位得分没有变化")
    for change in changes:
        lines += _change_lines(change)
    if changes:
        lines.append(f"共 {len(changes)} 个单位有变化")
    _write(ctx, "\n".join(lines) + "\n", args.out)
    return 0


def _change_lines(change: dict[str, Any]) -> list[str]:
    unit = change["unit"]
    total, grade, rank = change["total"], change["grade"], change["rank"]
    label = {"added": "（新增单位）", "removed": "（已不在结果中）"}.get(change["change"], "")
    delta = f"（{total['delta']:+g}）" if total.get("delta") else ""
    lines = [
        f"{unit['name']}（{unit['code']}）{label}：总分 {_number(total['old'])} → {_number(total['new'])}{delta}，"
        f"等次 {grade['old'] or '—'} → {grade['new'] or '—'}，排名 {rank['old'] or '—'} → {rank['new'] or '—'}"
    ]
    for i in change["indicators"]:
        step = f"（{i['delta']:+g}）" if i.get("delta") else ""
        lines.append(f"    指标 {i['name']}（{i['code']}）：{_number(i['old'])} → {_number(i['new'])}{step}")
    d = change["deductions"]
    for item in d["added"]:
        lines.append(f"    新增扣分 {item['key']}（{_number(item['points'])} 分）：{item['evidence']}")
    for item in d["removed"]:
        lines.append(f"    不再扣分 {item['key']}（{_number(item['points'])} 分）：{item['evidence']}")
    for key in d["overturned"]:
        lines.append(f"    申诉撤销 {key}")
    for key in d["reinstated"]:
        lines.append(f"    恢复扣分 {key}")
    return lines


# --- parser --------------------------------------------------------------------------------------
def register(sub: Any) -> None:
    """Add the scoring subcommands to the main parser."""
    def group(name: str, help_text: str) -> Any:
        return sub.add_parser(name, help=help_text).add_subparsers(dest=f"{name}_command", required=True,
                                                                    parser_class=Parser)

    ref = group("referral", "舆情函件")
    p = ref.add_parser("add", help="发出舆情函件，输出函件编号")
    p.add_argument("incident", type=record_id, metavar="INCIDENT")
    p.add_argument("--unit", required=True, metavar="UNIT", help="承办单位")
    p.add_argument("--due-workdays", type=int, required=True, metavar="N", help="办理时限（工作日）")
    p.add_argument("--sent-at", metavar="T", help="发函时间（默认：现在）")
    p.set_defaults(func=cmd_referral_add)
    p = ref.add_parser("reply", help="登记函件回复")
    p.add_argument("id", type=record_id, metavar="ID")
    p.add_argument("--at", required=True, metavar="T")
    p.add_argument("--evidence-file", metavar="PATH", help="回复函件或办理材料")
    p.add_argument("--note", metavar="TEXT")
    p.set_defaults(func=cmd_referral_reply)
    p = ref.add_parser("list", help="列出舆情函件及其办理状态")
    p.add_argument("--year", type=year, metavar="Y", help="只列该年发出的函件")
    p.add_argument("--now", metavar="T")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_referral_list)

    ms = group("manual-score", "人工评分指标")
    p = ms.add_parser("set", help="录入一个人工评分指标的得分")
    p.add_argument("unit", metavar="UNIT")
    p.add_argument("indicator", metavar="INDICATOR", help="指标代码，如 org.principal")
    p.add_argument("points", type=float, metavar="POINTS")
    p.add_argument("--year", type=year, required=True, metavar="Y")
    p.add_argument("--note", required=True, metavar="TEXT", help="评分说明")
    p.set_defaults(func=cmd_manual_set)
    p = ms.add_parser("template", help="导出考核组评分表（xlsx）：每个单位 × 人工指标一行，按部门、县区分表")
    p.add_argument("--year", type=year, required=True, metavar="Y")
    p.add_argument("--out", required=True, metavar="FILE.xlsx")
    p.set_defaults(func=cmd_manual_template)
    p = ms.add_parser("import", help="从 CSV（unit,indicator,points,note）或评分表 xlsx（单位、指标、得分、说明，名称或代码均可）"
                                     "导入人工评分：有错误行则整个文件不导入，逐行列出")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--year", type=year, required=True, metavar="Y")
    p.set_defaults(func=cmd_manual_import)

    sp = group("special", "特别加分项、特别减分项、直接归零项")
    p = sp.add_parser("add", help="登记特别加分（+）或特别减分（−），输出编号")
    p.add_argument("unit", metavar="UNIT")
    p.add_argument("--year", type=year, required=True, metavar="Y")
    p.add_argument("--item", required=True, metavar="CODE", help="评分方案中的特别项代码，如 bonus.media")
    p.add_argument("--points", type=float, required=True, metavar="±P", help="加分项为正数，减分项为负数")
    p.add_argument("--evidence", required=True, metavar="TEXT")
    p.add_argument("--date", metavar="T", help="发生日期（默认：今天，若在该年度内）")
    p.set_defaults(func=cmd_special_add)
    p = sp.add_parser("zero", help="直接归零（弄虚作假）：总分 0，等次不合格")
    p.add_argument("unit", metavar="UNIT")
    p.add_argument("--year", type=year, required=True, metavar="Y")
    p.add_argument("--evidence", required=True, metavar="TEXT")
    p.add_argument("--date", metavar="T", help="发现日期（默认：今天，若在该年度内）")
    p.set_defaults(func=cmd_special_zero)

    dl = group("daily", "日常考核记录")
    p = dl.add_parser("add", help="登记日常考核记录（+ 加分，− 扣分），输出编号")
    p.add_argument("unit", metavar="UNIT")
    p.add_argument("--date", required=True, metavar="T")
    p.add_argument("--points", type=float, required=True, metavar="±P")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument("--indicator", metavar="CODE", help="调整的考核指标（默认：计入总分）")
    p.set_defaults(func=cmd_daily_add)

    ap = group("appeal", "扣分申诉")
    p = ap.add_parser("add", help="对一项扣分提出申诉，输出申诉编号")
    p.add_argument("deduction", metavar="DEDUCTION", help="扣分项 key，如 12:release:late（见 score --format json）")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument("--unit", metavar="UNIT", help="扣分由多个单位承担时，指定申诉单位")
    p.add_argument("--evidence-file", metavar="PATH", help="申诉证据材料")
    p.set_defaults(func=cmd_appeal_add)
    p = ap.add_parser("decide", help="决定申诉：维持扣分或撤销扣分")
    p.add_argument("id", type=record_id, metavar="ID")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--uphold", action="store_true", help="维持扣分")
    decision.add_argument("--overturn", action="store_true", help="撤销扣分（仍列出，不再计分）")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.set_defaults(func=cmd_appeal_decide)

    rc = group("rectify", "整改事项")
    p = rc.add_parser("add", help="登记整改事项，输出编号")
    p.add_argument("unit", metavar="UNIT")
    p.add_argument("--year", type=year, required=True, metavar="Y")
    p.add_argument("--problem", required=True, metavar="TEXT")
    p.add_argument("--due", required=True, metavar="T")
    p.add_argument("--answers", nargs="+", metavar="KEY", help="所针对的扣分项 key 或特别项（special-编号）")
    p.set_defaults(func=cmd_rectify_add)
    p = rc.add_parser("done", help="登记整改完成")
    p.add_argument("id", type=record_id, metavar="ID")
    p.add_argument("--at", required=True, metavar="T")
    p.add_argument("--note", required=True, metavar="TEXT")
    p.set_defaults(func=cmd_rectify_done)
    p = rc.add_parser("list", help="列出整改事项")
    p.add_argument("--year", type=year, metavar="Y")
    p.add_argument("--now", metavar="T")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rectify_list)

    p = sub.add_parser("bulletin", help="季度通报（第十条）")
    p.add_argument("--year", type=year, required=True, metavar="Y")
    p.add_argument("--quarter", type=int, required=True, metavar="Q")
    p.add_argument("--now", metavar="T")
    p.add_argument("--format", choices=["md", "xlsx", "docx", "pdf"], default="md",
                   help="md、xlsx，或按 GB/T 9704-2012 公文格式的 docx / pdf（pdf 需要 LibreOffice）")
    p.add_argument("--doc-number", metavar="TEXT", help="发文字号，如 三政公开办〔2026〕3号（docx、pdf）")
    p.add_argument("--criticism", metavar="UNIT", help="改为生成该单位本季度直接归零（弄虚作假）的通报批评（docx、pdf）")
    p.add_argument("--out", metavar="FILE", help="写入文件（xlsx、docx、pdf 必须给出）")
    p.add_argument("--draft", action="store_true", help="季度未结束时生成征求意见稿")
    p.set_defaults(func=cmd_bulletin)

    p = sub.add_parser("score", help="年度考核得分、等次、排名；冻结快照与比较")
    p.add_argument("--year", type=year, required=True, metavar="Y")
    p.add_argument("--unit", metavar="UNIT", help="只输出该单位（排名仍在全部单位中计算）")
    p.add_argument("--now", metavar="T", help="判定时间（默认：现在）")
    p.add_argument("--format", choices=["table", "json", "csv", "xlsx", "docx", "html"], default="table",
                   help="table、json、csv、xlsx；docx、html 只用于 --public")
    p.add_argument("--out", metavar="FILE", help="写入文件（xlsx、docx 必须给出）")
    p.add_argument("--public", action="store_true",
                   help="公开的考核结果：只有类别、名次、单位、总分、等次，部门与县区分表（xlsx、docx、html）")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--freeze", action="store_true", help="保存快照：方案、判定时间、数据哈希、审计链头")
    mode.add_argument("--diff", action="store_true", help="与最近一次快照比较，逐单位列出变化")
    p.set_defaults(func=cmd_score)
