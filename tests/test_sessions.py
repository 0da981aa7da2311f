"""Dashboard sessions in the database: the cookie's token (only its SHA-256 stored), idle timeout and
absolute lifetime, revoked by logout, password change and disable; the `/auth/*` routes."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.cliutil import yq
from tests.conftest import T0
from yuqing.db import accounts
from yuqing.db.logins import digest, end_session, open_session, resolve
from yuqing.db.models import LoginSession
from yuqing.db.service import Actor, Writer
from yuqing.db.session import Database
from yuqing.errors import YuqingError
from yuqing.login_routes import COOKIE, LoginRoutes, safe_next
from yuqing.settings import load_config

IDLE, LIFETIME = timedelta(minutes=60), timedelta(hours=12)
PASSWORD = "right-password"


def add_user(database: Database, name: str, role: str = "viewer") -> None:
    with database.session() as session:
        accounts.add_user(Writer(session, Actor("office", "admin"), now=T0, preset="sanmenxia-2017"), name,
                          role=role, unit=None, password=PASSWORD)


def who(database: Database, token: str, *, at: datetime, touch: bool = True) -> tuple[str | None, str | None]:
    found = database.run(resolve, token, now=at, idle=IDLE, lifetime=LIFETIME, touch=touch)
    return (found.actor.name if found.actor else None), found.reason


def test_only_the_tokens_hash_is_stored(database: Database):
    add_user(database, "zhang")
    token = database.run(open_session, "zhang", client="10.0.0.5", now=T0)
    assert len(token) >= 43
    with database.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM sessions"))]
    assert len(rows) == 1 and all(token not in str(v) for v in rows[0])
    assert digest(token) in rows[0] and "10.0.0.5" in rows[0]
    assert who(database, token, at=T0 + timedelta(minutes=5)) == ("zhang", None)


@pytest.mark.parametrize(("idle_minutes", "expected"), [(59, "zhang"), (60, "zhang"), (61, None)])
def test_idle_timeout_is_measured_from_the_last_seen_request(database: Database, idle_minutes: int, expected):
    add_user(database, "zhang")
    token = database.run(open_session, "zhang", client=None, now=T0)
    assert who(database, token, at=T0 + timedelta(minutes=idle_minutes))[0] == expected


def test_activity_keeps_a_session_alive_but_the_boards_refresh_does_not(database: Database):
    add_user(database, "zhang")
    token = database.run(open_session, "zhang", client=None, now=T0)
    assert who(database, token, at=T0 + timedelta(minutes=50), touch=False)[0] == "zhang"
    assert who(database, token, at=T0 + timedelta(minutes=61), touch=False) == (None, "E_SESSION_EXPIRED")
    other = database.run(open_session, "zhang", client=None, now=T0)
    for minutes in (50, 100, 150):  # a page run every 50 minutes
        assert who(database, other, at=T0 + timedelta(minutes=minutes))[0] == "zhang"
    # Once expired the session stays ended: later activity does not revive it.
    assert who(database, token, at=T0 + timedelta(minutes=62)) == (None, "E_SESSION_ENDED")


def test_absolute_lifetime_ends_even_an_active_session(database: Database):
    add_user(database, "zhang")
    token = database.run(open_session, "zhang", client=None, now=T0)
    for hour in range(1, 12):
        assert who(database, token, at=T0 + timedelta(hours=hour))[0] == "zhang"
    assert who(database, token, at=T0 + timedelta(hours=12, minutes=1)) == (None, "E_SESSION_EXPIRED")


def test_logout_ends_only_that_session(database: Database):
    add_user(database, "zhang")
    first = database.run(open_session, "zhang", client=None, now=T0)
    second = database.run(open_session, "zhang", client=None, now=T0)
    database.run(end_session, first, now=T0 + timedelta(minutes=1))
    assert who(database, first, at=T0 + timedelta(minutes=2)) == (None, "E_SESSION_ENDED")
    assert who(database, second, at=T0 + timedelta(minutes=2))[0] == "zhang"
    assert who(database, "not-a-token", at=T0) == (None, None)


def test_password_change_on_the_command_line_ends_every_session(database: Database, monkeypatch):
    add_user(database, "zhang")
    add_user(database, "li")
    tokens = [database.run(open_session, "zhang", client=None, now=T0) for _ in range(2)]
    bystander = database.run(open_session, "li", client=None, now=T0)
    now = datetime.now(UTC)
    result = yq(database.url, "users", "passwd", "zhang", "--password-stdin", stdin="a-new-password\n",
                monkeypatch=monkeypatch)
    assert result.code == 0, result.err
    for token in tokens:
        assert who(database, token, at=now) == (None, "E_SESSION_ENDED")
    assert who(database, bystander, at=T0 + timedelta(minutes=1))[0] == "li"


def test_password_change_from_a_session_keeps_that_session_and_ends_the_others(database: Database):
    add_user(database, "zhang")
    mine = database.run(open_session, "zhang", client=None, now=T0)
    elsewhere = database.run(open_session, "zhang", client=None, now=T0)
    with database.session() as session:
        writer = Writer(session, Actor("zhang", "viewer"), now=T0 + timedelta(minutes=1), preset="sanmenxia-2017")
        assert accounts.set_password(writer, "zhang", "a-new-password", keep_session=mine) == 1
    assert who(database, mine, at=T0 + timedelta(minutes=2))[0] == "zhang"
    assert who(database, elsewhere, at=T0 + timedelta(minutes=2)) == (None, "E_SESSION_ENDED")


def test_disabling_an_account_ends_its_sessions(database: Database, monkeypatch):
    add_user(database, "zhang")
    token = database.run(open_session, "zhang", client=None, now=T0)
    assert yq(database.url, "users", "add", "boss", "--role", "admin", "--password-stdin", stdin="boss-password\n",
              monkeypatch=monkeypatch).code == 0
    assert yq(database.url, "users", "disable", "zhang", actor="boss").code == 0
    assert who(database, token, at=datetime.now(UTC)) == (None, "E_SESSION_ENDED")
    with database.session() as session:
        assert session.scalar(select(LoginSession.revoked_at)) is not None


def test_a_session_of_a_disabled_account_ends_even_if_its_row_was_missed(database: Database):
    add_user(database, "zhang")
    token = database.run(open_session, "zhang", client=None, now=T0)
    with database.session() as session:
        session.execute(text("UPDATE users SET active = :off WHERE name = 'zhang'"), {"off": False})
    assert who(database, token, at=T0 + timedelta(minutes=1)) == (None, "E_SESSION_ENDED")


# --- the /auth routes ---------------------------------------------------------------------------
@pytest.fixture
def client(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("YUQING_DATABASE_URL", database.url)
    started = datetime.now(UTC)  # a clock that stands still: the delays below are not raced by argon2
    routes = LoginRoutes(lambda: database, load_config(), lambda: started)
    with TestClient(Starlette(routes=routes.routes()), follow_redirects=False, client=("10.2.0.7", 4000)) as c:
        yield c


def post_login(client: TestClient, name: str, password: str, target: str = "/incident?id=12"):
    return client.post("/auth/login", data={"account": name, "secret": password, "next": target})


def test_login_sets_an_http_only_same_site_cookie_and_returns_to_the_page(database: Database, client: TestClient):
    add_user(database, "zhang")
    response = post_login(client, "zhang", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/incident?id=12"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie and "Secure" not in cookie  # plain http on loopback
    token = cookie.split("=", 1)[1].split(";", 1)[0]
    assert who(database, token, at=datetime.now(UTC))[0] == "zhang"
    with database.session() as session:
        assert session.scalar(select(LoginSession.client)) == "10.2.0.7"


def test_the_cookie_is_secure_over_https(database: Database, monkeypatch: pytest.MonkeyPatch):
    add_user(database, "zhang")
    monkeypatch.setenv("YUQING_DATABASE_URL", database.url)
    routes = LoginRoutes(lambda: database, load_config(), lambda: datetime.now(UTC))
    with TestClient(Starlette(routes=routes.routes()), base_url="https://yuqing.example.cn",
                    follow_redirects=False) as secure:
        assert "Secure" in post_login(secure, "zhang", PASSWORD).headers["set-cookie"]


def test_the_cookie_is_secure_behind_a_trusted_proxy_that_says_https(database: Database,
                                                                      monkeypatch: pytest.MonkeyPatch):
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    add_user(database, "zhang")
    monkeypatch.setenv("YUQING_DATABASE_URL", database.url)
    routes = LoginRoutes(lambda: database, load_config(), lambda: datetime.now(UTC))
    app = ProxyHeadersMiddleware(Starlette(routes=routes.routes()), trusted_hosts=["127.0.0.1"])
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}
    with TestClient(app, follow_redirects=False, client=("127.0.0.1", 4000)) as via_proxy:  # type: ignore[arg-type]
        response = via_proxy.post("/auth/login", data={"account": "zhang", "secret": PASSWORD, "next": "/"},
                                  headers=forwarded)
        assert "Secure" in response.headers["set-cookie"]
    with TestClient(app, follow_redirects=False, client=("10.9.9.9", 4000)) as direct:  # type: ignore[arg-type]
        response = direct.post("/auth/login", data={"account": "zhang", "secret": PASSWORD, "next": "/"},
                               headers=forwarded)
        assert "Secure" not in response.headers["set-cookie"]  # an untrusted peer cannot claim https
    with database.session() as session:
        clients = sorted(session.scalars(select(LoginSession.client)))
    assert clients == ["10.9.9.9", "198.51.100.4"]


def test_a_refused_login_goes_back_to_the_form_with_its_reason(database: Database, client: TestClient):
    add_user(database, "zhang")
    response = post_login(client, "zhang", "wrong")
    assert response.status_code == 303 and "set-cookie" not in response.headers
    assert response.headers["location"] == "/incident?id=12&login_error=E_LOGIN_FAILED&login_name=zhang"
    for _ in range(4):
        post_login(client, "zhang", "wrong")
    waiting = post_login(client, "zhang", PASSWORD, "/")
    assert waiting.headers["location"].startswith("/?login_error=E_LOGIN_WAIT&login_wait=")


@pytest.mark.parametrize(("target", "safe"), [
    ("/incident?id=12", "/incident?id=12"), ("/", "/"), ("", "/"), ("https://evil.example/", "/"),
    ("//evil.example/", "/"), ("/\\evil.example", "/"), ("board", "/"), ("/a\nb", "/"),
])
def test_the_page_after_login_is_always_on_this_site(target: str, safe: str):
    assert safe_next(target) == safe


def test_an_oversized_or_broken_form_is_refused_without_a_session(database: Database, client: TestClient):
    add_user(database, "zhang")
    big = client.post("/auth/login", data={"account": "zhang", "secret": PASSWORD, "next": "/", "pad": "x" * 9000})
    assert big.status_code == 303 and big.headers["location"] == "/?login_error=E_LOGIN_FORM"
    broken = client.post("/auth/login", content=b"account=zhang&secret=\xff\xfe", headers={
        "content-type": "application/x-www-form-urlencoded"})
    assert broken.headers["location"] == "/?login_error=E_LOGIN_FORM" and "set-cookie" not in broken.headers
    with database.session() as session:
        assert session.scalar(select(LoginSession)) is None


def test_logout_revokes_the_session_and_clears_the_cookie(database: Database, client: TestClient):
    add_user(database, "zhang")
    token = post_login(client, "zhang", PASSWORD).cookies[COOKIE]
    assert client.cookies[COOKIE] == token  # the client keeps it, as a browser does
    response = client.post("/auth/logout")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert f'{COOKIE}=""' in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]
    assert who(database, token, at=datetime.now(UTC)) == (None, "E_SESSION_ENDED")
    assert client.get("/auth/logout").status_code == 405  # a link cannot log anyone out


def test_a_session_row_that_is_idle_in_the_database_is_expired(database: Database):
    # What the browser test does to skip an hour: move last_seen_at back, not the clock.
    add_user(database, "zhang")
    token = database.run(open_session, "zhang", client=None, now=T0)
    with database.session() as session:
        session.execute(update(LoginSession).values(last_seen_at=T0 - timedelta(minutes=61)))
    assert who(database, token, at=T0) == (None, "E_SESSION_EXPIRED")


def test_session_settings_are_checked():
    assert load_config({"YUQING_SESSION_MAX_HOURS": "24"}).session_max_hours == 24
    for bad in ("0", "721", "soon"):
        with pytest.raises(YuqingError) as refused:
            load_config({"YUQING_SESSION_MAX_HOURS": bad})
        assert refused.value.params["name"] == "YUQING_SESSION_MAX_HOURS"
