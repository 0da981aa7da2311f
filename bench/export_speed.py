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
Run: .venv/bin/python bench/export_speed.py [incidents] [--full] [--samples N]   (default 5 000 incidents)
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

from _common import ratio, report, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl import Workbook  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl.cell import WriteOnlyCell  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl.styles import Alignment, Font  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from openpyxl.utils import get_column_letter  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from score_speed import NOW, YEAR, build  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from scoring import as_json  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from scoring.wallclock import naive  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing import exports  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.scoring_reads import load_year  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.session import Database  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

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
    fresh process, from wait4."""
    t0 = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - t0
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss, wall


def main(n: int, samples: int) -> None:
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
        writers = {"openpyxl write-only": openpyxl_book, "xlsxwriter constant_memory": xlsxwriter_book}
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
        value = ratio({name: [r[0] for r in values] for name, values in runs.items()},
                      "xlsxwriter constant_memory", "openpyxl write-only")
        report(f"xlsx writer: xlsxwriter / openpyxl write-only ({n} incidents)", "< 1 (chosen writer faster)", value, value < 1)

        # 2. The whole command, a fresh process each, taking turns; wall time and peak RSS from wait4.
        yuqing = [str(ROOT / ".venv" / "bin" / "yuqing"), "--db", url, "score", "--year", str(YEAR), "--now", now.isoformat()]
        whole: dict[str, list[tuple[float, int, float]]] = {"score --format json": [], "score --format xlsx": []}
        for _ in range(samples):
            for name in whole:
                fmt = name.rsplit(" ", 1)[1]
                whole[name].append(command([*yuqing, "--format", fmt, "--out", str(Path(folder) / f"year.{fmt}")]))
        print(f"\n2. whole command: yuqing score --year {YEAR} --format json|xlsx --out FILE ({n} incidents, fresh process each)")
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
    options = parser.parse_args()
    main(100_000 if options.full else options.incidents, options.samples)
