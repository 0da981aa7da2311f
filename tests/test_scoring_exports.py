"""Exports, bytes out: CSV with BOM, the xlsx workbook read back, the terminal table, LibreOffice."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from test_scoring_factories import NOW, SCHEME, act, bj, county, daily, dept, full_manual, incident

from scoring.assessment import score_year
from scoring.facts import SpecialItem
from scoring.results import as_json
from yuqing.exports import display_width, export_csv, export_xlsx, render_table

UNITS = [dept("fgw", "三门峡市发展和改革委员会"), dept("jyj", "三门峡市教育局"), county("lbs", "灵宝市")]


@pytest.fixture(scope="module")
def scored():
    incidents = [
        incident(1, "fgw", start=bj(2026, 6, 10, 9), actions=[act("response", 30)], title="=1+1 看起来像公式"),
        incident(2, "fgw", start=bj(2026, 7, 1, 9), level="重大", actions=[act("release", 6, ("website", "weibo"))]),
        incident(3, "lbs", start=bj(2026, 8, 1, 9), actions=[act("response", 2, ("website",))]),
        incident(4, "jyj", start=bj(2026, 9, 1, 9), voided=True, title="误报"),
        incident(5, "jyj", start=bj(2025, 12, 1, 9), title="去年的舆情"),
    ]
    manual = [m for u in UNITS for m in full_manual(SCHEME, u, 0.9)][:-1]  # 灵宝市 misses one manual score
    results = score_year(
        SCHEME, UNITS, 2026, incidents, manual=manual,
        specials=[SpecialItem("fgw", 2026, "bonus.media", None, "人民日报正面报道", date(2026, 5, 20))],
        daily=[daily("jyj", date(2026, 4, 1), -0.5, "未按时报送材料", id=3)],
        now=NOW,
    )
    return results, incidents


def test_csv_starts_with_a_bom_and_has_chinese_headers(scored):
    results, _ = scored
    data = export_csv(results)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for column in ("类别", "排名", "单位名称", "舆情数", "时效性", "舆情处置得分", "总分", "等次"):
        assert column in header
    by_name = {r[header.index("单位名称")]: r for r in rows[1:]}
    fgw = by_name["三门峡市发展和改革委员会"]
    assert (fgw[header.index("排名")], fgw[header.index("总分")], fgw[header.index("等次")]) == ("2", "88", "良好")
    assert fgw[header.index("特别加分")] == "1" and fgw[header.index("回应·逾期完成")] == "1"
    assert by_name["灵宝市"][header.index("总分")] == ""  # manual score missing → no total


def test_csv_accepts_the_json_shape_too(scored):
    results, _ = scored
    assert export_csv(as_json(results)) == export_csv(results)


def test_csv_cells_that_look_like_formulas_are_quoted_as_text():
    from yuqing.exports import _csv_cell

    assert _csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _csv_cell("@SUM") == "'@SUM"
    assert _csv_cell(-2.5) == "-2.5"


def test_xlsx_round_trip_has_the_four_sheets_with_beijing_times(scored):
    results, incidents = scored
    book = load_workbook(io.BytesIO(export_xlsx(results, incidents)))
    assert book.sheetnames == ["汇总", "时效明细", "扣分明细", "加减分"]

    summary = list(book["汇总"].iter_rows(values_only=True))
    header = summary[0]
    first, second = (dict(zip(header, row)) for row in summary[1:3])
    assert (first["单位名称"], first["排名"], first["总分"], first["等次"]) == ("三门峡市教育局", 1, 91, "优秀")
    assert (second["单位名称"], second["排名"], second["总分"], second["等次"]) == ("三门峡市发展和改革委员会", 2, 88, "良好")

    detail = list(book["时效明细"].iter_rows(values_only=True))
    columns = detail[0]
    rows = [dict(zip(columns, r)) for r in detail[1:]]
    assert {r["舆情编号"] for r in rows} == {1, 2, 3, 4}  # the 2025 incident is not in the 2026 sheet
    one = next(r for r in rows if r["舆情编号"] == 1)
    assert one["开始时间"] == datetime(2026, 6, 10, 9, 0) and one["开始时间"].tzinfo is None
    assert one["应完成时间"] == datetime(2026, 6, 11, 9, 0)
    assert one["状态"] == "逾期完成" and one["时限"] == "回应"
    assert one["标题"] == "=1+1 看起来像公式"  # text, not a formula
    voided = next(r for r in rows if r["舆情编号"] == 4)
    assert voided["已作废"] == "是" and voided["状态"] == "不适用"
    assert {r["状态"] for r in rows} >= {"逾期完成", "已超时"}

    deduction_rows = list(book["扣分明细"].iter_rows(values_only=True))
    deductions = [dict(zip(deduction_rows[0], r)) for r in deduction_rows[1:]]
    keys = {d["扣分项编号"] for d in deductions}
    assert {"1:response:late", "2:release:late", "2:press_conference:overdue", "2:-:no_principal"} <= keys
    late = next(d for d in deductions if d["扣分项编号"] == "1:response:late")
    assert late["规则"] == "逾期完成" and late["扣分"] == 0.5 and "2026-06-11 09:00:00" in late["依据"]

    adjustments = list(book["加减分"].iter_rows(values_only=True))
    kinds = {r[2] for r in adjustments[1:]}
    assert kinds == {"特别加分", "日常考核"}


def test_every_exported_sheet_prints_landscape_one_page_wide_with_repeated_header(scored):
    results, incidents = scored
    book = load_workbook(io.BytesIO(export_xlsx(results, incidents)))
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
        # fitToWidth defaults to 1 in OOXML (ECMA-376 §18.3.1.64): a writer may leave the default out.
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and (sheet.page_setup.fitToWidth or 1) == 1
        assert sheet.page_setup.fitToHeight == 0 and sheet.print_title_rows == "$1:$1"
        assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text
    header = next(book["汇总"].iter_rows(values_only=True))
    assert header[:8] == ("类别", "排名", "单位名称", "总分", "等次", "舆情回应得分", "舆情回应满分", "舆情回应排名")


def test_render_table_lines_up_chinese_columns(scored):
    results, _ = scored
    text = render_table(results)
    assert text.index("市政府部门") < text.index("县（市、区）")
    assert "待录入" in text  # 灵宝市 has no total yet
    block = text.split("\n\n")[0].splitlines()
    header, rule, *rows = block[1:]
    widths = [len(part) for part in rule.split("  ")]
    # every row ends its 总分 column at the same display position as the rule line
    total_end = sum(widths[:7]) + 2 * 6
    for line in rows:
        prefix = ""
        for ch in line:
            if display_width(prefix) >= total_end:
                break
            prefix += ch
        assert display_width(prefix) == total_end


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice (soffice/libreoffice) is not on PATH; CI installs it")
def test_xlsx_opens_in_headless_libreoffice(scored, tmp_path):
    results, incidents = scored
    source = tmp_path / "scores.xlsx"
    source.write_bytes(export_xlsx(results, incidents))
    profile = tmp_path / "profile"
    completed = subprocess.run(
        [_soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=180,
    )
    converted = tmp_path / "scores.csv"
    assert completed.returncode == 0, completed.stderr
    assert converted.exists(), completed.stdout + completed.stderr
    text = converted.read_text(encoding="utf-8")
    assert "三门峡市发展和改革委员会" in text and "总分" in text
