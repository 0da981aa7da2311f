"""Documents the office publishes, on the realistic 2025 year of test_score_cli: the quarterly 通报 and
the 通报批评 as 公文 (GB/T 9704-2012), their PDF through LibreOffice, and the public ranking."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from tests.cliutil import error_code, yq
from tests.test_score_cli import NOW, YEAR, build_year, ok
from yuqing.db.session import Database

OFFICE = "三门峡市政务公开领导小组办公室"
NUMBER = "三政公开办〔2026〕3号"
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                                   reason="LibreOffice (soffice) or pdftotext is not installed")


@pytest.fixture
def year(database: Database, db_url: str, tmp_path: Path) -> tuple[str, dict[str, int]]:
    return db_url, build_year(database, db_url, tmp_path)


def east_asia(run) -> str | None:  # noqa: ANN001
    fonts = run._element.rPr.rFonts if run._element.rPr is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def paragraphs(doc) -> list:  # noqa: ANN001
    return [p for p in doc.paragraphs if p.text.strip()]


def pdf_text(path: Path, *layout: str) -> tuple[str, int]:
    text = subprocess.run(["pdftotext", *layout, str(path), "-"], capture_output=True, text=True, timeout=60).stdout
    return text, text.count("\f") or 1


def test_bulletin_docx_has_the_parts_of_a_gongwen(year, tmp_path):
    url, _ = year
    out = tmp_path / "通报.docx"
    ok(yq(url, "bulletin", "--year", str(YEAR), "--quarter", "4", "--now", NOW, "--format", "docx",
          "--doc-number", NUMBER, "--out", str(out)))
    doc = Document(str(out))
    section = doc.sections[0]
    def mm(value) -> float:  # noqa: ANN001 - stored in twips, so compare to a tenth of a millimetre
        return round(value / 36000, 1)  # EMU per millimetre

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert (mm(section.top_margin), mm(section.left_margin)) == (37, 28)
    assert mm(section.page_width - section.left_margin - section.right_margin) == 156  # 版心 156 mm
    assert mm(section.page_height - section.top_margin - section.bottom_margin) == 225
    lines = paragraphs(doc)
    mark, number, title, addressee = lines[:4]
    assert mark.text == OFFICE and mark.runs[0].font.color.rgb == (0xFF, 0x00, 0x00)
    assert east_asia(mark.runs[0]) == "方正小标宋简体"
    assert number.text == NUMBER
    rule = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "FF0000"  # the red separator line under the 文号
    assert title.text == f"关于{YEAR}年第4季度政务舆情回应处置情况的通报" and east_asia(title.runs[0]) == "方正小标宋简体"
    assert addressee.text.endswith("：")
    fonts = {east_asia(r) for p in doc.paragraphs for r in p.runs} - {None}
    assert {"方正小标宋简体", "仿宋_GB2312", "黑体"} <= fonts
    assert all(r.font.name == east_asia(r) for p in doc.paragraphs for r in p.runs if east_asia(r))
    overview = doc.tables[0]
    assert overview.rows[0].cells[1].text == "单位"
    assert overview.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeated on every page
    names = {row.cells[1].text for row in overview.rows[1:]}
    assert {"灵宝市人民政府", "卢氏县人民政府", "三门峡市发展和改革委员会"} <= names
    texts = [p.text for p in lines]
    sign = texts.index(OFFICE, 1)
    assert re.fullmatch(r"2026年1月31日", texts[sign + 1])  # 成文日期, Arabic numerals, no leading zero
    assert texts[-1].startswith(OFFICE) and texts[-1].endswith("2026年1月31日印发")  # 版记
    assert any("通报批评" in t for t in texts) and any("卢氏县人民政府" in t and "弄虚作假" in t for t in texts)
    # 页码: odd pages on the right, even pages on the left, one character in from the edge, "— N —".
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, side in ((section.footer, "right"), (section.even_page_footer, "left")):
        page = footer.paragraphs[0]
        assert page.alignment == {"right": 2, "left": 0}[side]  # WD_ALIGN_PARAGRAPH.RIGHT / LEFT
        assert getattr(page.paragraph_format, f"{side}_indent").pt == 14  # 一字 of 4号 (14 pt)
        assert page.text == "—  —" and "PAGE" in page._p.xml and east_asia(page.runs[1]) == "宋体"


def test_criticism_of_a_zeroed_unit_comes_from_the_same_template(year, tmp_path):
    url, _ = year
    out = tmp_path / "通报批评.docx"
    ok(yq(url, "bulletin", "--year", str(YEAR), "--quarter", "4", "--now", NOW, "--format", "docx",
          "--criticism", "卢氏县", "--doc-number", "三政公开办〔2026〕4号", "--out", str(out)))
    texts = [p.text for p in paragraphs(Document(str(out)))]
    assert texts[0] == OFFICE and texts[1] == "三政公开办〔2026〕4号"
    assert texts[2] == "关于对卢氏县人民政府弄虚作假问题的通报批评"
    assert any("第十六条" in t and "自查材料弄虚作假" in t and "不合格" in t for t in texts)
    refused = yq(url, "bulletin", "--year", str(YEAR), "--quarter", "4", "--now", NOW, "--format", "docx",
                 "--criticism", "灵宝市", "--out", str(tmp_path / "x.docx"))
    assert refused.code == 1 and error_code(refused) == "E_CRITICISM_NONE"
    assert not (tmp_path / "x.docx").exists()


def test_pdf_without_libreoffice_says_so_plainly(year, tmp_path, monkeypatch):
    url, _ = year
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where soffice is not installed
    result = yq(url, "bulletin", "--year", str(YEAR), "--quarter", "4", "--now", NOW, "--format", "pdf",
                "--out", str(tmp_path / "b.pdf"))
    assert result.code == 1 and error_code(result) == "E_PDF_NO_LIBREOFFICE" and "LibreOffice" in result.err
    assert not (tmp_path / "b.pdf").exists()


@needs_soffice
def test_bulletin_pdf_carries_every_unit_on_a_sane_number_of_pages(year, tmp_path):
    url, _ = year
    out = tmp_path / "通报.pdf"
    ok(yq(url, "bulletin", "--year", str(YEAR), "--quarter", "4", "--now", NOW, "--format", "pdf",
          "--doc-number", NUMBER, "--out", str(out)))
    assert out.read_bytes().startswith(b"%PDF")
    text, pages = pdf_text(out)
    flat = re.sub(r"\s+", "", text)
    units = ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--format", "json")).json()
    for unit in units:
        assert unit["unit"]["name"] in flat, unit["unit"]["name"]
    assert OFFICE in flat and "三政公开办〔2026〕3号" in flat
    assert 2 <= pages <= 12


def public_rows(url: str) -> list[dict]:
    return ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--format", "json")).json()


def assert_public(text: str, rows: list[dict]) -> None:
    """Every unit with its total; nothing internal: no deductions, evidence, notes or unit codes."""
    for r in rows:
        assert r["unit"]["name"] in text
    for word in ("扣分", "自查材料弄虚作假", "自评材料齐全", "依据", "lingbao", "fgw", "证据"):
        assert word not in text, word


def test_public_ranking_in_three_formats_holds_only_the_five_columns(year, tmp_path):
    url, _ = year
    rows = public_rows(url)
    paths = {}
    for fmt in ("xlsx", "docx", "html"):
        paths[fmt] = tmp_path / f"公开.{fmt}"
        ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--public", "--format", fmt, "--out", str(paths[fmt])))

    book = load_workbook(paths["xlsx"])
    assert book.sheetnames == ["市政府部门", "县（市、区）"]
    cells = []
    for sheet in book.worksheets:
        table = list(sheet.iter_rows(values_only=True))
        assert table[0] == ("类别", "名次", "单位", "总分", "等次")
        assert [r[1] for r in table[1:]] == sorted(r[1] for r in table[1:])
        cells += [str(c) for r in table for c in r]
    assert_public(" ".join(cells), rows)
    luoshi = next(r for r in rows if r["unit"]["code"] == "lushi")
    assert luoshi["total"] == 0 and luoshi["grade"] == "不合格"

    doc = Document(str(paths["docx"]))
    assert len(doc.tables) == 2
    assert [c.text for c in doc.tables[0].rows[0].cells] == ["类别", "名次", "单位", "总分", "等次"]
    text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells])
    assert_public(text, rows)

    page = paths["html"].read_text(encoding="utf-8")
    assert page.count("<table>") == 2 and 'name="viewport"' in page
    assert not re.search(r"<script|<link|src=|href=|https?://|@import|url\(", page, re.IGNORECASE)
    assert_public(page, rows)
    for r in rows:
        assert f"<td>{r['total']:g}</td>" in page or f"<td>{r['total']}</td>" in page


@needs_soffice
def test_public_ranking_pdf_shows_every_unit_and_total(year, tmp_path):
    url, _ = year
    docx = tmp_path / "公开.docx"
    ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--public", "--format", "docx", "--out", str(docx)))
    from yuqing.documents.pdf import to_pdf

    pdf = tmp_path / "公开.pdf"
    pdf.write_bytes(to_pdf(docx.read_bytes()))
    text, pages = pdf_text(pdf, "-layout")
    flat = re.sub(r"\s+", "", text)
    for r in public_rows(url):
        assert r["unit"]["name"] in flat
        assert re.search(re.escape(r["unit"]["name"]) + r"\s+" + re.escape(f"{r['total']:g}"), text), r["unit"]["name"]
    assert 1 <= pages <= 6


@pytest.mark.parametrize("extra", [("--format", "json"), ("--format", "table"), ("--format", "xlsx", "--unit", "灵宝"),
                                   ("--format", "html", "--freeze")])
def test_public_refuses_what_it_cannot_do(year, extra, tmp_path):
    url, _ = year
    result = yq(url, "score", "--year", str(YEAR), "--now", NOW, "--public", *extra, "--out", str(tmp_path / "x"))
    assert result.code == 2


def test_public_ranking_refused_while_manual_scores_are_missing(database, db_url, tmp_path):
    result = yq(db_url, "score", "--year", str(YEAR), "--now", NOW, "--public", "--format", "html")
    assert result.code == 1 and error_code(result) == "E_PUBLIC_INCOMPLETE"


def test_score_sheet_round_trips_to_the_same_scores(year, tmp_path):
    """export → the 考核组 fills it (by Chinese names) → import → the same totals as the CSV import gave."""
    url, _ = year
    before = {r["unit"]["code"]: (r["total"], r["grade"]) for r in public_rows(url)}
    sheet = tmp_path / "评分表.xlsx"
    ok(yq(url, "manual-score", "template", "--year", str(YEAR), "--out", str(sheet)))
    book = load_workbook(sheet)
    assert book.sheetnames == ["市政府部门", "县（市、区）"]
    current = {}
    for r in ok(yq(url, "score", "--year", str(YEAR), "--now", NOW, "--format", "json")).json():
        for i in r["indicators"]:
            if i["source"] == "manual":
                current[(r["unit"]["name"], i["name"])] = i["points"]
    for ws in book.worksheets:
        rows = list(ws.iter_rows())
        assert [c.value for c in rows[0]] == ["单位", "指标", "满分", "得分", "说明"]
        assert ws.print_title_rows == "$1:$1" and ws.page_setup.orientation == "landscape"
        for cells in rows[1:]:
            assert cells[3].value is None and isinstance(cells[2].value, (int, float))
            cells[3].value = current[(cells[0].value, cells[1].value)]
            cells[4].value = "考核组复核"
    book.save(sheet)
    # Wipe the scores to zero first, so the import is what restores them.
    zero = tmp_path / "zero.csv"
    zero.write_text("unit,indicator,points,note\n" + "".join(
        f"{u},{i},0,清零\n" for (u, i) in current), encoding="utf-8")
    ok(yq(url, "manual-score", "import", str(zero), "--year", str(YEAR)))
    assert {r["unit"]["code"]: (r["total"], r["grade"]) for r in public_rows(url)} != before
    result = ok(yq(url, "manual-score", "import", str(sheet), "--year", str(YEAR)))
    assert str(len(current)) in result.out
    assert {r["unit"]["code"]: (r["total"], r["grade"]) for r in public_rows(url)} == before


def test_score_sheet_import_refuses_row_by_row_and_writes_nothing(year, tmp_path):
    url, _ = year
    before = public_rows(url)
    sheet = tmp_path / "评分表.xlsx"
    ok(yq(url, "manual-score", "template", "--year", str(YEAR), "--out", str(sheet)))
    book = load_workbook(sheet)
    ws = book["市政府部门"]
    ws.cell(2, 4, 0.5)  # fits
    ws.cell(3, 4, 999)  # above the maximum
    ws.cell(4, 2, "不存在的指标")
    ws.cell(4, 4, 1)
    ws.cell(5, 1, "不存在的单位")
    ws.cell(5, 4, 1)
    book.save(sheet)
    result = yq(url, "manual-score", "import", str(sheet), "--year", str(YEAR))
    assert result.code == 1 and error_code(result) == "E_MANUAL_IMPORT_ROWS"
    assert all(f"第 {n} 行" in result.err for n in (3, 4, 5)) and "第 2 行" not in result.err
    assert public_rows(url) == before
