"""JSON shapes of classifier results, and the line-by-line batch used by `yuqing classify --jsonl`.

A malformed input line becomes an error object on the same output line and the batch goes on.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from classify.classifier import Classifier, ClassifyResult
from timeline.words import YuqingError


def classify_json(res: ClassifyResult, id: str | None, flagged: bool) -> dict[str, Any]:
    """The result as one JSON object; unknown values are null, never omitted (DESIGN.md §4)."""
    return {
        "id": id,
        "sudden": res.sudden,
        "flagged": flagged,
        "category": res.category,
        "level": res.level,
        "topics": list(res.topics),
        "unit": None if res.unit is None else {"code": res.unit.code, "name": res.unit.name},
        "keywords": list(res.keywords),
        "figures": dict(res.figures),
        "rules_version": res.rules_version,
    }


def _error(id: Any, code: str, **params: Any) -> dict[str, Any]:
    return {"id": id, "error": {"code": code, "message": YuqingError(code, **params).message}}


def _parse(line: str, number: int) -> tuple[Any, str, str | None] | dict[str, Any]:
    """(id, text, title) for a good line, or the error object to write instead."""
    try:
        item = json.loads(line)
    except ValueError as exc:
        return _error(None, "E_CLASSIFY_JSON", line=number, detail=str(exc))
    if not isinstance(item, dict):
        return _error(None, "E_CLASSIFY_NOT_OBJECT", line=number)
    id = item.get("id")
    if id is not None and (isinstance(id, bool) or not isinstance(id, (str, int))):
        return _error(None, "E_CLASSIFY_ID", line=number)
    text = item.get("text")
    if not isinstance(text, str):
        return _error(id, "E_CLASSIFY_TEXT", line=number)
    title = item.get("title")
    if title is not None and not isinstance(title, str):
        return _error(id, "E_CLASSIFY_TITLE", line=number)
    return id, text, title


def run_jsonl(
    lines: Iterable[str],
    write: Callable[[dict[str, Any]], None],
    clf: Classifier,
    is_flagged: Callable[[str | None, bool], bool],
) -> int:
    """Classify {"id", "title"?, "text"} lines in order, writing one object per non-blank line.

    Returns the number of lines written as errors.
    """
    errors = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parsed = _parse(line, number)
        if isinstance(parsed, dict):
            write(parsed)
            errors += 1
            continue
        id, text, title = parsed
        res = clf.classify(text, title)
        write(classify_json(res, id, is_flagged(res.level, res.sudden)))
    return errors
