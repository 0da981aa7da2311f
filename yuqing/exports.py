"""Score exports, bytes out: CSV for Excel/WPS, an xlsx workbook, and a plain-text terminal table.

They read the JSON shape of `as_json` (UnitScore lists are converted), so a stored snapshot exports
the same way as a fresh run. Times are written as naive Beijing wall time (spreadsheets have no zones).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from scoring.facts import ScoredIncident
from scoring.results import UnitScore, as_json
from scoring.wallclock import UTC8
from timeline.model import STATE_NAMES, WINDOW_KEYS, WINDOW_NAMES
from yuqing.vocabulary import LABELS, render
from yuqing.workbook import ILLEGAL, Book, display_width

KIND_NAMES = LABELS["UNIT_KIND"]
STATE_COLUMNS = ("met", "late", "overdue", "open")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _rows(results: Sequence[UnitScore] | Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r if isinstance(r, dict) else as_json([r])[0] for r in results]


def number(value: float | None) -> str:
    """87.0 → '87', 87.5 → '87.5', None → ''."""
    if value is None:
        return ""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def rule_name(rule: str) -> str:
    return render(f"RULE_{rule}")


def _indicator_columns(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    columns: dict[str, str] = {}
    for row in rows:
        for indicator in row["indicators"]:
            columns.setdefault(indicator["code"], indicator["name"])
    return list(columns.items())


def summary_table(results: Sequence[UnitScore] | Sequence[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the summary (one row per unit, ranked order): what CSV and 汇总 share."""
    rows = _rows(results)
    indicators = _indicator_columns(rows)
    header = ["类别", "排名", "单位名称", "总分", "等次", "舆情回应得分", "舆情回应满分", "舆情回应排名", "单位代码", "舆情数"]
    for key in WINDOW_KEYS:
        header += [f"{WINDOW_NAMES[key]}·{STATE_NAMES[s]}" for s in STATE_COLUMNS]
    header += ["函件·按时", "函件·逾期回复", "函件·超期未复", "函件·办理中"]
    header += [name for _, name in indicators]
    header += ["舆情处置得分", "舆情处置满分", "特别加分", "特别减分", "日常考核", "直接归零", "未录入人工指标"]
    table: list[list[Any]] = []
    for row in rows:
        points = {i["code"]: i["points"] for i in row["indicators"]}
        opinion = row.get("opinion") or {}
        line: list[Any] = [
            KIND_NAMES.get(row["unit"]["kind"], row["unit"]["kind"]),
            row["rank"],
            row["unit"]["name"],
            row["total"],
            row["grade"] or "",
            row["opinion_points"],
            row["opinion_max"],
            opinion.get("rank"),
            row["unit"]["code"],
            row["incidents"],
        ]
        for key in WINDOW_KEYS:
            line += [row["windows"][key][s] for s in STATE_COLUMNS]
        referrals = row.get("referrals") or {}
        line += [referrals.get(s, 0) for s in STATE_COLUMNS]
        line += [points.get(code) for code, _ in indicators]
        special = row.get("special") or {}
        line += [
            row["opinion_points"],
            row["opinion_max"],
            special.get("bonus", 0.0),
            special.get("penalty", 0.0),
            (row.get("daily") or {}).get("points", 0.0),
            "是" if row.get("zeroed") else "",
            len(row.get("missing_manual") or []),
        ]
        table.append(line)
    return header, table


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return number(value)
    if isinstance(value, int):
        return str(value)
    text = ILLEGAL.sub("", str(value))
    # A cell that starts like a formula is text, not a formula, when Excel or WPS opens it.
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(results: Sequence[UnitScore] | Sequence[dict[str, Any]]) -> bytes:
    """The summary as CSV: UTF-8 with BOM (so Excel and WPS read the Chinese), CRLF line ends."""
    header, table = summary_table(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for line in table:
        writer.writerow([_csv_cell(v) for v in line])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# -- xlsx -----------------------------------------------------------------------------------------
# Every workbook is written by yuqing.workbook, streamed sheet after sheet (see there and README).
def new_workbook() -> Book:
    return Book()


def write_table(book: Book, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
                widths: dict[int, int] | None = None) -> int:
    """A sheet with a bold frozen header row, a filter over the table, readable column widths and the
    print setup; `rows` may be a generator (they are written as they come). Returns the number of rows."""
    return book.add_table(title, header, rows, widths=dict(widths or {}))


def workbook_bytes(book: Book) -> bytes:
    return book.close()


def timeliness_rows(rows: list[dict[str, Any]], details: Sequence[ScoredIncident]) -> tuple[list[str], Iterator[list[Any]]]:
    """One row per applicable window of every incident of the results' year; an incident without any
    applicable window (voided) still gets one row, so every incident appears. The rows are generated
    as the sheet is written (a year has hundreds of thousands)."""
    names = {r["unit"]["code"]: r["unit"]["name"] for r in rows}
    years = {r.get("year") for r in rows} - {None}
    header = ["舆情编号", "标题", "牵头单位", "协办单位", "开始时间", "级别", "突发", "重点舆情", "已作废",
              "时限", "时限（小时）", "应完成时间", "完成时间", "状态", "超时（小时）", "改判前已超时", "计入单位"]

    def generate() -> Iterator[list[Any]]:
        for incident in sorted(details, key=lambda i: (i.started_at, i.id)):
            if years and incident.started_at.astimezone(UTC8).year not in years:
                continue
            head = [
                incident.id,
                incident.title,
                names.get(incident.unit_code, incident.unit_code),
                "、".join(names.get(c, c) for c in incident.co_unit_codes),
                incident.started_at,
                incident.level or "",
                "" if incident.sudden is None else incident.sudden,
                incident.flagged,
                incident.voided,
            ]
            windows = [w for w in incident.verdict.windows if w.applicable]
            if not windows:
                yield head + ["", None, None, None, STATE_NAMES["not_applicable"], None, False, None]
            for w in windows:
                yield head + [
                    WINDOW_NAMES.get(w.key, w.key),
                    w.hours,
                    w.due_at,
                    w.satisfied_at,
                    STATE_NAMES.get(w.state, w.state),
                    round(w.overdue_seconds / 3600, 2) if w.overdue_seconds else None,
                    w.past_due_at_reclassification,
                    # After a transfer the window counts for the unit that led when it fell due.
                    names.get(incident.window_unit(w), incident.window_unit(w)),
                ]

    return header, generate()


def deduction_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    header = ["单位代码", "单位名称", "指标代码", "指标", "扣分项编号", "舆情编号", "时限", "规则", "扣分",
              "重点舆情", "申诉已撤销", "依据"]
    table: list[list[Any]] = []
    for row in rows:
        for indicator in row["indicators"]:
            for d in indicator["deductions"]:
                table.append([
                    row["unit"]["code"], row["unit"]["name"], indicator["code"], indicator["name"], d["key"],
                    d["incident_id"], WINDOW_NAMES.get(d["window"], "") if d["window"] else "", rule_name(d["rule"]),
                    d["points"], d.get("flagged", False), d.get("overturned", False), d["evidence"],
                ])
    return header, table


def adjustment_rows(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    header = ["单位代码", "单位名称", "类型", "项目或指标", "分值", "日期", "依据或事由"]
    table: list[list[Any]] = []
    for row in rows:
        code, name = row["unit"]["code"], row["unit"]["name"]
        indicator_names = {i["code"]: i["name"] for i in row["indicators"]}
        for item in (row.get("special") or {}).get("items", []):
            sign = 1 if item["kind"] == "bonus" else -1
            kind = "特别加分" if item["kind"] == "bonus" else "特别减分"
            table.append([code, name, kind, item["name"], sign * item["points"], item.get("on") or "", item["evidence"]])
        for record in (row.get("daily") or {}).get("records", []):
            target = indicator_names.get(record.get("indicator") or "", "总分")
            table.append([code, name, "日常考核", target, record["points"], record["on"], record["reason"]])
        if row.get("zeroed"):
            table.append([code, name, "直接归零", "弄虚作假", None, "", row.get("zeroing_evidence") or ""])
    return header, table


def export_xlsx(results: Sequence[UnitScore] | Sequence[dict[str, Any]], details: Sequence[ScoredIncident] = ()) -> bytes:
    """Workbook with 汇总 (ranked units), 时效明细 (every incident and window), 扣分明细 (every
    deduction with rule and evidence) and 加减分 (special items, daily records, zeroing)."""
    rows = _rows(results)
    book = new_workbook()
    write_table(book, "汇总", *summary_table(rows), widths={3: 30})
    write_table(book, "时效明细", *timeliness_rows(rows, details), widths={2: 40, 5: 20, 12: 20, 13: 20})
    write_table(book, "扣分明细", *deduction_rows(rows), widths={2: 24, 5: 28, 12: 80})
    write_table(book, "加减分", *adjustment_rows(rows), widths={2: 24, 4: 40, 7: 60})
    return workbook_bytes(book)


# -- terminal -------------------------------------------------------------------------------------
def pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def render_table(results: Sequence[UnitScore] | Sequence[dict[str, Any]]) -> str:
    """Plain-text ranking for the terminal, departments and counties as separate blocks; columns
    line up with Chinese text (wide characters count double)."""
    rows = _rows(results)
    header = ["排名", "单位", "舆情", "回应 按时/逾期/超时/进行中", "舆情处置", "舆情回应排名", "特别项", "总分", "等次"]
    numeric = {0, 2, 4, 5, 6, 7}
    blocks: list[str] = []
    for kind, title in KIND_NAMES.items():
        group = [r for r in rows if r["unit"]["kind"] == kind]
        if not group:
            continue
        lines: list[list[str]] = []
        for r in group:
            w = r["windows"]["response"]
            special = r.get("special") or {}
            net = (special.get("bonus") or 0.0) - (special.get("penalty") or 0.0)
            lines.append([
                str(r["rank"]) if r["rank"] is not None else "—",
                r["unit"]["name"],
                str(r["incidents"]),
                f"{w['met']}/{w['late']}/{w['overdue']}/{w['open']}",
                f"{number(r['opinion_points']) or '—'}/{number(r['opinion_max'])}",
                str((r.get("opinion") or {}).get("rank") or "—"),
                (f"{net:+.2f}".rstrip("0").rstrip(".") if net else "0"),
                number(r["total"]) or "—",
                (r["grade"] or "待录入") + ("（归零）" if r.get("zeroed") else ""),
            ])
        widths = [max(display_width(x) for x in column) for column in zip(header, *lines)]
        out = [f"{title}（{len(group)} 个单位）"]
        out.append("  ".join(pad(h, widths[i], i in numeric) for i, h in enumerate(header)).rstrip())
        out.append("  ".join("-" * w for w in widths))
        for line in lines:
            out.append("  ".join(pad(x, widths[i], i in numeric) for i, x in enumerate(line)).rstrip())
        blocks.append("\n".join(out))
    return "\n\n".join(blocks) + "\n" if blocks else ""
