"""Importing a spreadsheet into the store: mapping → rows → items, one pseudo-feed per mapping source,
stored with classification in batches, each its own transaction. `yuqing import` and the dashboard
call this with their own transaction runner and progress display."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from ingest.importer import ImportRows, Mapping, check_table, iter_item_batches, iter_table, load_mapping
from ingest.limits import Limits
from yuqing.db.feeds import add_feed, office_feed
from yuqing.db.items import StoreStats, store_chosen_items
from yuqing.db.service import Writer
from yuqing.errors import YuqingError
from yuqing.worker import Poller


@dataclass(frozen=True)
class ImportReport:
    rows: int
    new: int
    duplicate: int
    errors: tuple[str, ...]
    error_rows: tuple[int, ...] = ()


def assigned_unit_codes(writer: Writer, written: dict[str, str]) -> dict[str, str]:
    """Resolve each row's assigned-unit cell (承办单位 …) through the registry; '' = did not resolve."""
    resolved: dict[str, str] = {}
    cache: dict[str, str] = {}
    for digest, text in written.items():
        if text not in cache:
            try:
                cache[text] = writer.resolver().resolve(text).code
            except YuqingError:
                cache[text] = ""
        resolved[digest] = cache[text]
    return resolved


Runner = Callable[[Callable[[Writer], Any]], Any]  # runs one change in one transaction, returns its value
Progress = Callable[[int, int], None]  # (rows done, rows in the file)


def import_table(run: Runner, path: Path, mapping_name: str, *, poller: Poller, shown_name: str,
                 limits: Limits | None = None, progress: Progress | None = None,
                 batch_rows: int | None = None) -> ImportReport:
    """Import a spreadsheet in batches of `batch_rows` (default: the limits' batch_rows, the setting
    YUQING_IMPORT_BATCH_ROWS), each its own transaction with its own audit record. The file is
    checked first (format, zip-bomb limits, rows, cell length) so a refused file stores nothing;
    then it is streamed, one batch in memory at a time."""
    limits = limits or Limits()
    mapping: Mapping = load_mapping(mapping_name)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise YuqingError("E_IMPORT_FORMAT", path=shown_name)
    now = run(_allowed_at)
    total = check_table(path, limits, shown=shown_name)
    if progress:
        progress(0, total)
    stats = StoreStats()
    rows = 0
    errors: list[tuple[int, str]] = []
    size = batch_rows or limits.batch_rows
    batches = iter_item_batches(iter_table(path, limits), mapping, path=Path(shown_name), now=now, size=size)
    for batch in batches:
        stats.add(run(partial(_store_import_batch, batch=batch, mapping=mapping, poller=poller, shown_name=shown_name)))
        rows += batch.rows
        errors.extend(batch.errors)
        if progress:
            progress(rows, total)
    messages = tuple(YuqingError("E_IMPORT_ROW", row=row, problem=problem).message for row, problem in errors)
    return ImportReport(rows, stats.new, stats.duplicate, messages, tuple(row for row, _ in errors))


def _allowed_at(writer: Writer) -> datetime:
    """The import's `now`, once the account is known to be allowed to import."""
    writer.require_writer("导入表格")
    return writer.now


def _store_import_batch(writer: Writer, *, batch: ImportRows, mapping: Mapping, poller: Poller,
                        shown_name: str) -> StoreStats:
    writer.require_writer("导入表格")
    session = writer.session
    url = f"import:{mapping.source}"
    feed = office_feed(session, url)
    if feed is None:
        feed = add_feed(writer, url, name=mapping.source, kind="import")
    by_source: dict[str, list[Any]] = {}
    for _, item, source in batch.items:
        by_source.setdefault(source, []).append(item)
    stats = StoreStats()
    assigned = assigned_unit_codes(writer, batch.units)
    for source, items in by_source.items():
        stats.add(store_chosen_items(session, feed, items, now=writer.now, classify=poller.classify(session), source=source,
                                     assigned_units=assigned))
    numbers = [number for number, _, _ in batch.items] + [row for row, _ in batch.errors]
    writer.audit("import", feed.id, "import", None,
                 {"file": Path(shown_name).name, "mapping": mapping.name, "rows": batch.rows,
                  "first_row": min(numbers, default=None), "last_row": max(numbers, default=None),
                  "new": stats.new, "duplicate": stats.duplicate, "bad_rows": [row for row, _ in batch.errors]})
    return stats
