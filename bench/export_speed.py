"""Year exports at scale: the xlsx of a 100 000-incident year (bench/score_speed.py's synthetic year).

1. The two streaming writers on the same four tables (汇总, 时效明细, 扣分明细, 加减分, rows built
   once): openpyxl's write-only mode (the previous exporter, kept here as the comparison) against
   xlsxwriter's constant_memory mode (yuqing.exports), both with the print setup (landscape, one page
   wide, header row repeated, page numbers in the footer). Each sample runs in a forked child, so its
   peak RSS is its own (the parent's loaded year is the same base for both; a child that writes
   nothing gives that base).
2. The whole command: `yuqing score --format xlsx` against `yuqing score --format json` on the same
   year, each a fresh process (wall time and peak RSS from wait4), target ≤ 2×.
Samples interleave (A, B, A, B, …), at least 3 per side; min / median / max are printed.
Run: .venv/bin/python bench/export_speed.py [incidents] [samples]
"""
from __future__ import annotations

import io
import os
import random
import statistics
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

from openpyxl import Workbook  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl.cell import WriteOnlyCell  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl.styles import Alignment, Font  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl.utils import get_column_letter  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from score_speed import YEAR, populate  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from classify.units import load_units_file  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from scoring import as_json  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from scoring.wallclock import naive  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from timeline.clock import BEIJING  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing import exports  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db import migrate  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.scoring_reads import load_year  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.service import Actor, Writer  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.session import Database  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.settings import UNITS_FILE  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

Table = tuple[str, Sequence[str], list[list[Any]], dict[int, int]]


# -- side A: openpyxl write-only (the exporter before issue 14) ----------------------------------
def _openpyxl_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        return naive(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        value = exports._ILLEGAL.sub("", value)
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


# -- side B: xlsxwriter constant_memory (yuqing.exports) ------------------------------------------
def xlsxwriter_book(tables: list[Table]) -> bytes:
    book = exports.new_workbook()
    for title, header, rows, widths in tables:
        exports.write_table(book, title, header, rows, widths=widths)
    return exports.workbook_bytes(book)


def nothing(tables: list[Table]) -> bytes:
    return b""


# -- measuring --------------------------------------------------------------------------------------
def in_child(work: Callable[[list[Table]], bytes], tables: list[Table]) -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, output bytes) of `work` run in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read)
        t0 = time.perf_counter()
        size = len(work(tables))
        os.write(write, f"{time.perf_counter() - t0} {size}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        seconds, size = pipe.read().split()
    _, status, usage = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return float(seconds), usage.ru_maxrss, int(size)


def command(argv: list[str]) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of one whole `yuqing` command in a fresh process."""
    t0 = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - t0
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    return seconds, usage.ru_maxrss


def spread(values: list[float]) -> str:
    return f"min {min(values):6.2f}  median {statistics.median(values):6.2f}  max {max(values):6.2f}"


def main(n: int = 100_000, samples: int = 3) -> None:
    rng = random.Random(20260610)
    now = datetime(YEAR + 1, 1, 31, 12, tzinfo=BEIJING)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        database = Database(url)
        migrate.upgrade(database.engine)
        _, refs = load_units_file(UNITS_FILE)
        with database.session() as session:
            Writer(session, Actor("bench"), now=now, preset="sanmenxia-2017").sync_units(refs)
        t0 = time.perf_counter()
        n_actions = populate(database, n, rng)
        print(f"inserted {n} incidents, {n_actions} actions in {time.perf_counter() - t0:.1f} s")

        with database.session() as session:
            data = load_year(session, YEAR, now=now)
        database.dispose()
        rows = as_json(data.score())
        tables: list[Table] = [
            ("汇总", *exports.summary_table(rows), {3: 30}),
            ("时效明细", exports.timeliness_rows(rows, data.incidents)[0], list(exports.timeliness_rows(rows, data.incidents)[1]),
             {2: 40, 5: 20, 12: 20, 13: 20}),
            ("扣分明细", *exports.deduction_rows(rows), {2: 24, 5: 28, 12: 80}),
            ("加减分", *exports.adjustment_rows(rows), {2: 24, 4: 40, 7: 60}),
        ]
        cells = sum(len(t[1]) * (len(t[2]) + 1) for t in tables)
        print(f"four tables: {sum(len(t[2]) for t in tables)} rows, {cells} cells "
              f"(时效明细 {len(tables[1][2])} rows)")

        base = in_child(nothing, tables)[1]
        sides: dict[str, list[tuple[float, int, int]]] = {"openpyxl write-only": [], "xlsxwriter constant_memory": []}
        for _ in range(samples):
            sides["openpyxl write-only"].append(in_child(openpyxl_book, tables))
            sides["xlsxwriter constant_memory"].append(in_child(xlsxwriter_book, tables))
        print(f"\n1. writers on the same tables (forked child each; base RSS of the loaded year {base // 1024} MiB)")
        for name, runs in sides.items():
            print(f"   {name:<28} s: {spread([r[0] for r in runs])}   peak RSS {max(r[1] for r in runs) // 1024} MiB "
                  f"(+{(max(r[1] for r in runs) - base) // 1024} MiB)   {runs[0][2] // 1024} KiB file")
        a, b = (statistics.median(r[0] for r in runs) for runs in sides.values())
        print(f"   median ratio openpyxl / xlsxwriter: {a / b:.2f}×")

        yuqing = [str(ROOT / ".venv" / "bin" / "yuqing"), "--db", url, "score", "--year", str(YEAR), "--now", now.isoformat()]
        whole: dict[str, list[tuple[float, int]]] = {"json": [], "xlsx": []}
        for _ in range(samples):
            for fmt in whole:
                whole[fmt].append(command([*yuqing, "--format", fmt, "--out", str(Path(folder) / f"year.{fmt}")]))
        print(f"\n2. whole command, yuqing score --year {YEAR} --format … --out FILE (fresh process each)")
        for fmt, runs in whole.items():
            print(f"   --format {fmt:<5} s: {spread([r[0] for r in runs])}   peak RSS {max(r[1] for r in runs) // 1024} MiB")
        ratios = [x[0] / j[0] for x, j in zip(whole["xlsx"], whole["json"], strict=True)]
        print(f"   ratio xlsx / json per pair: {spread(ratios)}   (target ≤ 2×)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
