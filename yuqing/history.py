"""An incident's audit records in words: the names of entities, operations and fields, and the
change a record made (`级别：一般 → 重大`) — for the detail page and the 处置台账 alike."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from timeline.clock import display_seconds
from timeline.model import CHANNELS
from yuqing.vocabulary import label

_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)")
# Fields whose recorded codes have names: 类型 response → 回应, 状态 open → 处置中, 渠道 weibo → 微博.
_NAMED = {"kind": "ACTION", "status": "STATUS", "triage_status": "ITEM"}


def entity_name(entity: str) -> str:
    return label("AUDIT_ENTITY", entity)


def action_name(action: str) -> str:
    return label("AUDIT_ACTION", action)


def value_text(value: Any, *, full_hashes: bool = False, field: str | None = None,
               units: Mapping[str, str] | None = None) -> str:
    """A recorded value as text: codes of named fields by their names, recorded instants in Beijing
    time, a SHA-256 shortened to 12 characters unless `full_hashes`."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if units and field in ("unit", "co_units"):
        codes = value if isinstance(value, list) else [value]
        return "、".join(units.get(str(c), str(c)) for c in codes)
    if field == "channels" and isinstance(value, list):
        return "、".join(CHANNELS.get(str(v), str(v)) for v in value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if field in _NAMED and isinstance(value, str):
        return label(_NAMED[field], value)
    if isinstance(value, str) and _ISO.fullmatch(value):
        return display_seconds(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if not full_hashes and isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:12] + "…"
    return str(value)


def change_text(before: str | None, after: str | None, *, full_hashes: bool = False,
                units: Mapping[str, str] | None = None) -> str:
    """`级别：一般 → 重大；突发：否 → 是` for changes, `键：值` for creations; unit codes by their names
    where `units` knows them."""
    old: dict[str, Any] = json.loads(before) if before else {}
    new: dict[str, Any] = json.loads(after) if after else {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ""
    parts = []
    for key in dict.fromkeys([*old, *new]):
        if key == "suggested_fields":
            continue
        name = label("AUDIT_FIELD", key)
        show = lambda v, k=key: value_text(v, full_hashes=full_hashes, field=k, units=units)  # noqa: E731 - one formatter for both sides
        if key in old and key in new:
            if old[key] != new[key]:
                parts.append(f"{name}：{show(old[key])} → {show(new[key])}")
        elif key in new:
            if new[key] not in (None, [], ""):
                parts.append(f"{name}：{show(new[key])}")
        else:
            parts.append(f"{name}：{show(old[key])} →（删除）")
    return "；".join(parts)
