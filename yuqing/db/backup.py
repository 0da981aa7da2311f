"""`yuqing backup`: a consistent copy of a live SQLite database through SQLite's backup API."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from yuqing.db.session import Database, describe_url
from yuqing.errors import YuqingError


def backup(database: Database, out: Path) -> int:
    """Copy page by page while other connections keep writing; returns the page count.

    The copy is written next to OUT and renamed into place only when complete.
    """
    url = make_url(database.url)
    if url.get_backend_name() != "sqlite":
        raise YuqingError("E_BACKUP_POSTGRES", url=describe_url(database.url))
    out = out.expanduser()
    if out.exists():
        raise YuqingError("E_BACKUP_TARGET", path=str(out))
    source_path = url.database or ""
    if not source_path or not Path(source_path).is_file():
        raise YuqingError("E_DB_NOT_INITIALISED")
    partial = out.with_name(out.name + ".part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=256)
            pages = target.execute("PRAGMA page_count").fetchone()[0]
            if target.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise YuqingError("E_BACKUP_FAILED", detail="副本完整性检查未通过")
        finally:
            target.close()
            source.close()
        os.replace(partial, out)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise YuqingError("E_BACKUP_FAILED", detail=str(exc)) from exc
    except YuqingError:
        partial.unlink(missing_ok=True)
        raise
    return int(pages)
