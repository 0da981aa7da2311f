"""Spreadsheet import from the dashboard: a preview of what the mapping finds; the import itself is
`ingest.importing.import_table`, the same call `yuqing import` makes."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.importer import load_mapping, read_table
from yuqing.db.imports import ImportReport, import_table  # noqa: F401 - the page calls them through here
from yuqing.errors import YuqingError


@dataclass(frozen=True)
class Preview:
    """The first rows of a table and which column each field is read from (by the mapping)."""

    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    found: dict[str, str]
    missing: tuple[str, ...]


def preview(path: Path, mapping_name: str, *, limit: int = 5) -> Preview:
    mapping = load_mapping(mapping_name)
    table = read_table(path)
    if not table:
        raise YuqingError("E_IMPORT_EMPTY", path=path.name)
    header = tuple("" if h is None else str(h) for h in table[0])
    keys = ["".join(h.split()).lower() for h in header]
    found: dict[str, str] = {}
    for field, candidates in mapping.columns.items():
        for candidate in candidates:
            key = "".join(candidate.split()).lower()
            if key in keys:
                found[field] = header[keys.index(key)]
                break
    missing = tuple(f for f in mapping.columns if f not in found)
    return Preview(header, tuple(tuple(r) for r in table[1:limit + 1]), found, missing)
