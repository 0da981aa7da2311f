"""The login routes beside the Streamlit app: `POST /auth/login` checks a plain HTML form and sets
the session cookie, `POST /auth/logout` revokes the session and clears it.

Streamlit cannot set cookies, so the login form posts here; the script then reads the cookie through
`st.context.cookies` and resolves the session from the database (yuqing.pages.auth).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from yuqing.errors import YuqingError
from yuqing.settings import Config

COOKIE = "yq_session"
MAX_FORM_BYTES = 8 * 1024
# The refusals the login form shows again (query parameter login_error); anything else is ignored.
LOGIN_ERRORS = ("E_LOGIN_FAILED", "E_LOGIN_WAIT", "E_ACCOUNT_DISABLED", "E_LOGIN_FORM")
NOTICE_PARAMS = ("login_error", "login_wait", "login_name")


def safe_next(value: str | None) -> str:
    """Where to go after the form: a path on this site only (never `//host` or a full URL)."""
    value = (value or "").strip()
    if (not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 2000
            or any(ord(c) < 32 or c == "\\" for c in value)):
        return "/"
    return value


def with_params(target: str, **params: str) -> str:
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in NOTICE_PARAMS]
    query += [(k, v) for k, v in params.items() if v]
    return parts.path + (f"?{urlencode(query)}" if query else "")


class LoginRoutes:
    def __init__(self, database: Callable[[], Any], config: Config, clock: Callable[[], datetime]) -> None:
        self.database = database
        self.config = config
        self.clock = clock

    def routes(self) -> list[Route]:
        return [Route("/auth/login", self.login, methods=["POST"]),
                Route("/auth/logout", self.logout, methods=["POST"])]

    async def _form(self, request: Request) -> dict[str, str] | None:
        try:
            declared = int(request.headers.get("content-length") or 0)
        except ValueError:
            return None
        if declared > MAX_FORM_BYTES:
            return None
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return None
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10))
        except (UnicodeDecodeError, ValueError):
            return None

    async def login(self, request: Request) -> Response:
        form = await self._form(request)
        target = safe_next((form or {}).get("next"))
        if form is None:
            return RedirectResponse(with_params(target, login_error="E_LOGIN_FORM"), status_code=303)
        name = form.get("account", "").strip()[:60]
        client = request.client.host if request.client else None
        outcome = await run_in_threadpool(self._login, name, form.get("secret", ""), client)
        if isinstance(outcome, YuqingError):
            wait = str(outcome.params.get("seconds", "")) if outcome.code == "E_LOGIN_WAIT" else ""
            return RedirectResponse(with_params(target, login_error=outcome.code, login_wait=wait, login_name=name),
                                    status_code=303)
        response = RedirectResponse(with_params(target), status_code=303)
        response.set_cookie(COOKIE, outcome, max_age=self.config.session_max_hours * 3600, path="/",
                            httponly=True, samesite="lax", secure=request.url.scheme == "https")
        return response

    def _login(self, name: str, password: str, client: str | None) -> str | YuqingError:
        from yuqing.db.logins import login

        try:
            return self.database().run(login, name, password, client=client, now=self.clock())
        except YuqingError as exc:
            return exc

    async def logout(self, request: Request) -> Response:
        from yuqing.db.logins import end_session

        token = request.cookies.get(COOKIE)
        if token:
            await run_in_threadpool(lambda: self.database().run(end_session, token, now=self.clock()))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
        return response
