"""`yuqing timeline check`: judge a JSON description of an incident without any database."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from timeline.clock import parse_user_time
from timeline.engine import ActionAt, Case, Grading, evaluate, verdict_as_json
from timeline.model import parse_action_kind, parse_category, parse_level
from timeline.presets import load_preset
from timeline.words import YuqingError


def _bad(problem: str) -> YuqingError:
    return YuqingError("E_TIMELINE_INPUT", problem=problem)


def parse_case(data: Any) -> Case:
    """Input: {"started_at": T, "level": L|null, "sudden": bool, "category": C|null,
    "actions": [{"kind": K, "at": T}, ...]}."""
    if not isinstance(data, dict):
        raise _bad("顶层必须是 JSON 对象")
    if "started_at" not in data or not isinstance(data["started_at"], str):
        raise _bad("缺少 started_at（字符串时间）")
    started = parse_user_time(data["started_at"])
    level = data.get("level")
    if level is not None and not isinstance(level, str):
        raise _bad("level 必须是字符串或 null")
    sudden = data.get("sudden", False)
    if sudden is not None and not isinstance(sudden, bool):
        raise _bad("sudden 必须是 true 或 false")
    category = data.get("category")
    if category is not None and not isinstance(category, str):
        raise _bad("category 必须是字符串或 null")
    actions_data = data.get("actions", [])
    if not isinstance(actions_data, list):
        raise _bad("actions 必须是列表")
    actions: list[ActionAt] = []
    for index, item in enumerate(actions_data):
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str) or not isinstance(item.get("at"), str):
            raise _bad(f"actions[{index}] 必须包含 kind 和 at")
        at = parse_user_time(item["at"])
        if at < started:
            raise YuqingError("E_ACTION_BEFORE_START", start=data["started_at"])
        actions.append(ActionAt(parse_action_kind(item["kind"]), at))
    return Case(
        started_at=started,
        grading=Grading(parse_level(level), sudden, parse_category(category)),
        actions=tuple(actions),
    )


# A case is a few dozen lines: bounds far above any real one, far below what hurts the process.
MAX_DOCUMENT_CHARS = 1_000_000
MAX_INTEGER_DIGITS = 30


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise YuqingError("E_JSON_NUMBER", digits=len(text.lstrip("-")), limit=MAX_INTEGER_DIGITS)
    return int(text)


def check_document(text: str, *, preset: str, now: datetime) -> dict[str, Any]:
    rules = load_preset(preset)
    if len(text) > MAX_DOCUMENT_CHARS:
        raise YuqingError("E_JSON_TOO_LARGE", length=len(text), limit=MAX_DOCUMENT_CHARS)
    try:
        data = json.loads(text, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise YuqingError("E_JSON", detail=f"第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}") from exc
    except RecursionError as exc:
        raise YuqingError("E_JSON_TOO_DEEP") from exc
    return verdict_as_json(evaluate(parse_case(data), rules, now=now))
