"""Year exports at scale: the xlsx of a 100 000-incident year (bench/score_speed.py's synthetic year).

1. Three streaming writers on the same four tables (汇总, 时效明细, 扣分明细, 加减分, rows built once),
   all with the print setup (landscape, one page wide, header row repeated, page numbers in the
   footer): openpyxl's write-only mode (the exporter before issue 14), xlsxwriter's constant_memory
   mode (the exporter until its per-cell cost missed the ≤ 2× target) and yuqing.workbook (ours,
   SpreadsheetML written directly). Each sample runs in a forked child, so its peak RSS is its own
   (the parent's loaded year is the same base for all; a child that writes nothing gives that base).
2. The whole command: `yuqing score --format xlsx` against `yuqing score --format json` on the same
   year, each a fresh process (CPU time and peak RSS from wait4), target ≤ 2×.
Samples interleave (A, B, C, A, B, C, …), at least 3 per side; min / median / max are printed.
Run: .venv/bin/python bench/export_speed.py [incidents] [--full] [--samples N] [--command-samples N]
(default 5 000 incidents; --command-samples defaults to --samples, and may be 1 for the 100 000 year)
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import xlsxwriter  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from _common import ratio, report, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl import Workbook  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl.cell import WriteOnlyCell  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl.styles import Alignment, Font  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl.utils import get_column_letter  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from score_speed import NOW, YEAR, build  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from scoring import as_json  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from scoring.wallclock import naive  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing import exports, workbook  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.scoring_reads import load_year  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.session import Database  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

Table = tuple[str, Sequence[str], list[list[Any]], dict[int, int]]
COMMAND_DEADLINE = 3600  # seconds for one whole command (the 100 000 year's xlsx takes about 30)


# -- side A: openpyxl write-only (the exporter before issue 14) ----------------------------------
def _openpyxl_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        return naive(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        value = workbook.ILLEGAL.sub("", value)
        if value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
    return value


def openpyxl_book(tables: list[Table]) -> bytes:
    book = Workbook(write_only=True)
    for title, header, rows, widths in tables:
        sheet = book.create_sheet(title)
        for column, name in enumerate(header, start=1):
            width = widths.get(column) or max(8, min(40, exports.display_width(str(name)) + 2))
            sheet.column_dimensions[get_column_letter(column)].width = width
        sheet.freeze_panes = "A2"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = "9"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_title_rows = "1:1"
        sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
        if rows:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
        head = []
        for name in header:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            head.append(cell)
        sheet.append(head)
        for line in rows:
            sheet.append([_openpyxl_cell(sheet, v) for v in line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# -- side B: xlsxwriter constant_memory (the exporter until ours replaced it) -----------------------
def _xlsxwriter_text(sheet: Any, row: int, col: int, value: str, *rest: Any) -> Any:
    if workbook.ILLEGAL.search(value):
        return sheet.write_string(row, col, workbook.ILLEGAL.sub("", value), *rest)
    return None


def _xlsxwriter_yes_no(sheet: Any, row: int, col: int, value: bool, *rest: Any) -> Any:
    return sheet.write_string(row, col, "是" if value else "否")


def _xlsxwriter_beijing(sheet: Any, row: int, col: int, value: datetime, *rest: Any) -> Any:
    return sheet.write_datetime(row, col, naive(value))


def xlsxwriter_book(tables: list[Table]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False, "default_date_format": "yyyy-mm-dd hh:mm:ss"})
    head_format = book.add_format({"bold": True, "text_wrap": True, "valign": "vcenter"})
    for title, header, rows, widths in tables:
        sheet = book.add_worksheet(title)
        for column, name in enumerate(header, start=1):
            sheet.set_column(column - 1, column - 1, widths.get(column) or max(8, min(40, exports.display_width(str(name)) + 2)))
        sheet.freeze_panes(1, 0)
        sheet.set_landscape()
        sheet.set_paper(9)
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(0, 0)
        sheet.set_footer("&C第 &P 页，共 &N 页")
        sheet.add_write_handler(str, _xlsxwriter_text)
        sheet.add_write_handler(bool, _xlsxwriter_yes_no)
        sheet.add_write_handler(datetime, _xlsxwriter_beijing)
        sheet.write_row(0, 0, list(header), head_format)
        count = 0
        for count, line in enumerate(rows, start=1):
            sheet.write_row(count, 0, line)
        if count:
            sheet.autofilter(0, 0, count, len(header) - 1)
    book.close()
    return buffer.getvalue()


# -- side C: yuqing.workbook (yuqing.exports) -----------------------------------------------------
def yuqing_book(tables: list[Table]) -> bytes:
    book = exports.new_workbook()
    for title, header, rows, widths in tables:
        exports.write_table(book, title, header, rows, widths=widths)
    return exports.workbook_bytes(book)


def nothing(tables: list[Table]) -> bytes:
    return b""


# -- measuring --------------------------------------------------------------------------------------
def in_child(work: Callable[[list[Table]], bytes], tables: list[Table]) -> tuple[float, int, int]:
    """(CPU seconds, peak RSS in KiB, output bytes) of `work` run in a forked child. CPU time, not
    wall time: on shared cores the wall clock mostly measures the neighbours."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        t0 = time.process_time()
        size = len(work(tables))
        os.write(write, f"{time.process_time() - t0} {size}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        seconds, size = pipe.read().split()
    _, status, usage = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return float(seconds), usage.ru_maxrss, int(size)


def command(argv: list[str]) -> tuple[float, int, float]:
    """(CPU seconds user + system, peak RSS in KiB, wall seconds) of one whole `yuqing` command in a
    fresh process, from wait4; its stderr goes to a file (a pipe nobody reads would block it), and it
    is killed past COMMAND_DEADLINE."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + COMMAND_DEADLINE
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                raise SystemExit(f"{' '.join(argv[-6:])} did not finish within {COMMAND_DEADLINE} s")
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(err.read()[-2000:].decode(errors="replace"))
        return usage.ru_utime + usage.ru_stime, usage.ru_maxrss, wall


def main(n: int, samples: int, command_samples: int) -> None:
    if samples < 3:
        raise SystemExit("at least 3 samples per side")
    now = NOW
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        t0 = time.perf_counter()
        n_actions = build(url, n, now)
        print(f"inserted {n} incidents, {n_actions} actions in {time.perf_counter() - t0:.1f} s")
        database = Database(url)
        with database.session() as session:
            data = load_year(session, YEAR, now=now)
        database.dispose()
        rows = as_json(data.score())
        detail_header, detail_rows = exports.timeliness_rows(rows, data.incidents)
        tables: list[Table] = [
            ("汇总", *exports.summary_table(rows), {3: 30}),
            ("时效明细", detail_header, list(detail_rows), {2: 40, 5: 20, 12: 20, 13: 20}),
            ("扣分明细", *exports.deduction_rows(rows), {2: 24, 5: 28, 12: 80}),
            ("加减分", *exports.adjustment_rows(rows), {2: 24, 4: 40, 7: 60}),
        ]
        cells = sum(len(t[1]) * (len(t[2]) + 1) for t in tables)
        print(f"four tables: {sum(len(t[2]) for t in tables)} rows, {cells} cells (时效明细 {len(tables[1][2])} rows)")

        # 1. The writers, each sample in a forked child (its own peak RSS), taking turns.
        base = in_child(nothing, tables)[1]
        writers = {"openpyxl write-only": openpyxl_book, "xlsxwriter constant_memory": xlsxwriter_book,
                   "yuqing.workbook": yuqing_book}
        runs: dict[str, list[tuple[float, int, int]]] = {name: [] for name in writers}
        for _ in range(samples):
            for name, work in writers.items():
                runs[name].append(in_child(work, tables))
        print(f"\n1. writers on the same four tables (forked child each; base RSS with the year loaded {base // 1024} MiB)")
        show({name: [r[0] for r in values] for name, values in runs.items()}, unit="s CPU")
        for name, values in runs.items():
            peak = max(r[1] for r in values)
            print(f"  {name}: peak RSS {peak // 1024} MiB (+{(peak - base) // 1024} MiB over the base), "
                  f"file {values[0][2] // 1024} KiB")
        times = {name: [r[0] for r in values] for name, values in runs.items()}
        value = ratio(times, "yuqing.workbook", "xlsxwriter constant_memory")
        print(f"  yuqing.workbook / openpyxl write-only: {ratio(times, 'yuqing.workbook', 'openpyxl write-only'):.2f}×")
        report(f"xlsx writer: yuqing.workbook / xlsxwriter constant_memory ({n} incidents)", "< 1 (chosen writer faster)",
               value, value < 1)

        # 2. The whole command, a fresh process each, taking turns; wall time and peak RSS from wait4.
        yuqing = [str(ROOT / ".venv" / "bin" / "yuqing"), "--db", url, "score", "--year", str(YEAR), "--now", now.isoformat()]
        whole: dict[str, list[tuple[float, int, float]]] = {"score --format json": [], "score --format xlsx": []}
        for _ in range(command_samples):
            for name in whole:
                fmt = name.rsplit(" ", 1)[1]
                whole[name].append(command([*yuqing, "--format", fmt, "--out", str(Path(folder) / f"year.{fmt}")]))
        print(f"\n2. whole command: yuqing score --year {YEAR} --format json|xlsx --out FILE ({n} incidents, fresh process each)")
        if command_samples < 3:
            print(f"  (only {command_samples} sample(s) per side: fewer than the usual 3)")
        show({name: [r[0] for r in values] for name, values in whole.items()}, unit="s CPU")
        for name, values in whole.items():
            walls = sorted(r[2] for r in values)
            print(f"  {name}: peak RSS {max(r[1] for r in values) // 1024} MiB, wall median {walls[len(walls) // 2]:.2f} s")
        value = ratio({name: [r[0] for r in values] for name, values in whole.items()}, "score --format xlsx",
                      "score --format json")
        report(f"score --format xlsx / --format json ({n} incidents)", "≤ 2×", value, value <= 2)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("incidents", nargs="?", type=int, default=5_000)
    parser.add_argument("--full", action="store_true", help="the 100 000-incident year")
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--command-samples", type=int, help="samples per side of the whole command (default --samples)")
    options = parser.parse_args()
    main(100_000 if options.full else options.incidents, options.samples, options.command_samples or options.samples)
