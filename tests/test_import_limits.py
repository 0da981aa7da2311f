"""Imports that scale and refuse what they cannot hold (issue 11 finding 5): a zip bomb is refused
from its zip directory, rows and cells over the limits are refused before anything is stored, and
batches are committed one by one so a rerun after an interruption adds only the rest."""
from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ingest.importer import iter_table
from ingest.limits import Limits
from tests.cliutil import error_code, yq
from tests.conftest import writer
from yuqing.db.imports import import_table
from yuqing.db.models import AuditRecord, Item
from yuqing.db.session import Database
from yuqing.worker import Poller

ROOT = Path(__file__).resolve().parents[1]
# Runs a module as `python -m` would, then prints the process's own peak RSS (kB) on stderr.
PEAK_RSS = """import runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
finally:
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
    sys.stderr.write("\\nVMHWM " + hwm.split()[1] + "\\n")
"""
HEADER = "标题,内容,发布时间\n"
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def items(url: str) -> int:
    database = Database(url)
    try:
        with database.session(write=False) as s:  # never waits behind a running import's write lock
            return int(s.scalar(select(func.count()).select_from(Item)))
    finally:
        database.dispose()


def csv_rows(n: int, *, start: int = 0) -> str:
    return "".join(f"卢氏县网民反映第{i}号小区停水,卢氏县某小区第{i}号楼停水三天，居民生活受影响,2026-11-{1 + i % 20:02d} 08:{i % 60:02d}\n"
                   for i in range(start, start + n))


def _sheet(rows: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>')


def write_xlsx(path: Path, sheet_rows: str | None = None, *, repeat_row: str | None = None, repeat: int = 0) -> None:
    """A minimal xlsx (inline strings). `repeat_row` × `repeat` streams a huge sheet into the zip."""
    ns = "http://schemas.openxmlformats.org"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="' + ns + '/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="' + ns + '/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="' + ns + '/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="' + ns + '/spreadsheetml/2006/main" '
                   'xmlns:r="' + ns + '/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="' + ns + '/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="' + ns + '/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        if repeat_row is None:
            z.writestr("xl/worksheets/sheet1.xml", _sheet(sheet_rows or ""))
            return
        head, tail = _sheet("").split("<sheetData>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((head + "<sheetData>").encode())
            block = (repeat_row * 4096).encode()
            for _ in range(repeat // 4096):
                sheet.write(block)
            sheet.write(("</sheetData>" + tail.split("</sheetData>", 1)[-1]).encode())


def cell_row(*values: str) -> str:
    return "<row>" + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values) + "</row>"


def test_a_zip_bomb_xlsx_is_refused_from_its_directory_quickly_with_bounded_memory(url: str, tmp_path: Path):
    bomb = tmp_path / "bomb.xlsx"
    # about 3 million rows in a file of a few hundred kB (the finding: 677 MB RSS and growing)
    write_xlsx(bomb, repeat_row='<row><c t="n"><v>1</v></c></row>', repeat=3_000_000)
    assert bomb.stat().st_size < 2_000_000
    started = time.monotonic()
    # The child reports its own high-water RSS (VmHWM): a fork's rusage would include pytest's.
    process = subprocess.run([sys.executable, "-c", PEAK_RSS, "yuqing.cli", "--db", url, "import", str(bomb)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    err = process.stderr
    peak_kb = int(err.rsplit("VMHWM ", 1)[1].split()[0])
    elapsed = time.monotonic() - started
    assert process.returncode == 1, err
    assert "[E_IMPORT_XLSX_BOMB]" in err and "压缩比" in err
    assert peak_kb < 200 * 1024, peak_kb  # the interpreter and the CLI; the sheet is never inflated
    assert elapsed < 60
    assert items(url) == 0


def test_an_xlsx_declaring_more_than_the_expanded_limit_is_refused_before_inflating(url: str, tmp_path: Path):
    path = tmp_path / "liar.xlsx"
    write_xlsx(path, cell_row("标题", "发布时间") + cell_row("甲", "2026-11-24 08:00"))
    data = bytearray(path.read_bytes())
    # Declare 3 GB for the sheet in the central directory (the local header is left alone).
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(b"xl/worksheets/sheet1.xml") + 1)
    data[at + 24:at + 28] = struct.pack("<I", 3_000_000_000)
    path.write_bytes(bytes(data))
    result = yq(url, "import", str(path))
    assert result.code == 1 and error_code(result) == "E_IMPORT_XLSX_TOO_LARGE"
    assert items(url) == 0


def test_more_rows_than_the_limit_are_refused_and_nothing_is_stored(url: str, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("YUQING_IMPORT_MAX_ROWS", "5")
    path = tmp_path / "six.csv"
    path.write_text(HEADER + csv_rows(6), encoding="utf-8")
    result = yq(url, "import", str(path))
    assert result.code == 1 and error_code(result) == "E_IMPORT_TOO_MANY_ROWS"
    assert "5 行" in result.err and items(url) == 0
    path.write_text(HEADER + csv_rows(5), encoding="utf-8")
    assert yq(url, "import", str(path), "--json").json()["items_new"] == 5


def test_a_cell_over_the_limit_is_refused_with_its_row_and_column(url: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("YUQING_IMPORT_MAX_CELL", "100")
    path = tmp_path / "long.xlsx"
    write_xlsx(path, cell_row("标题", "内容", "发布时间") + cell_row("甲", "短", "2026-11-24 08:00")
               + cell_row("乙", "长" * 101, "2026-11-24 09:00"))
    result = yq(url, "import", str(path))
    assert result.code == 1 and error_code(result) == "E_IMPORT_CELL_TOO_LONG"
    assert "第 3 行第 2 列" in result.err and items(url) == 0


@pytest.mark.parametrize("length, code", [(40_000, "E_IMPORT_CELL_TOO_LONG"), (200_000, "E_IMPORT_CSV_CELL_TOO_LONG")])
def test_a_csv_cell_over_excels_limit_is_refused(url: str, tmp_path: Path, length: int, code: str):
    path = tmp_path / "long.csv"
    path.write_text(HEADER + csv_rows(2) + "甲," + "长" * length + ",2026-11-24 08:00\n", encoding="utf-8")
    result = yq(url, "import", str(path))
    assert result.code == 1 and error_code(result) == code
    assert "4 行" in result.err and items(url) == 0


@pytest.mark.parametrize("name, value", [("YUQING_IMPORT_MAX_ROWS", "0"), ("YUQING_IMPORT_MAX_CELL", "lots"),
                                         ("YUQING_IMPORT_MAX_XLSX_MB", "-1"), ("YUQING_IMPORT_MAX_RATIO", "1"),
                                         ("YUQING_IMPORT_BATCH_ROWS", "0")])
def test_bad_import_limit_settings_are_refused_by_name(url: str, monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    result = yq(url, "feeds", "list")
    assert result.code == 1 and error_code(result) == "E_SETTING" and name in result.err


def test_the_reader_streams_a_gb18030_csv(tmp_path: Path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + csv_rows(3)).encode("gb18030"))
    rows = list(iter_table(path, Limits()))
    assert rows[0] == ["标题", "内容", "发布时间"] and len(rows) == 4 and rows[1][0].startswith("卢氏县")


class Interrupted(Exception):
    """Stands for the kill: the transaction under way is rolled back, the earlier ones stay."""


def test_an_interrupted_import_keeps_whole_batches_and_a_rerun_adds_only_the_rest(url: str, tmp_path: Path):
    path = tmp_path / "many.csv"
    path.write_text(HEADER + csv_rows(25), encoding="utf-8")
    database = Database(url)
    calls = 0

    def run(change):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1

        def step(session):  # type: ignore[no-untyped-def]
            value = change(writer(session, now=NOW))
            if calls == 4:  # the permission check, two batches, then the third batch dies uncommitted
                raise Interrupted
            return value

        return database.run(step)

    try:
        with pytest.raises(Interrupted):
            import_table(run, path, "generic", poller=Poller(database, preset="sanmenxia-2017"), shown_name="many.csv",
                         batch_rows=10)
    finally:
        database.dispose()
    assert items(url) == 20  # two whole batches of ten
    rerun = yq(url, "import", str(path), "--json").json()
    assert rerun["rows"] == 25 and rerun["items_new"] == 5 and rerun["items_duplicate"] == 20
    assert items(url) == 25
    again = yq(url, "import", str(path), "--json").json()
    assert again["items_new"] == 0 and again["items_duplicate"] == 25


def imported(url: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The stored items' titles and the import batches' audit records (first and last row of each)."""
    database = Database(url)
    try:
        with database.session(write=False) as s:
            titles = list(s.scalars(select(Item.title)))
            batches = [json.loads(after) for after in
                       s.scalars(select(AuditRecord.after).where(AuditRecord.entity == "import").order_by(AuditRecord.id))]
            return titles, batches
    finally:
        database.dispose()


def test_a_killed_import_keeps_whole_batches_and_a_rerun_adds_exactly_the_rest(url: str, tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch):
    batch, total = 40, 1000  # 25 batches: the kill falls well before the end
    path = tmp_path / "many.csv"
    path.write_text(HEADER + csv_rows(total), encoding="utf-8")
    monkeypatch.setenv("YUQING_IMPORT_BATCH_ROWS", str(batch))
    child = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "--db", url, "import", str(path), "--json"],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120  # a bound on the wait, not a guess at when a batch lands
        while items(url) == 0:  # until the first batch has committed
            assert child.poll() is None, "the import ended before a batch was seen"
            assert time.monotonic() < deadline, "no batch committed within 120 s"
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    titles, batches = imported(url)
    kept = len(titles)
    assert 0 < kept < total and kept % batch == 0  # whole batches only
    assert len(batches) == kept // batch and all(b["rows"] == batch for b in batches)
    first_rows = [(b["first_row"], b["last_row"]) for b in batches]
    assert first_rows == [(2 + n * batch, 1 + (n + 1) * batch) for n in range(len(batches))]  # row 1 is the header
    assert sorted(titles) == sorted(f"卢氏县网民反映第{i}号小区停水" for i in range(kept))  # the file's first rows

    rerun = yq(url, "import", str(path), "--json").json()
    assert (rerun["rows"], rerun["items_new"], rerun["items_duplicate"]) == (total, total - kept, kept)
    titles, _ = imported(url)
    assert len(titles) == len(set(titles)) == total
