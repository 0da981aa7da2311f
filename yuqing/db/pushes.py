"""Items pushed over the HTTP API (舆情 vendors, 12345 platforms): the same dedup, classification and
triage path as feeds and imports, into one pseudo-feed `api:push`; all or nothing per request."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.importer import Mapping, rows_to_items
from yuqing.db.feeds import add_feed, office_feed
from yuqing.db.items import Classify, StoreStats, _find_existing, store_chosen_items
from yuqing.db.service import Writer
from yuqing.errors import YuqingError
from yuqing.worker import Poller

PUSH_FEED_URL = "api:push"
PUSH_SOURCE = "接口推送"
MAX_ITEMS = 500
FIELDS = ("title", "text", "url", "published_at", "source", "unit")
_MAPPING = Mapping(
    name="api", title=PUSH_SOURCE, source=PUSH_SOURCE, timezone="Asia/Shanghai",
    columns={"title": ("title",), "text": ("text",), "link": ("url",), "published": ("published_at",),
             "source": ("source",)},
)


@dataclass(frozen=True)
class PushReport:
    stored: int
    duplicates: int
    items: tuple[tuple[int, str], ...]  # (item id, triage state), in the order pushed

    def as_json(self) -> dict[str, Any]:
        return {"stored": self.stored, "duplicates": self.duplicates,
                "items": [{"id": i, "state": s} for i, s in self.items]}


def _check_entry(index: int, entry: Any) -> dict[str, Any]:
    where = f"items[{index}]"
    if not isinstance(entry, dict):
        raise YuqingError("E_API_FIELD", field=where, problem="应为对象")
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise YuqingError("E_API_FIELD", field=f"{where}.{unknown[0]}", problem="不认识的字段")
    for name in FIELDS:
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            raise YuqingError("E_API_FIELD", field=f"{where}.{name}", problem="应为字符串")
    if not (entry.get("title") or "").strip() and not (entry.get("text") or "").strip():
        raise YuqingError("E_API_FIELD", field=f"{where}.title", problem="标题和正文不能都为空")
    if not (entry.get("published_at") or "").strip():
        raise YuqingError("E_API_FIELD", field=f"{where}.published_at", problem="缺少发布时间")
    url = (entry.get("url") or "").strip()
    if url and not url.startswith(("http://", "https://")):
        raise YuqingError("E_API_FIELD", field=f"{where}.url", problem="应为 http:// 或 https:// 开头的地址")
    if "\x00" in "".join(str(v) for v in entry.values() if v):
        raise YuqingError("E_API_FIELD", field=where, problem="含有不可见的空字符")
    return entry


def _unit(writer: Writer, text: str) -> tuple[str, str]:
    row = writer.unit(text)
    return row.code, row.name


def push_items(writer: Writer, entries: list[Any], *, poller: Poller) -> PushReport:
    """Validate every entry first (one bad entry refuses the request), then store them as one batch."""
    writer.require_writer("推送舆情信息")
    if len(entries) > MAX_ITEMS:
        raise YuqingError("E_API_TOO_MANY", limit=MAX_ITEMS)
    checked = [_check_entry(i, e) for i, e in enumerate(entries)]
    units = [_unit(writer, e["unit"]) if e.get("unit") else None for e in checked]
    rows: list[list[Any]] = [["title", "text", "url", "published_at", "source"]]
    rows += [[e.get("title"), e.get("text"), e.get("url"), e.get("published_at"), e.get("source")] for e in checked]
    parsed = rows_to_items(rows, _MAPPING, path=Path("api"), now=writer.now) if checked else None
    if parsed is not None and parsed.errors:
        row, problem = parsed.errors[0]
        raise YuqingError("E_API_FIELD", field=f"items[{row - 2}]", problem=problem)
    session = writer.session
    feed = office_feed(session, PUSH_FEED_URL)
    if feed is None:
        feed = add_feed(writer, PUSH_FEED_URL, name=PUSH_SOURCE, kind="import")
    stats = StoreStats()
    classify = poller.classify(session)
    results: list[tuple[int, str]] = []
    for (_, item, source), unit in zip(parsed.items if parsed else [], units):
        stats.add(store_chosen_items(session, feed, [item], now=writer.now, classify=_with_unit(classify, unit),
                                     source=source))
        stored = _find_existing(session, item, feed.office_id)
        assert stored is not None  # just stored, or already there
        results.append((stored.id, stored.triage_status))
    session.flush()
    writer.audit("import", feed.id, "push", None, {"items": len(results), "new": stats.new, "duplicate": stats.duplicate})
    return PushReport(stats.new, stats.duplicate, tuple(results))



def _with_unit(classify: Classify, unit: tuple[str, str] | None) -> Classify:
    """The pusher named the responsible unit: it wins over the classifier's guess."""
    if unit is None:
        return classify

    def run(title: str, text: str) -> dict[str, Any]:
        return {**classify(title, text), "unit": {"code": unit[0], "name": unit[1]}}

    return run
