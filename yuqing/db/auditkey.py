"""The audit key and checkpoints: anchors that whoever can write the database cannot rewrite.

The key (32 random bytes, hex, mode 0600) lives outside the database (YUQING_AUDIT_KEY_FILE, by
default `audit.key` in the data folder); every audit record carries HMAC-SHA-256(key, hash), so a
chain edited and recomputed, or a record appended, without the key does not verify. A checkpoint
{count, head, at, mac} is written to an append-only file outside the database (and can be posted
to a group robot); verify checks that the chain still holds every checkpoint it knows of, which
catches what the chain alone cannot: records cut off at the end, or the whole table wiped.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yuqing.errors import YuqingError

_cache: dict[Path, tuple[float, bytes]] = {}


def key_path() -> Path:
    from yuqing.settings import load_config

    return load_config().audit_key_path


def create_key(path: Path) -> bool:
    """Create the key file (mode 0600) when it is absent. True if it was created now."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return True


def load_key(path: Path | None = None) -> bytes | None:
    """The key, or None when the file does not exist. An unreadable or malformed file is refused."""
    path = path or key_path()
    try:
        stamp = path.stat().st_mtime
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise YuqingError("E_AUDIT_KEY", path=str(path), detail=exc.strerror or str(exc)) from exc
    cached = _cache.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise YuqingError("E_AUDIT_KEY", path=str(path), detail="不是有效的密钥文件") from exc
    if len(key) < 32:
        raise YuqingError("E_AUDIT_KEY", path=str(path), detail="密钥过短")
    _cache[path] = (stamp, key)
    return key


def mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a, b)


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head: str
    at: datetime
    mac: str | None
    source: str
    what: str = ""  # what took it: 通报、评分快照、每日检查点 (not signed: a label for people)

    def payload(self) -> str:
        return checkpoint_payload(self.count, self.head, self.at)

    def as_json(self) -> dict[str, Any]:
        from timeline.clock import iso_beijing

        data: dict[str, Any] = {"count": self.count, "head": self.head, "at": iso_beijing(self.at), "mac": self.mac}
        if self.what:
            data["what"] = self.what
        return data


def checkpoint_payload(count: int, head: str, at: datetime) -> str:
    return json.dumps([count, head, at.astimezone(UTC).isoformat(timespec="seconds")], separators=(",", ":"))


def make_checkpoint(count: int, head: str, at: datetime, key: bytes | None, source: str = "",
                    what: str = "") -> Checkpoint:
    at = at.astimezone(UTC).replace(microsecond=0)
    return Checkpoint(count, head, at, mac(key, checkpoint_payload(count, head, at)) if key else None, source, what)


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """One JSON line, appended (never rewritten), flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(checkpoint.as_json(), ensure_ascii=False) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise YuqingError("E_FILE_WRITE", path=str(path), detail=exc.strerror or str(exc)) from exc


MAX_CHECKPOINT_LINES = 1_000_000


def read_checkpoints(path: Path, *, missing_ok: bool) -> list[Checkpoint]:
    """Checkpoints from a file: JSON lines {count, head, at, mac} (a checkpoint file, or a copy of
    the lines posted to a group chat). Other lines are skipped; a file with none is refused."""
    from timeline.clock import parse_user_time

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return []
        raise YuqingError("E_FILE_READ", path=str(path), detail="文件不存在") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise YuqingError("E_FILE_READ", path=str(path), detail=getattr(exc, "strerror", None) or "无法读取") from exc
    found: list[Checkpoint] = []
    for number, line in enumerate(text.splitlines()[:MAX_CHECKPOINT_LINES], start=1):
        start = line.find("{")
        if start < 0:
            continue
        try:
            data = json.loads(line[start:])
            count, head = int(data["count"]), str(data["head"])
            at = parse_user_time(str(data["at"]))
        except (ValueError, KeyError, TypeError, YuqingError):
            continue
        if count < 0 or len(head) != 64:
            continue
        what = str(data.get("what") or "")[:60]
        label = f"{path.name} 第 {number} 行" + (f"（{what}）" if what else "")
        found.append(Checkpoint(count, head, at, data.get("mac"), label, what))
    if not found and not missing_ok:
        raise YuqingError("E_CHECKPOINT_FILE", path=str(path))
    return found


def record_checkpoint(config: Any, count: int, head: str, now: datetime, what: str) -> Checkpoint:
    """A checkpoint another act took (a bulletin, a score snapshot, the daily post), appended to the
    checkpoint file: signed when the key exists, else unsigned (the count and head still anchor)."""
    checkpoint = make_checkpoint(count, head, now, load_key(config.audit_key_path), what=what)
    append_checkpoint(config.checkpoint_file, checkpoint)
    return checkpoint


def write_checkpoint(session: Any, config: Any, now: datetime, out: Path | None = None) -> Checkpoint:
    """Sign the chain's present {count, head, time} and append it to the checkpoint file."""
    from yuqing.db.audit import count_and_head

    key = load_key(config.audit_key_path)
    if key is None:
        raise YuqingError("E_AUDIT_NO_KEY", path=str(config.audit_key_path))
    count, head = count_and_head(session)
    checkpoint = make_checkpoint(count, head, now, key)
    append_checkpoint(out or config.checkpoint_file, checkpoint)
    return checkpoint
