"""Spreadsheet import at scale (issue 11 finding 5): rows/s at 10 000 and 100 000 realistic rows, the
growth ratio 100k/10k (target ≤ 12, i.e. 1.2 × the growth in rows: linear), peak RSS, and import throughput as a ratio to
`yuqing classify --jsonl` on the same texts (classification is the essential cost; target ≥ 0.5).
Also the two xlsx readers (openpyxl read-only, python-calamine when installed): time and peak RSS.

Rows are built from ../shared/data (CEC incidents and ordinary news): each row a corpus article
with a county of 三门峡 as the place, numbered in title and body so every row is a new item (no
row is a cheap duplicate), dated at a steady 300 rows
a day (a busy year of intake). Every sample is its own process (fresh SQLite database); its peak
RSS is the process's own VmHWM (a fork's rusage would include this script's); sides interleaved
(bench/_common.py: at least 3 samples per side; the largest size may take one per side, and says so).

    .venv/bin/python bench/import_speed.py [--samples 3] [--big-samples 1] [--sizes 10000,100000] [--full]
    (default 2 000 and 20 000 rows, the size `make bench` runs; --full: 10 000 and 100 000)
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _common import ratio, report, sample, show, summary  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

DATA = ROOT.parent / "shared" / "data"
CORPORA = ("cec/events.jsonl", "cec/environment_pollution.jsonl", "negatives/news.jsonl",
           "negatives/mixed_politics_society.jsonl")
PLACES = ("湖滨区", "陕州区", "义马市", "灵宝市", "渑池县", "卢氏县")
ROWS_PER_DAY = 300
START = datetime(2026, 1, 1, 8, 0)
TEXT_FOR_CLASSIFIER = 800  # yuqing.db.items: what the import classifies
CHILD_DEADLINE = 3600  # seconds for one child (the 100 000-row import takes about two minutes)


def corpus() -> list[tuple[str, str]]:
    docs = []
    for name in CORPORA:
        with (DATA / name).open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                docs.append((record.get("title") or record["text"][:30], record["text"]))
    return docs


def build(count: int, folder: Path) -> tuple[Path, Path]:
    """The CSV to import and the JSONL of the same (title, text) for `yuqing classify --jsonl`."""
    docs = corpus()
    table, lines = folder / f"rows-{count}.csv", folder / f"rows-{count}.jsonl"
    with table.open("w", encoding="utf-8", newline="") as out, lines.open("w", encoding="utf-8") as jl:
        writer = csv.writer(out)
        writer.writerow(["标题", "内容", "发布时间"])
        for i in range(count):
            title, text = docs[i % len(docs)]
            place = PLACES[(i // len(docs)) % len(PLACES)]
            title = f"{place}{title}（{i}）"
            text = f"{place}消息（{i}）：{text}"  # distinct bodies: the content key must not merge rows
            when = START + timedelta(seconds=i * 86400 // ROWS_PER_DAY)
            writer.writerow([title, text, when.strftime("%Y-%m-%d %H:%M:%S")])
            body = " ".join(text.split())[:TEXT_FOR_CLASSIFIER]
            jl.write(json.dumps({"id": str(i), "title": title, "text": body}, ensure_ascii=False) + "\n")
    return table, lines


HWM = ('hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM"))\n'
       'sys.stderr.write("\\nVMHWM " + hwm.split()[1] + "\\n")\n')
AS_MODULE = ("import runpy, sys\nsys.argv = sys.argv[1:]\ntry:\n"
             "    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\nfinally:\n"
             + "".join("    " + line + "\n" for line in HWM.splitlines()))


def timed(argv: list[str], *, stdin: Path | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one child process that prints its VmHWM last."""
    started = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source:
        result = subprocess.run(argv, cwd=ROOT, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                timeout=CHILD_DEADLINE)
    err = result.stderr.decode(errors="replace")
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv[3:])} failed: {err[-400:]}")
    return time.perf_counter() - started, int(err.rsplit("VMHWM ", 1)[1].split()[0]) / 1024


class Child:
    """One side of the comparison: a fresh child process per sample; its peak RSS kept per sample."""

    def __init__(self, argv: list[str], *, stdin: Path | None = None) -> None:
        self.argv, self.stdin = argv, stdin
        self.rss: list[float] = []

    def __call__(self) -> None:
        self.rss.append(timed(self.argv, stdin=self.stdin)[1])


class Import(Child):
    """`yuqing import FILE --json` into a fresh SQLite database, made (yuqing init) before the clock."""

    def __init__(self, table: Path, folder: Path) -> None:
        self.db = folder / "import.sqlite3"
        cli = [sys.executable, "-c", AS_MODULE, "yuqing.cli", "--db", f"sqlite:///{self.db}"]
        super().__init__(cli + ["import", str(table), "--json"])
        self.init = cli + ["init"]

    def fresh(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        timed(self.init)

    def before(self, side: str) -> None:
        if side == "import":
            self.fresh()


def classify_side(lines: Path) -> Child:
    return Child([sys.executable, "-c", AS_MODULE, "yuqing.cli", "classify", "--jsonl"], stdin=lines)


def read_once(reader: str, path: Path) -> tuple[float, float]:
    code = {
        "openpyxl": "from openpyxl import load_workbook\n"
                    f"wb = load_workbook({str(path)!r}, read_only=True, data_only=True)\n"
                    "n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))\nwb.close()",
        "calamine": "from python_calamine import CalamineWorkbook\n"
                    f"wb = CalamineWorkbook.from_path({str(path)!r})\n"
                    "n = sum(1 for _ in wb.get_sheet_by_index(0).iter_rows())",
    }[reader]
    return timed([sys.executable, "-c", "import sys\n" + code + "\n" + HWM])


def spread(values: list[float]) -> str:
    low, mid, high = summary(values)
    return f"min {low:.1f} / median {mid:.1f} / max {high:.1f}"


def readers(folder: Path, table: Path, samples: int) -> None:
    from openpyxl import Workbook

    xlsx = folder / "rows.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    with table.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    book.save(xlsx)
    try:
        import python_calamine  # noqa: F401
        kinds = ["openpyxl", "calamine"]
    except ImportError:
        kinds = ["openpyxl"]
        print("python-calamine not installed: only openpyxl measured")
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in kinds}
    for _ in range(samples):
        for kind in kinds:
            results[kind].append(read_once(kind, xlsx))
    for kind in kinds:
        seconds = [s for s, _ in results[kind]]
        rss = [r for _, r in results[kind]]
        print(f"xlsx reader {kind:9} {xlsx.stat().st_size >> 10} kB: s {spread(seconds)}; peak RSS MB {spread(rss)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--big-samples", type=int, default=1, help="samples at the largest size (slow)")
    parser.add_argument("--sizes", default="2000,20000")
    parser.add_argument("--full", action="store_true", help="10 000 and 100 000 rows")
    parser.add_argument("--no-readers", action="store_true")
    parser.add_argument("--readers-only", type=int, metavar="ROWS", help="only compare the xlsx readers on ROWS rows")
    args = parser.parse_args()
    if not all((DATA / name).exists() for name in CORPORA):
        print(f"skipped: the shared corpora are not in {DATA}")
        return 0
    if args.readers_only:
        with tempfile.TemporaryDirectory(prefix="yuqing-import-bench-") as name:
            table, _ = build(args.readers_only, Path(name))
            readers(Path(name), table, args.samples)
        return 0
    sizes = [10_000, 100_000] if args.full else sorted(int(s) for s in args.sizes.split(","))
    seconds: dict[int, float] = {}
    peaks: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="yuqing-import-bench-") as name:
        folder = Path(name)
        for n in sizes:
            table, lines = build(n, folder)
            importing, classifying = Import(table, folder), classify_side(lines)
            sides = {"import": importing, "classify --jsonl": classifying}
            big = n == sizes[-1] and len(sizes) > 1
            samples = args.big_samples if big else args.samples
            # The largest size is long: it may take fewer samples, still interleaved, said so below.
            times = sample(sides, samples, before=importing.before, minimum=1 if big else 3)
            note = "" if samples >= 3 else f" (only {samples} sample(s) per side at this size: a long run)"
            print(f"{n} rows, {samples} interleaved sample(s) per side{note}")
            show(times)
            for side, child in sides.items():
                rate = n / statistics.median(times[side])
                print(f"  {side:<16}  {rate:,.0f} rows/s (median); peak RSS MB {spread(child.rss)}")
            seconds[n] = statistics.median(times["import"])
            r = ratio(times, "classify --jsonl", "import")  # time ratio = throughput ratio, inverted
            report(f"import ÷ classify --jsonl throughput, {n} rows", "≥ 0.5", r, r >= 0.5, detail=note.strip())
            peaks[n] = max(importing.rss)
            if n == sizes[0] and not args.no_readers:
                readers(folder, table, args.samples)
        if len(sizes) > 1:
            small, large = sizes[0], sizes[-1]
            growth = seconds[large] / seconds[small]
            limit = 1.2 * large / small
            report(f"import time growth {large}/{small} rows", f"≤ {limit:g}", growth, growth <= limit)
            memory = peaks[large] / peaks[small]  # streamed in batches: memory must not follow the rows
            report(f"import peak RSS {large}/{small}", "≤ 2", memory, memory <= 2,
                   detail=f"{peaks[small]:.0f} MB → {peaks[large]:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
