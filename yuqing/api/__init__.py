"""The HTTP API under /api/v1: Starlette routes beside the Streamlit app.

JSON shapes are those of the CLI's `--json`; every write goes through the write service, so roles
and validation are the same as on the command line. Bad input answers 4xx with
`{"error": {"code": "E_…", "message": "…"}}`, never 5xx.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from yuqing.api.openapi import document
from yuqing.db.service import Actor
from yuqing.db.types import MAX_ID
from yuqing.errors import YuqingError
from yuqing.vocabulary import for_people

MAX_BODY = 1_000_000  # bytes; a push of 500 items with long bodies fits

_STATUS = {
    "E_API_UNAUTHORIZED": 401,
    "E_API_NOT_FOUND": 404,
    "E_INCIDENT_MISSING": 404,
    "E_API_METHOD": 405,
    "E_API_TOO_LARGE": 413,
}


def status_for(code: str) -> int:
    if code in _STATUS:
        return _STATUS[code]
    if code.startswith("E_FORBIDDEN"):
        return 403
    if code == "E_DB_UNREACHABLE":
        return 503
    return 400


def error_response(exc: YuqingError) -> JSONResponse:
    # The sentence another system shows its user: no command-line options in it (the code is the
    # stable part for programs).
    message = for_people(exc.code, exc.params, exc.message)
    return JSONResponse({"error": {"code": exc.code, "message": message}}, status_code=status_for(exc.code))


class Api:
    """The routes, bound to one database (each replica makes its own) and a clock (tests pass one)."""

    def __init__(self, database_factory: Callable[[], Any], *, preset: str, evidence_dir: Any,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._database_factory = database_factory
        self._database: Any = None
        self.preset = preset
        self.evidence_dir = evidence_dir
        self.clock = clock or (lambda: datetime.now(UTC).replace(microsecond=0))

    @property
    def database(self) -> Any:
        if self._database is None:
            self._database = self._database_factory()
        return self._database

    # --- plumbing ---------------------------------------------------------------------------

    def _actor(self, request: Request, session: Any) -> Actor:
        from yuqing.db.tokens import actor_for_token

        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise YuqingError("E_API_UNAUTHORIZED")
        actor = actor_for_token(session, token.strip(), now=self.clock())
        if actor is None:
            raise YuqingError("E_API_UNAUTHORIZED")
        return actor

    def _writer(self, session: Any, actor: Actor, *, classify: bool = False) -> Any:
        from yuqing.db.service import Writer

        suggest = None
        if classify:
            from yuqing.db.classifying import classifier_for, suggester
            from yuqing.db.service import unit_refs

            suggest = suggester(classifier_for(unit_refs(session)), self.preset)
        return Writer(session, actor, now=self.clock(), preset=self.preset, evidence_dir=self.evidence_dir,
                      classify=suggest)

    def _endpoint(self, handler: Callable[..., Any], *, body: bool = False, status: int = 200) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            try:
                payload = await _read_json(request) if body else None
                result = await _in_thread(self._run, handler, request, payload)
            except YuqingError as exc:
                return error_response(exc)
            if isinstance(result, Paged):
                return JSONResponse(result.body, status_code=status, headers=result.headers())
            return JSONResponse(result, status_code=status)

        return endpoint

    def _run(self, handler: Callable[..., Any], request: Request, payload: Any) -> Any:
        # The token is checked (and its last use recorded) in its own transaction, so a refused
        # write does not roll back the record of who tried it.
        with self.database.session() as session:
            actor = self._actor(request, session)
        # Everything after the token check sees and writes the token's office only (yuqing.db.offices).
        with self.database.for_office(actor.office_id).session() as session:
            return handler(session, actor, request, payload)

    def _now(self, request: Request) -> datetime:
        from timeline.clock import parse_user_time

        text = request.query_params.get("now")
        return parse_user_time(text) if text else self.clock()

    # --- reads --------------------------------------------------------------------------------

    def incidents(self, session: Any, actor: Actor, request: Request, _: Any) -> Any:
        from classify.units import UnitResolver
        from yuqing.db.incidents import incident_json, incident_page, iter_incidents, open_ranking
        from yuqing.db.offices import office_place
        from yuqing.db.service import unit_refs

        now = self._now(request)
        open_only = _flag(request.query_params.get("open"), "open")
        unit = request.query_params.get("unit")
        limit = _count(request.query_params.get("limit"), "limit", least=1)
        offset = _count(request.query_params.get("offset"), "offset", least=0) or 0
        unit_code = UnitResolver(unit_refs(session), place=office_place(session)).resolve(unit).code if unit else None
        # Open incidents in the board's order (most urgent first at `now`), ranked and paged in SQL.
        page: Any = (
            open_ranking(session, now, unit_code=unit_code, limit=limit, offset=offset)
            if open_only
            else incident_page(session, unit_code=unit_code, limit=limit, offset=offset)
        )
        body = [incident_json(v, now, with_actions=False) for v in iter_incidents(session, list(page.ids))]
        return Paged(body, page.total, offset)

    def incident(self, session: Any, actor: Actor, request: Request, _: Any) -> Any:
        from yuqing.db.incidents import get_incident, incident_json

        incident_id = _path_id(request)
        now = self._now(request)
        view = get_incident(session, incident_id)
        if view is None:
            raise YuqingError("E_INCIDENT_MISSING", id=incident_id)
        return incident_json(view, now)

    def scores(self, session: Any, actor: Actor, request: Request, _: Any) -> Any:
        from scoring import as_json
        from yuqing.db.scoring_reads import load_year

        text = request.query_params.get("year")
        if not text:
            raise YuqingError("E_API_FIELD", field="year", problem="缺少年份")
        try:
            year = int(text)
        except ValueError:
            raise YuqingError("E_API_FIELD", field="year", problem="不是有效的年份") from None
        if not 2000 <= year <= 2100:
            raise YuqingError("E_API_FIELD", field="year", problem="年份必须在 2000 到 2100 之间")
        return as_json(load_year(session, year, now=self._now(request)).score())

    def triage(self, session: Any, actor: Actor, request: Request, _: Any) -> Any:
        from yuqing.db.triage import item_json, pending

        limit = _count(request.query_params.get("limit"), "limit", least=1)
        offset = _count(request.query_params.get("offset"), "offset", least=0) or 0
        page = pending(session, limit=limit, offset=offset, now=self._now(request))
        return Paged([item_json(i) for i in page.items], page.total, offset)

    # --- writes -------------------------------------------------------------------------------

    def add_incident(self, session: Any, actor: Actor, request: Request, body: Any) -> Any:
        from yuqing.db.incidents import get_incident, incident_json
        from yuqing.db.service import NewIncident

        fields = _object(body, {
            "title": str, "unit": str, "co_units": list, "parent_id": int, "summary": str, "first_post_at": str,
            "detected_at": str, "level": str, "sudden": bool, "category": str, "source_url": str, "classify": bool,
        }, required=("title", "unit"))
        new = NewIncident(
            title=fields["title"], unit=fields["unit"], co_units=tuple(_strings(fields.get("co_units"), "co_units")),
            parent_id=fields.get("parent_id"), summary=fields.get("summary"),
            first_post_at=_time(fields.get("first_post_at"), "first_post_at"),
            detected_at=_time(fields.get("detected_at"), "detected_at"),
            level=fields.get("level"), sudden=fields.get("sudden"), category=fields.get("category"),
            source_url=fields.get("source_url"), classify=fields.get("classify", True),
        )
        incident_id = self._writer(session, actor, classify=new.classify).add_incident(new).id
        session.flush()
        view = get_incident(session, incident_id)
        assert view is not None  # added in this transaction
        return incident_json(view, self.clock())

    def add_action(self, session: Any, actor: Actor, request: Request, body: Any) -> Any:
        from yuqing.db.service import NewAction

        incident_id = _path_id(request)
        fields = _object(body, {
            "kind": str, "at": str, "channels": list, "by_principal": bool, "evidence_url": str, "note": str,
            "reason": str,
        }, required=("kind", "at"))
        new = NewAction(
            kind=fields["kind"], at=_time(fields["at"], "at"),  # type: ignore[arg-type]
            channels=tuple(_strings(fields.get("channels"), "channels")),
            by_principal=fields.get("by_principal", False), evidence_url=fields.get("evidence_url"),
            note=fields.get("note"), reason=fields.get("reason"),
        )
        action = self._writer(session, actor).record_action(incident_id, new)
        return {"id": action.id, "incident_id": incident_id}

    def push(self, session: Any, actor: Actor, request: Request, body: Any) -> Any:
        from yuqing.db.pushes import push_items
        from yuqing.worker import Poller

        entries = body if isinstance(body, list) else [body]
        poller = Poller(self.database, preset=self.preset)
        return push_items(self._writer(session, actor), entries, poller=poller).as_json()

    # --- the routes ---------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        async def openapi(_: Request) -> Response:
            return JSONResponse(document())

        return [
            Route("/api/v1/openapi.json", openapi, methods=["GET"]),
            Route("/api/v1/incidents", self._endpoint(self.incidents), methods=["GET"]),
            Route("/api/v1/incidents", self._endpoint(self.add_incident, body=True, status=201), methods=["POST"]),
            Route("/api/v1/incidents/{id}", self._endpoint(self.incident), methods=["GET"]),
            Route("/api/v1/incidents/{id}/actions", self._endpoint(self.add_action, body=True, status=201),
                  methods=["POST"]),
            Route("/api/v1/scores", self._endpoint(self.scores), methods=["GET"]),
            Route("/api/v1/triage", self._endpoint(self.triage), methods=["GET"]),
            Route("/api/v1/items", self._endpoint(self.push, body=True), methods=["POST"]),
        ]


async def _in_thread(function: Callable[..., Any], *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)


async def _read_json(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise YuqingError("E_API_TOO_LARGE", limit=MAX_BODY)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise YuqingError("E_API_TOO_LARGE", limit=MAX_BODY)
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise YuqingError("E_API_BAD_JSON", detail="不是 UTF-8 编码") from None
    except json.JSONDecodeError as exc:
        raise YuqingError("E_API_BAD_JSON", detail=f"第 {exc.lineno} 行第 {exc.colno} 列") from None


def _path_id(request: Request) -> int:
    text = request.path_params.get("id", "")
    if not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise YuqingError("E_API_FIELD", field="id", problem="不是有效的编号")
    return int(text)


@dataclass(frozen=True)
class Paged:
    """A list body and, in headers, how many match in all and where this page starts."""

    body: list[Any]
    total: int
    offset: int

    def headers(self) -> dict[str, str]:
        return {"X-Total-Count": str(self.total), "X-Offset": str(self.offset)}


def _count(text: str | None, name: str, *, least: int) -> int | None:
    if text is None or text == "":
        return None
    if not text.isdigit() or not least <= int(text) <= MAX_ID:
        raise YuqingError("E_API_FIELD", field=name, problem=f"应为不小于 {least} 的整数")
    return int(text)


def _flag(text: str | None, name: str) -> bool:
    if text is None or text == "":
        return False
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise YuqingError("E_API_FIELD", field=name, problem="应为 true 或 false")


_TYPE_NAMES = {str: "字符串", int: "整数", bool: "true 或 false", list: "数组"}


def _object(body: Any, spec: dict[str, type], *, required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise YuqingError("E_API_FIELD", field="（请求体）", problem="应为 JSON 对象")
    unknown = sorted(set(body) - set(spec))
    if unknown:
        raise YuqingError("E_API_FIELD", field=unknown[0], problem="不认识的字段")
    for name in required:
        if body.get(name) in (None, ""):
            raise YuqingError("E_API_FIELD", field=name, problem="必须给出")
    for name, kind in spec.items():
        value = body.get(name)
        if value is None:
            continue
        # bool is an int in Python: a JSON true is no record id.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise YuqingError("E_API_FIELD", field=name, problem=f"应为{_TYPE_NAMES[kind]}")
        if isinstance(value, str) and "\x00" in value:
            raise YuqingError("E_API_FIELD", field=name, problem="含有不可见的空字符")
        if kind is int and isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise YuqingError("E_API_FIELD", field=name, problem="不是有效的编号")
    return {k: v for k, v in body.items() if v is not None}


def _strings(values: list[Any] | None, name: str) -> list[str]:
    values = values or []
    if not all(isinstance(v, str) for v in values):
        raise YuqingError("E_API_FIELD", field=name, problem="应为字符串数组")
    return values


def _time(text: str | None, name: str) -> datetime | None:
    from timeline.clock import parse_user_time

    return None if text is None else parse_user_time(text)
