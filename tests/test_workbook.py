"""The xlsx writer (yuqing.workbook), read back with openpyxl: every cell type, the sheet's frame
(frozen header, filter, widths, print setup), refusals, and any text surviving the round trip."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from yuqing.workbook import ILLEGAL, MAX_TEXT, Book, column_letters, serial


def _book(*tables: tuple[str, list[str], list[list[object]]], widths: dict[int, float] | None = None) -> bytes:
    book = Book()
    for title, header, rows in tables:
        book.add_table(title, header, rows, widths=widths)
    return book.close()


def _values(data: bytes, title: str | None = None) -> list[tuple[object, ...]]:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook[title] if title else workbook.worksheets[0]
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.parametrize(
    ("value", "read_back"),
    [
        ("三门峡市教育局", "三门峡市教育局"),
        ("=1+1", "=1+1"),  # text, never a formula
        ("https://www.smx.gov.cn/", "https://www.smx.gov.cn/"),  # text, never a link
        ('A&B <c> "d"', 'A&B <c> "d"'),
        ("  两端空格  ", "  两端空格  "),
        ("第一行\n第二行", "第一行\n第二行"),
        ("回车\r换行", "回车\r换行"),
        ("控制\x01字符\x1f", "控制字符"),
        ("\x07", None),
        ("", None),
        (None, None),
        (True, "是"),
        (False, "否"),
        (0, 0),
        (-7, -7),
        (12_345_678_901, 12_345_678_901),
        (0.1, 0.1),
        (-2.5, -2.5),
        (1e-7, 1e-7),
        (Decimal("87.25"), 87.25),
        # An aware instant is Beijing wall time, to the second; a naive one is taken as it is.
        (datetime(2026, 6, 10, 1, 0, 59, 999_999, tzinfo=UTC), datetime(2026, 6, 10, 9, 0, 59)),
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), datetime(2027, 1, 1, 0, 0)),
        (datetime(2026, 6, 10, 9, 30), datetime(2026, 6, 10, 9, 30)),
        (date(2026, 3, 1), datetime(2026, 3, 1)),
    ],
)
def test_a_cell_reads_back_as_written(value, read_back):
    rows = _values(_book(("表", ["值", "后一列"], [[value, "尾"]])))
    assert rows[0] == ("值", "后一列")
    assert rows[1] == (read_back, "尾")
    if isinstance(read_back, float):
        assert type(rows[1][0]) is float


def test_dates_carry_a_date_format_and_the_header_is_bold():
    workbook = load_workbook(
        io.BytesIO(_book(("表", ["开始时间", "日期"], [[datetime(2026, 6, 10, 1, tzinfo=UTC), date(2026, 6, 10)]])))
    )
    sheet = workbook["表"]
    assert sheet["A2"].number_format == "yyyy-mm-dd hh:mm:ss" and sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["A1"].font.b and sheet["A1"].alignment.wrap_text and not sheet["A2"].font.b


def test_excel_serial_numbers_follow_the_1900_system():
    assert serial(date(1900, 3, 1)) == 61.0
    assert serial(datetime(2026, 1, 1, 12)) == 46023.5
    assert serial(datetime(2026, 1, 1, 4, tzinfo=UTC)) == 46023.5


def test_sheets_are_framed_for_reading_and_printing():
    rows = [[i, f"单位{i}", i * 0.5] for i in range(1, 51)]
    data = _book(("汇总", ["排名", "单位名称", "总分"], rows), ("空表", ["甲", "乙"], []), widths={2: 30})
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["汇总", "空表"]
    sheet = workbook["汇总"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:C51"
    assert sheet.dimensions == "A1:C51"
    assert sheet.column_dimensions["B"].width == pytest.approx(30.71, abs=0.01)  # 30 characters as Excel stores them
    assert sheet.column_dimensions["A"].width == pytest.approx(8.71, abs=0.01)  # fitted to the header, at least 8
    for each in workbook.worksheets:
        assert each.page_setup.orientation == "landscape" and each.page_setup.paperSize == 9
        assert each.sheet_properties.pageSetUpPr.fitToPage
        assert each.page_setup.fitToWidth == 1 and each.page_setup.fitToHeight == 0
        assert each.print_title_rows == "$1:$1"
        assert each.oddFooter.center.text == "第 &P 页，共 &N 页"
    empty = workbook["空表"]
    assert list(empty.iter_rows(values_only=True)) == [("甲", "乙")] and not empty.auto_filter.ref


def test_read_only_readers_see_the_dimension_and_every_row():
    data = _book(("明细", ["编号", "标题"], ([i, f"舆情{i}"] for i in range(1, 5001))))
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    sheet = workbook["明细"]
    assert (sheet.max_row, sheet.max_column) == (5001, 2)
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[-1] == (5000, "舆情5000") and len(rows) == 5001


def test_a_sheet_name_with_a_quote_inside_keeps_its_print_titles():
    data = _book(("单位's 表", ["甲"], [[1]]))
    sheet = load_workbook(io.BytesIO(data))["单位's 表"]
    assert sheet.print_title_rows == "$1:$1" and sheet.auto_filter.ref == "A1:A2"


def test_the_package_has_the_parts_excel_needs():
    with zipfile.ZipFile(io.BytesIO(_book(("甲", ["a"], [[1]]), ("乙", ["b"], [[2]])))) as package:
        assert zipfile.ZipFile.testzip(package) is None
        assert set(package.namelist()) == {
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet2.xml",
        }


@pytest.mark.parametrize("title", ["", "x" * 32, "a/b", "a:b", "[表]", "问?", "星*", "'开头", "结尾'", "反\\斜"])
def test_an_invalid_sheet_name_is_refused(title):
    with pytest.raises(ValueError, match="工作表名称无效"):
        Book().add_table(title, ["甲"], [])


def test_a_duplicate_sheet_name_is_refused_whatever_the_case():
    book = Book()
    book.add_table("Sheet", ["甲"], [])
    with pytest.raises(ValueError, match="工作表名称重复"):
        book.add_table("sheet", ["甲"], [])


def test_a_row_wider_than_its_header_is_refused():
    with pytest.raises(ValueError, match="第 3 行有 3 列"):
        Book().add_table("表", ["甲", "乙"], [[1, 2], [1, 2, 3]])


def test_text_longer_than_excel_holds_is_cut_and_nan_is_refused():
    rows = _values(_book(("表", ["长"], [["字" * (MAX_TEXT + 10)]])))
    assert rows[1][0] == "字" * MAX_TEXT
    with pytest.raises(ValueError, match="数值无效"):
        Book().add_table("表", ["值"], [[float("nan")]])


def test_an_empty_workbook_is_refused():
    with pytest.raises(ValueError, match="没有工作表"):
        Book().close()


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA"), (16_383, "XFD")],
)
def test_column_letters(index, letters):
    assert column_letters(index) == letters


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=6))
def test_any_text_round_trips_without_the_characters_xml_cannot_carry(texts):
    rows = _values(_book(("表", [f"列{i}" for i in range(len(texts) + 1)], [[*texts, "尾"]])))
    expected = (*(ILLEGAL.sub("", t) or None for t in texts), "尾")
    assert rows[1] == expected


def test_a_timedelta_is_a_number_of_days():
    assert _values(_book(("表", ["时长"], [[timedelta(hours=36)]])))[1] == (1.5,)
