"""The xlsx writer behind every exported workbook: sheets of one table each (a bold header row, then
rows), streamed — each sheet's rows go to a temporary file as they come, so a year of 100 000
incidents never sits in memory — and printable (A4 landscape, one page wide, header repeated, page
numbers). SpreadsheetML written directly: xlsxwriter's per-cell cost (≈ 8.5 µs, bench/export_speed.py)
made `score --format xlsx` of a year more than twice `--format json`; this writer is ≈ 1.6 µs.
"""

from __future__ import annotations

import io
import math
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from scoring.wallclock import UTC8

# Characters XML 1.0 cannot carry (and lone surrogates, which UTF-8 cannot) are dropped: an escape
# such as _x0001_ would be shown literally by readers.
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_TEXT = 32_767  # characters in a cell (Excel's limit; longer text is cut)
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1.0 is 1900-01-01 for every date after 1900-02-28
_EXCEL_EPOCH_BEIJING = _EXCEL_EPOCH.replace(tzinfo=UTC8)
_CHUNK_ROWS = 2_000

# Cell styles, by their index in styles.xml's cellXfs.
_HEADER, _DATETIME, _DATE = 1, 2, 3

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def stored_width(characters: float) -> float:
    """A width in characters of the default font as Excel stores it (7-pixel digits, 5 pixels of
    padding), so the column shows `characters` digits."""
    pixels = int(characters * 7 + 0.5) + 5
    return int(pixels / 7 * 256) / 256


def _text_cell(ref: str, text: str) -> str:
    if not text.isprintable():
        text = ILLEGAL.sub("", text)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    if not text:
        return ""
    if "&" in text or "<" in text or ">" in text:
        text = escape(text)
    if "\r" in text:
        text = text.replace("\r", "&#13;")  # a literal CR would be read back as LF (XML end-of-line handling)
    space = ' xml:space="preserve"' if text[0] in " \t\n\r" or text[-1] in " \t\n\r" else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def serial(value: datetime | date) -> float:
    """Excel's serial day number; an aware datetime as Beijing wall time, to the second."""
    if isinstance(value, datetime):
        delta = value - (_EXCEL_EPOCH if value.tzinfo is None else _EXCEL_EPOCH_BEIJING)
        return delta.days + delta.seconds / 86400
    return float((value - _EXCEL_EPOCH.date()).days)


def _number_cell(ref: str, value: float | int | Decimal) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"单元格 {ref} 的数值无效：{value}")
    return f'<c r="{ref}"><v>{value!r}</v></c>' if isinstance(value, float) else f'<c r="{ref}"><v>{value}</v></c>'


def cell(ref: str, value: Any) -> str:
    """One <c> element: text stays text (never a formula or a link), booleans read 是/否, an aware
    datetime is written as Beijing wall time to the second, None is no cell at all."""
    kind = value.__class__
    if kind is str:
        return _text_cell(ref, value)
    if value is None:
        return ""
    if kind is bool:
        return _text_cell(ref, "是" if value else "否")
    if kind is int or kind is float or isinstance(value, int | float | Decimal):
        return _number_cell(ref, value)
    if isinstance(value, datetime):
        return f'<c r="{ref}" s="{_DATETIME}"><v>{serial(value)!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="{_DATE}"><v>{serial(value)!r}</v></c>'
    if isinstance(value, timedelta):
        return _number_cell(ref, value.total_seconds() / 86400)
    return _text_cell(ref, str(value))


class _Sheet:
    __slots__ = ("title", "columns", "rows")

    def __init__(self, title: str, columns: int, rows: int) -> None:
        self.title, self.columns, self.rows = title, columns, rows

    @property
    def quoted(self) -> str:
        return "'" + self.title.replace("'", "''") + "'"


class Book:
    """One workbook being written, sheet after sheet, into memory (the bytes of the .xlsx file)."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buffer, "w", zipfile.ZIP_DEFLATED)
        self.sheets: list[_Sheet] = []

    def add_table(
        self, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: dict[int, float] | None = None
    ) -> int:
        """A sheet named `title`: the header row (bold, wrapped, frozen, repeated on every printed
        page), then `rows` (an iterable, written as it comes), a filter over the table, column widths
        (`widths` by 1-based column, others fitted to the header). Returns the number of rows."""
        title = _sheet_name(title, [s.title for s in self.sheets])
        columns = len(header)
        if not 0 < columns <= MAX_COLUMNS:
            raise ValueError(f"工作表“{title}”的列数无效：{columns}")
        letters = [column_letters(i) for i in range(columns)]
        with tempfile.TemporaryFile() as spool:
            count = _write_rows(spool, letters, header, rows)
            spool.seek(0)
            sheet = _Sheet(title, columns, count)
            self.sheets.append(sheet)
            with self._zip.open(f"xl/worksheets/sheet{len(self.sheets)}.xml", "w") as out:
                out.write(_sheet_head(sheet, header, widths or {}, first=len(self.sheets) == 1).encode())
                shutil.copyfileobj(spool, out, 1 << 20)
                out.write(_sheet_tail(sheet).encode())
        return count

    def close(self) -> bytes:
        if not self.sheets:
            raise ValueError("工作簿没有工作表")
        parts = {
            "[Content_Types].xml": _content_types(len(self.sheets)),
            "_rels/.rels": _package_rels(),
            "xl/workbook.xml": _workbook(self.sheets),
            "xl/_rels/workbook.xml.rels": _workbook_rels(len(self.sheets)),
            "xl/styles.xml": _STYLES,
        }
        for name, text in parts.items():
            self._zip.writestr(name, text)
        self._zip.close()
        return self._buffer.getvalue()


def _sheet_name(title: str, taken: list[str]) -> str:
    if not title or len(title) > 31 or _SHEET_NAME_FORBIDDEN.search(title) or title[0] == "'" or title[-1] == "'":
        raise ValueError(f"工作表名称无效：“{title}”（1 至 31 个字符，不含 [ ] : * ? / \\，不以 ' 开头或结尾）")
    if title.casefold() in (t.casefold() for t in taken):
        raise ValueError(f"工作表名称重复：“{title}”")
    return title


def _write_rows(spool: IO[bytes], letters: list[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    head = "".join(
        f'<c r="{letters[i]}1" s="{_HEADER}" t="inlineStr"><is><t>{escape(ILLEGAL.sub("", str(name)))}</t></is></c>'
        for i, name in enumerate(header)
    )
    spool.write(f'<row r="1">{head}</row>'.encode())
    width = len(letters)
    pending: list[str] = []
    count = 0
    for count, line in enumerate(rows, start=1):
        number = count + 1
        if number > MAX_ROWS:
            raise ValueError(f"行数超过工作表上限 {MAX_ROWS}")
        if len(line) > width:
            raise ValueError(f"第 {number} 行有 {len(line)} 列，表头只有 {width} 列")
        suffix = str(number)
        pending.append(f'<row r="{suffix}">')
        for letter, value in zip(letters, line):
            kind = value.__class__
            # Blanks are no cell; the commonest cases inline, every other value through cell().
            if value is None or value == "":
                continue
            if (
                kind is str
                and value.isprintable()
                and len(value) <= MAX_TEXT
                and not ("&" in value or "<" in value or ">" in value)
                and value[0] != " "
                and value[-1] != " "
            ):
                pending.append(f'<c r="{letter}{suffix}" t="inlineStr"><is><t>{value}</t></is></c>')
            elif kind is int:
                pending.append(f'<c r="{letter}{suffix}"><v>{value}</v></c>')
            elif kind is bool:
                pending.append(f'<c r="{letter}{suffix}" t="inlineStr"><is><t>{"是" if value else "否"}</t></is></c>')
            else:
                pending.append(cell(letter + suffix, value))
        pending.append("</row>")
        if count % _CHUNK_ROWS == 0:
            spool.write("".join(pending).encode())
            pending.clear()
    spool.write("".join(pending).encode())
    return count


def _sheet_head(sheet: _Sheet, header: Sequence[str], widths: dict[int, float], *, first: bool) -> str:
    last = column_letters(sheet.columns - 1)
    cols = []
    for column, name in enumerate(header, start=1):
        width = widths.get(column) or max(8, min(40, display_width(str(name)) + 2))
        cols.append(f'<col min="{column}" max="{column}" width="{stored_width(width)}" customWidth="1"/>')
    selected = ' tabSelected="1"' if first else ""
    return (
        f'{_DECLARATION}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{last}{sheet.rows + 1}"/>'
        f'<sheetViews><sheetView{selected} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{''.join(cols)}</cols><sheetData>"
    )


def _sheet_tail(sheet: _Sheet) -> str:
    last = column_letters(sheet.columns - 1)
    autofilter = f'<autoFilter ref="A1:{last}{sheet.rows + 1}"/>' if sheet.rows else ""
    return (
        f"</sheetData>{autofilter}"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        # A4 landscape, one page wide, as many pages down as needed (fitToHeight 0).
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
        "<headerFooter><oddFooter>&amp;C第 &amp;P 页，共 &amp;N 页</oddFooter></headerFooter>"
        "</worksheet>"
    )


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal or a sheet: CJK (wide and full-width) characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _workbook(sheets: list[_Sheet]) -> str:
    entries = "".join(
        f'<sheet name={quoteattr(s.title)} sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(sheets, start=1)
    )
    names = []
    for index, s in enumerate(sheets):
        if s.rows:
            last = column_letters(s.columns - 1)
            names.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
                f"{escape(s.quoted)}!$A$1:${last}${s.rows + 1}</definedName>"
            )
        names.append(
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">{escape(s.quoted)}!$1:$1</definedName>'
        )
    return (
        f'{_DECLARATION}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{entries}</sheets><definedNames>{''.join(names)}</definedNames>"
        '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )


def _workbook_rels(count: int) -> str:
    sheet = f"{_REL}/worksheet"
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{sheet}" Target="worksheets/sheet{i}.xml"/>' for i in range(1, count + 1)
    )
    styles = f'<Relationship Id="rId{count + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
    return f'{_DECLARATION}<Relationships xmlns="{_PKG_REL}">{rels}{styles}</Relationships>'


def _package_rels() -> str:
    return (
        f'{_DECLARATION}<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )


def _content_types(count: int) -> str:
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet}"/>' for i in range(1, count + 1)
    )
    return (
        f'{_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{sheets}</Types>"
    )


# cellXfs: 0 plain, 1 the header (bold, wrapped, centred vertically), 2 date and time, 3 date.
_STYLES = (
    f'{_DECLARATION}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>'
    '<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/>'
    "</styleSheet>"
)
