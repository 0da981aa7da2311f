"""Spreadsheet import: vendor exports, 12345 hotline lists, message-board exports → items.

A mapping file (TOML) says under which headers each field appears. Rows that cannot be read are
reported with their row number; the rest are stored in batches (yuqing.db.imports).

Large and hostile files: rows are streamed with openpyxl's read-only mode. python-calamine was
measured too (bench/import_speed.py --readers-only): 5× faster on 10 000 realistic rows (3.1 s vs
14.7 s), but it holds the whole sheet in memory — 32 MB peak for a 300 000-row sheet, 221 MB for
3 million rows — while openpyxl parses the sheet XML as a stream (80 MB at 300 000 rows). Bounded
memory wins. Before anything is parsed an xlsx's zip directory is checked: the declared
uncompressed size of its members and their compression ratio (a zip bomb is refused without
inflating it). A first pass over the rows checks the row count and the cell
length (Limits), so a file over a limit is refused before anything is stored.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import tomllib
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ingest.dates import DateReading, clamp_future, read_date
from ingest.limits import Limits
from ingest.parse import FeedItem, normalize_link
from timeline.words import YuqingError

MAPPING_DIR = Path(__file__).with_name("mappings")
FIELDS = ("title", "text", "link", "published", "source", "author", "unit")


@dataclass(frozen=True)
class Mapping:
    name: str
    title: str
    source: str
    timezone: str
    columns: dict[str, tuple[str, ...]]


@dataclass
class ImportRows:
    rows: int = 0
    items: list[tuple[int, FeedItem, str]] = field(default_factory=list)  # (row number, item, source)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # content hash → the unit the source already assigned (承办单位, 责任单位), as written
    units: dict[str, str] = field(default_factory=dict)


def available_mappings() -> list[str]:
    return sorted(p.stem for p in MAPPING_DIR.glob("*.toml"))


def load_mapping(name_or_path: str | None) -> Mapping:
    text = name_or_path or "generic"
    path = Path(text)
    if not path.is_file():
        path = MAPPING_DIR / f"{text}.toml"
        if not path.is_file():
            raise YuqingError("E_MAPPING_UNKNOWN", value=text, choices="、".join(available_mappings()))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise YuqingError("E_DATA_FILE", path=str(path), problem=str(exc)) from exc
    columns = data.get("columns")
    if not isinstance(columns, dict):
        raise YuqingError("E_DATA_FILE", path=str(path), problem="缺少 [columns]")
    unknown = set(columns) - set(FIELDS)
    if unknown:
        raise YuqingError("E_DATA_FILE", path=str(path), problem=f"未知字段：{'、'.join(sorted(unknown))}")
    for key, names in columns.items():
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise YuqingError("E_DATA_FILE", path=str(path), problem=f"columns.{key} 必须是列名列表")
    if "published" not in columns or not ({"title", "text"} & set(columns)):
        raise YuqingError("E_DATA_FILE", path=str(path), problem="至少要映射 published，以及 title 或 text")
    timezone = str(data.get("timezone", "Asia/Shanghai"))
    try:
        ZoneInfo(timezone)
    except (ValueError, KeyError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise YuqingError("E_DATA_FILE", path=str(path), problem=f"timezone = {timezone!r} 不是有效的时区") from exc
    return Mapping(
        name=str(data.get("name", path.stem)),
        title=str(data.get("title", path.stem)),
        source=str(data.get("source", "表格导入")),
        timezone=timezone,
        columns={k: tuple(v) for k, v in columns.items()},
    )


RATIO_FLOOR = 1 << 20  # members smaller than 1 MiB may compress as well as they like


def check_xlsx_archive(path: Path, limits: Limits, *, shown: str | None = None) -> None:
    """Refuse an xlsx whose zip directory declares more than the limits allow — before inflating
    anything. zipfile stops each member at its declared size, so a directory that lies about the
    sizes yields truncated XML, which the reader refuses."""
    name = shown or path.name
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise YuqingError("E_FILE_READ", path=name, detail=f"不是有效的 xlsx 文件（{type(exc).__name__}）") from exc
    total = sum(m.file_size for m in members)
    if total > limits.max_expanded_mb * (1 << 20):
        raise YuqingError("E_IMPORT_XLSX_TOO_LARGE", path=name, size=total >> 20, limit=limits.max_expanded_mb)
    for member in members:
        if member.file_size > RATIO_FLOOR and member.file_size > limits.max_ratio * max(member.compress_size, 1):
            raise YuqingError("E_IMPORT_XLSX_BOMB", path=name, member=member.filename,
                              ratio=member.file_size // max(member.compress_size, 1), limit=limits.max_ratio)


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as UTF-8, else GB18030 — read in
    chunks, never whole."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def iter_table(path: Path, limits: Limits | None = None) -> Iterator[list[Any]]:
    """The rows of the first sheet (xlsx) or of the CSV, streamed: memory stays bounded whatever
    the number of rows. An xlsx is checked against the zip-bomb limits first."""
    limits = limits or Limits()
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise YuqingError("E_IMPORT_FORMAT", path=str(path))
    try:
        if suffix == ".xlsx":
            check_xlsx_archive(path, limits)
            from openpyxl import load_workbook

            workbook = load_workbook(path, read_only=True, data_only=True)
            try:
                for row in workbook.worksheets[0].iter_rows(values_only=True):
                    yield list(row)
            finally:
                workbook.close()
            return
        encoding = _csv_encoding(path)
        with path.open(encoding=encoding, newline="") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
            except csv.Error:
                dialect = csv.excel
            previous = csv.field_size_limit()
            # Generous, so check_table names the cell's column; a cell beyond it stops the reader here.
            csv.field_size_limit(limits.max_cell * 4 + 1)
            try:
                reader = csv.reader(handle, dialect)
                while True:
                    try:
                        row = next(reader)
                    except StopIteration:
                        return
                    except csv.Error as exc:
                        if "field limit" in str(exc):
                            raise YuqingError("E_IMPORT_CSV_CELL_TOO_LONG", path=path.name, line=reader.line_num,
                                              limit=limits.max_cell) from exc
                        raise
                    yield row
            finally:
                csv.field_size_limit(previous)
    except YuqingError:
        raise
    except Exception as exc:  # openpyxl and csv raise many kinds for a broken file
        raise YuqingError("E_FILE_READ", path=str(path), detail=f"{type(exc).__name__}: {exc}") from exc


def check_table(path: Path, limits: Limits, *, shown: str | None = None) -> int:
    """First pass: the number of non-empty data rows, refusing a file over the row limit or with a
    cell over the cell limit (with its row and column) before anything is stored."""
    name = shown or path.name
    rows = 0
    for number, row in enumerate(iter_table(path, limits), start=1):
        for column, value in enumerate(row, start=1):
            if isinstance(value, str) and len(value) > limits.max_cell:
                raise YuqingError("E_IMPORT_CELL_TOO_LONG", path=name, row=number, column=column, limit=limits.max_cell)
        if number > 1 and any(str(c or "").strip() for c in row):
            rows += 1
            if rows > limits.max_rows:
                raise YuqingError("E_IMPORT_TOO_MANY_ROWS", path=name, limit=limits.max_rows)
    return rows


def _key(text: Any) -> str:
    return "".join(str(text or "").split()).lower()


def read_sheets(path: Path) -> list[tuple[str, list[list[Any]]]]:
    """(sheet name, rows) of every sheet of an xlsx workbook; a CSV is one sheet named after the file."""
    if path.suffix.lower() != ".xlsx":
        return [(path.stem, read_table(path))]
    try:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            return [(sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]) for sheet in workbook.worksheets]
        finally:
            workbook.close()
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise YuqingError("E_FILE_READ", path=str(path), detail=f"{type(exc).__name__}: {exc}") from exc


def read_table(path: Path) -> list[list[Any]]:
    """All rows of the first sheet (xlsx) or of the CSV (UTF-8 with or without BOM, or GB18030)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            workbook = load_workbook(path, read_only=True, data_only=True)
            try:
                return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
            finally:
                workbook.close()
        if suffix == ".csv":
            raw = path.read_bytes()
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    text = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:  # pragma: no cover - gb18030 decodes any byte string
                raise YuqingError("E_FILE_READ", path=str(path), detail="无法识别的文字编码")
            try:
                dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
            except csv.Error:
                dialect = csv.excel
            return [row for row in csv.reader(io.StringIO(text), dialect)]
    except YuqingError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise YuqingError("E_FILE_READ", path=str(path), detail=f"{type(exc).__name__}: {exc}") from exc
    raise YuqingError("E_IMPORT_FORMAT", path=str(path))


def _cell_time(value: Any, *, now: datetime, zone: ZoneInfo) -> tuple[str, DateReading | None]:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=zone)
        return value.isoformat(sep=" "), DateReading(moment.astimezone(ZoneInfo("UTC")))
    raw = str(value or "").strip()
    return raw, read_date(raw, now=now, tz=zone) if raw else None


def rows_to_items(rows: list[list[Any]], mapping: Mapping, *, path: Path, now: datetime) -> ImportRows:
    """Header row first; row numbers are spreadsheet rows (the header is row 1)."""
    result = ImportRows()
    for batch in iter_item_batches(rows, mapping, path=path, now=now, size=max(len(rows), 1)):
        result.rows += batch.rows
        result.items.extend(batch.items)
        result.errors.extend(batch.errors)
        result.units.update(batch.units)
    return result


def iter_item_batches(rows: Iterable[list[Any]], mapping: Mapping, *, path: Path, now: datetime,
                      size: int = 1000) -> Iterator[ImportRows]:
    """The rows as items, `size` data rows at a time (streamed: one batch in memory)."""
    iterator = iter(rows)
    header_row = next(iterator, None)
    if header_row is None:
        raise YuqingError("E_IMPORT_EMPTY", path=str(path))
    header = [_key(h) for h in header_row]
    where: dict[str, int] = {}
    for name, candidates in mapping.columns.items():
        for candidate in candidates:
            if _key(candidate) in header:
                where[name] = header.index(_key(candidate))
                break
    missing = [n for n in ("published",) if n not in where]
    if not ({"title", "text"} & set(where)):
        missing.append("标题或正文")
    if missing:
        wanted = "、".join("/".join(mapping.columns.get(m, (m,))[:3]) if m in mapping.columns else m for m in missing)
        raise YuqingError("E_IMPORT_COLUMNS", path=str(path), columns=wanted)
    zone = ZoneInfo(mapping.timezone)
    result = ImportRows()
    for number, row in enumerate(iterator, start=2):
        if not any(str(c or "").strip() for c in row):
            continue
        result.rows += 1
        _one_row(result, number, row, where, mapping, now=now, zone=zone)
        if result.rows >= size:
            yield result
            result = ImportRows()
    if result.rows:
        yield result


def _one_row(result: ImportRows, number: int, row: Sequence[Any], where: dict[str, int], mapping: Mapping, *,
             now: datetime, zone: ZoneInfo) -> None:
    def cell(name: str) -> Any:
        index = where.get(name)
        return row[index] if index is not None and index < len(row) else None

    text = str(cell("text") or "").strip()
    title = str(cell("title") or "").strip() or text[:40]
    if not title:
        result.errors.append((number, "标题和正文都为空"))
        return
    raw_time, reading = _cell_time(cell("published"), now=now, zone=zone)
    if not raw_time:
        result.errors.append((number, "缺少发布时间"))
        return
    if reading is None:
        result.errors.append((number, f"无法识别的时间“{raw_time}”"))
        return
    published, clamped = clamp_future(reading.at, now)
    link = str(cell("link") or "").strip()
    normalized = normalize_link(link) if link.startswith(("http://", "https://")) else ""
    body = " ".join((text or title).split())
    digest = hashlib.sha256(f"{normalized}\n{body}".encode()).hexdigest()
    item = FeedItem(
        guid=link or f"row:{digest}",
        title=title[:500],
        link=link,
        normalized_link=normalized,
        summary=body[:500],
        content_text=body[:20000],
        author=str(cell("author") or "").strip(),
        published_raw=raw_time[:200],
        published_at=published,
        published_clamped=clamped,
        content_hash=digest,
        published_date_only=reading.date_only and not clamped,
    )
    result.items.append((number, item, str(cell("source") or "").strip() or mapping.source))
    unit = " ".join(str(cell("unit") or "").split())
    if unit:
        result.units[digest] = unit[:100]
