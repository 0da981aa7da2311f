"""The ASGI server: Streamlit's `st.App` with the project's own routes beside it — the HTTP API,
`/healthz`, `/metrics`, the login form's `/auth/login` and `/auth/logout` — and the workers (feed poller, alert loop) as supervised children.

`yuqing serve` runs it under uvicorn; every replica reads sessions, tokens and screens from the
database, so several replicas behind one proxy serve the same users.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from yuqing.api import Api
from yuqing.errors import YuqingError
from yuqing.login_routes import LoginRoutes
from yuqing.settings import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
STREAMLIT_OPTIONS = {
    "STREAMLIT_SERVER_HEADLESS": "true",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "type",
    "STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "50",
}


class Metrics:
    """Prometheus metrics: HTTP requests counted as they pass, the store's state read at scrape time."""

    def __init__(self, database: Callable[[], Any], clock: Callable[[], datetime]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("yuqing_http_requests", "HTTP requests by route and status", ["route", "status"],
                                registry=self.registry)
        self._database = database
        self._clock = clock
        self.registry.register(self)

    def collect(self) -> Any:
        from yuqing.db.monitoring import store_state

        with self._database().session() as session:
            state = store_state(session, now=self._clock())
        windows = GaugeMetricFamily("yuqing_open_incident_windows", "Windows of open incidents by window and state",
                                    labels=["window", "state"])
        for (window, window_state), count in sorted(state.windows.items()):
            windows.add_metric([window, window_state], count)
        yield windows
        yield GaugeMetricFamily("yuqing_open_incidents", "Open incidents", value=state.open_incidents)
        yield GaugeMetricFamily("yuqing_overdue_windows", "Unmet windows past their deadline (open incidents)",
                                value=state.overdue_windows)
        yield GaugeMetricFamily("yuqing_failing_feeds", "Enabled feeds whose last poll failed",
                                value=state.failing_feeds)
        yield GaugeMetricFamily("yuqing_last_poll_age_seconds", "Seconds since the last poll of any feed (-1: never)",
                                value=state.last_poll_age_s if state.last_poll_age_s is not None else -1)

    def describe(self) -> list[Any]:
        return []  # collected on scrape only: the registry must not query the database when registering


class CountRequests:
    """ASGI middleware: count every HTTP request by its route template (not the raw path) and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: list[Route]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = next((r.path for r in self.routes if r.matches(scope)[0] == Match.FULL), None)
        label = route or ("/api/v1/*" if scope["path"].startswith("/api/") else "streamlit")
        status = {"code": 500}

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.requests.labels(label, str(status["code"])).inc()


LOOPBACK = ("127.0.0.1/32", "::1/128")


class TrustGate:
    """ASGI middleware, outermost: the single-sign-on header counts only from a trusted proxy.

    A request carrying `YUQING_AUTH_HEADER` from any other peer is refused with a sentence (a
    websocket is closed), so a client that reaches the port directly cannot claim to be admin.
    Without YUQING_TRUSTED_PROXIES only loopback is trusted (a proxy on the same machine).
    """

    def __init__(self, app: ASGIApp, *, header: str, trusted: tuple[str, ...]) -> None:
        import ipaddress

        self.app = app
        self.header = header.lower().encode("latin-1")
        self.networks = [ipaddress.ip_network(n) for n in (trusted or LOOPBACK)]

    def _trusted(self, scope: Scope) -> bool:
        import ipaddress

        client = scope.get("client")
        try:
            address = ipaddress.ip_address(client[0]) if client else None
        except ValueError:
            return False
        return address is not None and any(address in n for n in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.header and scope["type"] in ("http", "websocket")
                and any(k == self.header for k, _ in scope.get("headers", ())) and not self._trusted(scope)):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            sentence = YuqingError("E_AUTH_HEADER_UNTRUSTED", header=self.header.decode()).message
            await Response(sentence, status_code=403, media_type="text/plain; charset=utf-8")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def wrap(app: ASGIApp, config: Config) -> ASGIApp:
    """The trust gate sees the real peer; then uvicorn's proxy-headers handling, trusting the same
    proxies, sets the client address and scheme from X-Forwarded-For / -Proto."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    trusted = config.trusted_proxies or LOOPBACK
    return TrustGate(ProxyHeadersMiddleware(app, trusted_hosts=list(trusted)), header=config.auth_header,  # type: ignore[arg-type]  # uvicorn and Starlette type the same ASGI callable differently
                     trusted=config.trusted_proxies)


def health(database: Any) -> tuple[int, dict[str, str]]:
    """200 when the database answers and is migrated to head; 503 with the reason otherwise."""
    try:
        database.require_current_schema()
    except YuqingError as exc:
        return 503, {"status": "error", "code": exc.code, "reason": exc.message}
    return 200, {"status": "ok"}


class Workers:
    """The feed poller and the alert loop as child processes of `serve`, stopped with it.

    Children get PR_SET_PDEATHSIG, so even a `kill -9` of serve leaves no orphan polling on.
    """

    def __init__(self, commands: list[list[str]], env: dict[str, str]) -> None:
        self.commands = commands
        self.env = env
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for command in self.commands:
            self.children.append(subprocess.Popen(command, env=self.env, preexec_fn=_die_with_parent))

    def stop(self, *, grace: float = 10.0) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)  # the loops stop cleanly on Ctrl-C
        deadline = time.monotonic() + grace
        for child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=5)
        self.children.clear()


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def worker_commands(config: Config, *, poll_interval: int = 60, alert_interval: int = 60) -> list[list[str]]:
    yuqing = [sys.executable, "-m", "yuqing.cli"]
    commands = [[*yuqing, "ingest", "run", "--interval", str(poll_interval)]]
    if config.alert_routes is not None:
        commands.append([*yuqing, "alerts", "run", "--interval", str(alert_interval)])
    return commands


def build_app(config: Config | None = None, *, workers: Workers | None = None,
              clock: Callable[[], datetime] | None = None) -> Any:
    """The ASGI application: Streamlit at `/`, the API at `/api/v1`, `/healthz`, `/metrics`, `/auth/*`."""
    for name, value in STREAMLIT_OPTIONS.items():
        os.environ.setdefault(name, value)
    import streamlit as st
    from starlette.middleware import Middleware

    from yuqing.db.session import Database

    config = config or load_config()
    clock = clock or (lambda: datetime.now(UTC).replace(microsecond=0))
    holder: dict[str, Any] = {}

    def database() -> Any:
        if "db" not in holder:
            holder["db"] = Database(config.database_url)
        return holder["db"]

    api = Api(database, preset=config.preset, evidence_dir=config.evidence_dir, clock=clock)
    metrics = Metrics(database, clock)

    def healthz(_: Request) -> Response:
        status, body = health(database())
        return JSONResponse(body, status_code=status)

    def metrics_page(_: Request) -> Response:
        try:
            body = generate_latest(metrics.registry)
        except YuqingError as exc:
            return JSONResponse({"status": "error", "code": exc.code, "reason": exc.message}, status_code=503)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    def board(request: Request) -> Response:
        # The board is Streamlit's default page, served at `/`: `/board?screen=1` is the bookmark people
        # type, so it lands there with its query (screen mode, unit, a wall display's token) intact.
        query = request.url.query
        return RedirectResponse("/" + (f"?{query}" if query else ""), status_code=307)

    api_routes = api.routes()
    login_routes = LoginRoutes(database, config, clock).routes()

    def api_missing(request: Request) -> Response:
        # Streamlit answers any other path with its page: under /api/ a client gets a JSON error instead.
        wrong_method = any(r.matches(request.scope)[0] == Match.PARTIAL for r in api_routes)
        error = (YuqingError("E_API_METHOD", method=request.method) if wrong_method
                 else YuqingError("E_API_NOT_FOUND", path=request.url.path))
        return JSONResponse({"error": {"code": error.code, "message": error.message}},
                            status_code=405 if wrong_method else 404)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    routes = [*api_routes, Route("/api/{rest:path}", api_missing, methods=methods),
              Route("/healthz", healthz, methods=["GET"]), Route("/metrics", metrics_page, methods=["GET"]),
              Route("/board", board, methods=["GET"]), *login_routes]

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[dict[str, Any]]:
        if workers is not None:
            workers.start()
        # jieba's dictionary takes 1–2 CPU seconds to load: once per process, at start, not in the first
        # 待研判 view (its similar-incident titles are tokenised with it).
        threading.Thread(target=warm_tokenizer, name="warm-jieba", daemon=True).start()
        try:
            yield {}
        finally:
            if workers is not None:
                workers.stop()
            if "db" in holder:
                holder.pop("db").dispose()

    return st.App(str(ROOT / "dashboard.py"), routes=routes, lifespan=lifespan,
                  middleware=[Middleware(CountRequests, metrics=metrics, routes=routes)])


def warm_tokenizer() -> None:
    from classify.segment import tokenizer_for

    tokenizer_for(())


def serve(config: Config, *, host: str, port: int, with_workers: bool) -> int:
    import uvicorn

    env = dict(os.environ)
    env["YUQING_DATABASE_URL"] = config.database_url
    workers = Workers(worker_commands(config), env) if with_workers else None
    app = wrap(build_app(config, workers=workers), config)
    # proxy_headers off here: `wrap` applies uvicorn's own ProxyHeadersMiddleware behind the trust gate.
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False,
                timeout_graceful_shutdown=10)
    return 0
