"""A 公文 after GB/T 9704-2012 党政机关公文格式, built with python-docx.

A4, 版心 156 mm × 225 mm (天头 37 mm, 订口 28 mm); 发文机关标志 in red 方正小标宋简体; 发文字号 and
the red separator line; title in 方正小标宋简体 二号; body in 仿宋_GB2312 三号 at 28 pt lines (22 lines
a page); 黑体 / 楷体_GB2312 headings; tables whose header rows repeat on every page; 落款, 成文日期,
版记 (印发机关, 印发日期); page numbers "— N —" in 宋体 四号. Every run names its East-Asian font, so
WPS uses the standard fonts and LibreOffice falls back to an installed CJK font.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

XIAOBIAOSONG = "方正小标宋简体"
FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
RED = RGBColor(0xFF, 0x00, 0x00)
SIZE_ER = Pt(22)  # 二号
SIZE_SAN = Pt(16)  # 三号
SIZE_SI = Pt(14)  # 四号
SIZE_XIAOSI = Pt(12)  # 小四
SIZE_WU = Pt(10.5)  # 五号
SIZE_XIAOWU = Pt(9)  # 小五
LINE = Pt(28)  # 22 lines in the 225 mm 版心


def chinese_date(day: date) -> str:
    """成文日期 in Arabic numerals, no leading zeros (GB/T 9704-2012 7.3.5.3): 2026年3月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


def set_font(run: Any, name: str, size: Pt, *, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)


def _border(paragraph: Any, side: str, *, color: str, size: int) -> None:
    """A rule under (or over) a paragraph: the 红色分隔线 and the 版记 lines. size in eighths of a point."""
    pPr = paragraph._p.get_or_add_pPr()
    borders = pPr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        pPr.append(borders)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size))
    line.set(qn("w:space"), "1")
    line.set(qn("w:color"), color)
    borders.append(line)


class Gongwen:
    """One 公文 being written, top to bottom: head → title → 主送 → body … → 落款 → 版记."""

    def __init__(self, *, landscape: bool = False) -> None:
        self.doc = Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Mm(297), Mm(210)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance, section.footer_distance = Mm(15), Mm(20)
        normal = self.doc.styles["Normal"]
        set_font(normal, FANGSONG, SIZE_SAN)
        fmt = normal.paragraph_format
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, LINE
        fmt.space_before = fmt.space_after = Pt(0)
        self._page_numbers(section)

    # -- parts ------------------------------------------------------------------------------------
    def _paragraph(self, text: str = "", *, font: str = FANGSONG, size: Pt = SIZE_SAN, align: Any = None,
                   indent: bool = False, bold: bool = False, color: RGBColor | None = None) -> Any:
        paragraph = self.doc.add_paragraph()
        if align is not None:
            paragraph.alignment = align
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(size.pt * 2)  # 首行缩进二字
        if text:
            set_font(paragraph.add_run(text), font, size, bold=bold, color=color)
        return paragraph

    def _page_numbers(self, section: Any) -> None:
        """页码 (GB/T 9704-2012 7.5): 4号半角宋体阿拉伯数字 with a dash each side ("— 1 —"); 单页码居右空一字,
        双页码居左空一字, so odd and even pages get footers of their own."""
        self.doc.settings.odd_and_even_pages_header_footer = True
        one_character = SIZE_SI
        odd = section.footer.paragraphs[0]
        odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        odd.paragraph_format.right_indent = one_character
        even = section.even_page_footer.paragraphs[0]
        even.alignment = WD_ALIGN_PARAGRAPH.LEFT
        even.paragraph_format.left_indent = one_character
        for paragraph in (odd, even):
            set_font(paragraph.add_run("— "), SONGTI, SIZE_SI)
            run = paragraph.add_run()
            set_font(run, SONGTI, SIZE_SI)
            for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
                if kind:
                    element = OxmlElement("w:fldChar")
                    element.set(qn("w:fldCharType"), kind)
                else:
                    element = OxmlElement("w:instrText")
                    element.set(qn("xml:space"), "preserve")
                    element.text = text
                run._r.append(element)
            set_font(paragraph.add_run(" —"), SONGTI, SIZE_SI)

    def head(self, office: str, doc_number: str | None) -> None:
        """版头: red 发文机关标志 + “文件”-less form used for 通报 of an office, 发文字号, red line."""
        self._paragraph()
        mark = self._paragraph(office, font=XIAOBIAOSONG, size=Pt(26) if len(office) > 12 else Pt(36),
                               align=WD_ALIGN_PARAGRAPH.CENTER, color=RED)
        mark.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        self._paragraph()
        number = self._paragraph(doc_number or "", align=WD_ALIGN_PARAGRAPH.CENTER)
        _border(number, "bottom", color="FF0000", size=12)
        self._paragraph()

    def title(self, text: str) -> None:
        self._paragraph(text, font=XIAOBIAOSONG, size=SIZE_ER, align=WD_ALIGN_PARAGRAPH.CENTER)
        self._paragraph()

    def blank(self) -> None:
        self._paragraph()

    def centered(self, text: str, *, font: str = FANGSONG, size: Pt = SIZE_SAN) -> None:
        """A centred line: a subtitle under the title, a hash on a line of its own."""
        self._paragraph(text, font=font, size=size, align=WD_ALIGN_PARAGRAPH.CENTER)

    def addressee(self, text: str) -> None:
        self._paragraph(text)

    def text(self, text: str, *, keep_with_next: bool = False) -> None:
        paragraph = self._paragraph(text, indent=True)
        if keep_with_next:
            paragraph.paragraph_format.keep_with_next = True

    def heading(self, text: str, level: int = 1) -> None:
        """一、 in 黑体; （一） in 楷体_GB2312 (GB/T 9704-2012 7.3.3)."""
        heading = self._paragraph(text, font=HEITI if level == 1 else KAITI, indent=True)
        heading.paragraph_format.keep_with_next = True  # never the last line of a page

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], *, widths: Sequence[float] | None = None,
              size: Pt = SIZE_XIAOSI) -> Any:
        """A bordered table; the header row repeats at the top of every page it runs onto."""
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        head = table.rows[0]
        trPr = head._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        trPr.append(repeat)
        for cell, name in zip(head.cells, header):
            self._cell(cell, str(name), HEITI, size)
        for line in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, line):
                self._cell(cell, "" if value is None else str(value), FANGSONG, size)
        if widths:
            # LibreOffice reads the grid (w:gridCol), Word the cells (w:tcW): set both, autofit off.
            table.autofit = False
            for column, width in zip(table.columns, widths):
                column.width = Mm(width)
            for row in table.rows:
                for cell, width in zip(row.cells, widths):
                    cell.width = Mm(width)
        for row in table.rows:
            split = OxmlElement("w:cantSplit")
            row._tr.get_or_add_trPr().append(split)
        self._paragraph()
        return table

    @staticmethod
    def _cell(cell: Any, text: str, font: str, size: Pt) -> None:
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        set_font(paragraph.add_run(text), font, size)

    def signature(self, office: str, day: date) -> None:
        """落款 and 成文日期, right-aligned with four characters to the right (右空四字)."""
        self._paragraph()
        self._paragraph()
        for text in (office, chinese_date(day)):
            p = self._paragraph(text, align=WD_ALIGN_PARAGRAPH.RIGHT)
            p.paragraph_format.right_indent = Pt(SIZE_SAN.pt * 4)

    def imprint(self, office: str, day: date) -> None:
        """版记: 印发机关 left, 印发日期 right, between the first (thick) and last (thick) rules, 四号 仿宋."""
        self._paragraph()
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.LEFT)
        p.paragraph_format.left_indent = Pt(SIZE_SI.pt)
        p.paragraph_format.right_indent = Pt(SIZE_SI.pt)
        _border(p, "top", color="000000", size=8)
        _border(p, "bottom", color="000000", size=8)
        set_font(p.add_run(office), FANGSONG, SIZE_SI)
        p.add_run("\t")
        set_font(p.add_run(f"{chinese_date(day)}印发"), FANGSONG, SIZE_SI)
        stop = Mm(156 - 2 * 5)
        p.paragraph_format.tab_stops.add_tab_stop(stop, alignment=WD_TAB_ALIGNMENT.RIGHT)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()
