"""Importing a spreadsheet into the store: mapping → rows → items, one pseudo-feed per mapping source,
stored with classification in the caller's transaction. `yuqing import` and the dashboard call this."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ingest.importer import Mapping, load_mapping, read_table, rows_to_items
from yuqing.db.feeds import add_feed
from yuqing.db.items import StoreStats, store_chosen_items
from yuqing.db.models import Feed
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


def import_table(writer: Writer, path: Path, mapping_name: str, *, poller: Poller, shown_name: str) -> ImportReport:
    writer.require_writer("导入表格")
    mapping: Mapping = load_mapping(mapping_name)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise YuqingError("E_IMPORT_FORMAT", path=shown_name)
    parsed = rows_to_items(read_table(path), mapping, path=Path(shown_name), now=writer.now)
    session = writer.session
    url = f"import:{mapping.source}"
    feed = session.scalar(select(Feed).where(Feed.url == url))
    if feed is None:
        feed = add_feed(writer, url, name=mapping.source, kind="import")
    by_source: dict[str, list[Any]] = {}
    for _, item, source in parsed.items:
        by_source.setdefault(source, []).append(item)
    stats = StoreStats()
    assigned = assigned_unit_codes(writer, parsed.units)
    for source, items in by_source.items():
        stats.add(store_chosen_items(session, feed, items, now=writer.now, classify=poller.classify(session), source=source,
                                     assigned_units=assigned))
    errors = tuple(YuqingError("E_IMPORT_ROW", row=row, problem=problem).message for row, problem in parsed.errors)
    writer.audit("import", feed.id, "import", None,
                 {"file": Path(shown_name).name, "mapping": mapping.name, "rows": parsed.rows, "new": stats.new,
                  "duplicate": stats.duplicate, "bad_rows": [row for row, _ in parsed.errors]})
    return ImportReport(parsed.rows, stats.new, stats.duplicate, errors, tuple(row for row, _ in parsed.errors))
