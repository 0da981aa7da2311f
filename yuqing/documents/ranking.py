"""The public ranking (第十四条: results, rankings and grades published on the portal): 类别, 名次, 单位,
总分, 等次 only — departments and counties in separate tables, no deductions, notes or internal codes.
xlsx for the office, docx as a 公文 attachment, one self-contained HTML page for the portal."""
from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date

from yuqing.documents.gongwen import SIZE_XIAOSI, Gongwen, chinese_date
from yuqing.errors import YuqingError
from yuqing.exports import KIND_NAMES, new_workbook, number, workbook_bytes, write_table

PUBLIC_HEADER = ("类别", "名次", "单位", "总分", "等次")


def public_tables(rows: Sequence[dict]) -> list[tuple[str, list[list[object]]]]:
    """(类别, rows) per kind, in rank order. Refused while any unit has no total: a published ranking
    must be the complete one (manual indicators entered)."""
    missing = [r["unit"]["name"] for r in rows if r["total"] is None]
    if missing:
        raise YuqingError("E_PUBLIC_INCOMPLETE", count=len(missing), units="、".join(missing[:5])
                          + ("等" if len(missing) > 5 else ""))
    tables = []
    for kind, title in KIND_NAMES.items():
        group = sorted((r for r in rows if r["unit"]["kind"] == kind), key=lambda r: r["rank"])
        if group:
            tables.append((title, [[title, r["rank"], r["unit"]["name"], number(r["total"]), r["grade"]] for r in group]))
    return tables


def title(year: int) -> str:
    return f"{year}年度政务公开工作考核结果"


def public_xlsx(rows: Sequence[dict], year: int) -> bytes:
    book = new_workbook()
    for kind, table in public_tables(rows):
        write_table(book, kind, PUBLIC_HEADER, [[k, rank, name, float(total), grade] for k, rank, name, total, grade in table],  # type: ignore[arg-type]  # totals are numbers (public_tables keeps only complete rows)
                    widths={1: 16, 2: 8, 3: 40, 4: 10, 5: 10})
    return workbook_bytes(book)


def public_docx(rows: Sequence[dict], year: int, *, office: str, day: date, doc_number: str | None = None) -> bytes:
    tables = public_tables(rows)
    doc = Gongwen()
    doc.head(office, doc_number)
    doc.title(title(year))
    for n, (kind, table) in enumerate(tables, start=1):
        doc.heading(f"{'一二三'[n - 1]}、{kind}")
        doc.table(PUBLIC_HEADER, table, widths=(28, 14, 84, 14, 16), size=SIZE_XIAOSI)
    doc.signature(office, day)
    return doc.to_bytes()


_KIND_CLASS = ' class="kind"'
_CSS = """
body{margin:0;padding:1rem;font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
color:#222;background:#fff;line-height:1.5}
main{max-width:48rem;margin:0 auto}
h1{font-size:1.4rem;text-align:center;color:#b00;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-left:4px solid #b00;padding-left:.5rem}
table{width:100%;border-collapse:collapse;font-size:1rem}
th,td{border:1px solid #ccc;padding:.45rem .4rem;text-align:center}
th{background:#f4f4f4}
td.unit{text-align:left}
p.foot{text-align:right;margin-top:2rem}
@media (max-width:30rem){body{padding:.5rem}table{font-size:.9rem}th.kind,td.kind{display:none}}
"""


def public_html(rows: Sequence[dict], year: int, *, office: str, day: date) -> bytes:
    """One page, no scripts and no outside links: the CSS is inline, the text is escaped."""
    tables = public_tables(rows)
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(title(year))}</title><style>{_CSS}</style></head><body><main>",
             f"<h1>{e(title(year))}</h1>"]
    for kind, table in tables:
        parts.append(f"<h2>{e(kind)}</h2><table><thead><tr>")
        parts += [f'<th scope="col"{_KIND_CLASS if h == "类别" else ""}>{e(h)}</th>' for h in PUBLIC_HEADER]
        parts.append("</tr></thead><tbody>")
        for k, rank, name, total, grade in table:
            parts.append(f'<tr><td class="kind">{e(str(k))}</td><td>{rank}</td><td class="unit">{e(str(name))}</td>'
                         f"<td>{e(str(total))}</td><td>{e(str(grade))}</td></tr>")
        parts.append("</tbody></table>")
    parts.append(f'<p class="foot">{e(office)}<br>{e(chinese_date(day))}</p></main></body></html>')
    return ("\n".join(parts) + "\n").encode("utf-8")
