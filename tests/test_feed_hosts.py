"""Issue 16: the feed URL rule is checked again at fetch time and on every redirect hop, not only
when the feed is added: a staff feed whose host now resolves to 127.0.0.1 (DNS rebinding, a setting
taken back) is not fetched, and a public feed that redirects to 127.0.0.1 is refused before the local
server sees a request — with one sentence, whether a local port is open or not.

Before, the check ran once in `feeds add`; fetch() followed any http(s) redirect and connected to
whatever the name resolved to at that moment."""
from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from ingest.fetch import HostPolicy, RawResponse, fetch, http_transport
from tests.cliutil import yq
from tests.feedserver import rss
from yuqing.db.models import Feed, Item
from yuqing.db.session import Database
from yuqing.worker import Poller

PUBLIC_IP = "93.184.216.34"  # a global address (example.com's); never connected to here


class LocalServer:
    """127.0.0.1: `/feed.xml` answers a feed, `/hop` redirects to `/secret` on 127.0.0.1, every path counted."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server names its handlers so
                server.hits[self.path] += 1
                if self.path == "/hop":
                    self.send_response(302)
                    self.send_header("Location", f"http://127.0.0.1:{server.port}/secret")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = rss([("g1", "灵宝市某小区停水", "http://example.cn/1", "停水三天")])
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[LocalServer]:
    s = LocalServer()
    yield s
    s.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _resolver(table: Mapping[str, list[str]]) -> Any:
    return lambda host: table.get(host, [])


class Recorder:
    """A transport that answers a feed and records every call with the address it was told to use."""

    def __init__(self, redirect_to: str | None = None) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.redirect_to = redirect_to

    def __call__(self, url: str, headers: Mapping[str, str], *, timeout: float, deadline: float,
                 address: str | None = None) -> RawResponse:
        self.calls.append((url, address))
        if self.redirect_to and len(self.calls) == 1:
            return RawResponse(302, {"location": self.redirect_to}, lambda n: b"")
        body = iter([rss([("g", "标题", "http://x/1", "正文")]), b""])
        return RawResponse(200, {"content-type": "application/rss+xml"}, lambda n: next(body))


# --- the rule, per hop ----------------------------------------------------------------------------
@pytest.mark.parametrize("answer", [["127.0.0.1"], ["10.0.0.8"], ["::1"], ["169.254.169.254"],
                                    [PUBLIC_IP, "192.168.1.1"], []])
def test_a_staff_feed_whose_host_now_resolves_to_a_private_address_is_not_fetched(answer: list[str]):
    """At `feeds add` the name resolved to a public address; at fetch time it resolves elsewhere."""
    transport = Recorder()
    policy = HostPolicy(public_only=True, resolver=_resolver({"rebind.example.cn": answer}))
    result = fetch("http://rebind.example.cn/rss.xml", transport=transport, policy=policy)
    assert result.error_code == "E_FETCH_HOST_NOT_ALLOWED" and transport.calls == []


def test_a_staff_feed_connects_to_the_address_that_was_checked():
    transport = Recorder()
    policy = HostPolicy(public_only=True, resolver=_resolver({"news.example.cn": [PUBLIC_IP]}))
    assert fetch("https://news.example.cn/rss.xml", transport=transport, policy=policy).ok
    assert transport.calls == [("https://news.example.cn/rss.xml", PUBLIC_IP)]  # no second DNS answer


def test_a_listed_intranet_host_is_fetched_for_staff():
    transport = Recorder()
    policy = HostPolicy(public_only=True, private_hosts=frozenset({"intranet.smx.gov"}), resolver=_resolver({}))
    assert fetch("http://intranet.smx.gov/rss", transport=transport, policy=policy).ok
    assert transport.calls == [("http://intranet.smx.gov/rss", None)]


def test_a_staff_feed_may_not_be_a_local_file(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(rss([("g", "标题", "http://x/1", "正文")]))
    result = fetch(path.as_uri(), policy=HostPolicy(public_only=True))
    assert result.error_code == "E_FETCH_HOST_NOT_ALLOWED"


@pytest.mark.parametrize("public_only", [True, False], ids=["staff_feed", "admin_feed"])
def test_a_public_feed_that_redirects_to_127_0_0_1_is_refused_before_the_local_server_sees_it(
        server: LocalServer, public_only: bool):
    secret = f"http://127.0.0.1:{server.port}/secret"
    recorder = Recorder(redirect_to=secret)

    def transport(url: str, headers: Mapping[str, str], **kwargs: Any) -> RawResponse:
        if url.startswith("http://127.0.0.1"):
            return http_transport(url, headers, **kwargs)  # the real local server
        return recorder(url, headers, **kwargs)

    policy = HostPolicy(public_only=public_only, resolver=_resolver({"news.example.cn": [PUBLIC_IP],
                                                                      "127.0.0.1": ["127.0.0.1"]}))
    result = fetch("http://news.example.cn/rss.xml", transport=transport, policy=policy)
    assert result.error_code == "E_FETCH_HOST_NOT_ALLOWED"
    assert server.hits["/secret"] == 0 and len(recorder.calls) == 1


def test_an_admin_feed_may_redirect_on_its_own_host(server: LocalServer):
    """The office's own intranet feeds keep working: the first hop is the admin's choice."""
    feed = f"http://127.0.0.1:{server.port}/hop"
    result = fetch(feed, policy=HostPolicy(public_only=False))
    assert result.ok and server.hits["/secret"] == 1


def test_an_admin_feed_on_one_local_name_may_not_redirect_to_another(server: LocalServer):
    """localhost → 127.0.0.1 is a different host: only the feed's own host or a listed one."""
    class ToLoopback(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{server.port}/secret")
            self.send_header("Content-Length", "0")
            self.end_headers()

    hop = ThreadingHTTPServer(("127.0.0.1", 0), ToLoopback)
    threading.Thread(target=hop.serve_forever, daemon=True).start()
    try:
        result = fetch(f"http://localhost:{hop.server_address[1]}/", policy=HostPolicy(public_only=False))
        assert result.error_code == "E_FETCH_HOST_NOT_ALLOWED" and server.hits["/secret"] == 0
        allowed = HostPolicy(public_only=False, private_hosts=frozenset({"127.0.0.1"}))
        assert fetch(f"http://localhost:{hop.server_address[1]}/", policy=allowed).ok
    finally:
        hop.shutdown()
        hop.server_close()


def test_the_refusal_does_not_tell_whether_a_local_port_is_open(server: LocalServer):
    policy = HostPolicy(public_only=True)
    open_port = fetch(f"http://127.0.0.1:{server.port}/feed.xml", policy=policy)
    closed_port = fetch(f"http://127.0.0.1:{_closed_port()}/feed.xml", policy=policy)
    assert open_port.error_code == closed_port.error_code == "E_FETCH_HOST_NOT_ALLOWED"
    assert open_port.error_message == closed_port.error_message and open_port.http_status is None
    assert sum(server.hits.values()) == 0


# --- through the poller: the setting is read again when polling ----------------------------------
@pytest.fixture
def staff(database: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    args = ["users", "add", "lb", "--role", "staff", "--unit", "灵宝市", "--password-stdin"]
    assert yq(database.url, *args, stdin="a-long-password-1\n", monkeypatch=monkeypatch).code == 0
    return database.url


def test_an_intranet_host_taken_off_the_list_is_no_longer_fetched(staff: str, database: Database,
                                                                 server: LocalServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("YUQING_FEED_PRIVATE_HOSTS", "localhost")
    feed_url = f"http://localhost:{server.port}/feed.xml"
    added = yq(staff, "feeds", "add", feed_url, actor="lb")
    assert added.code == 0, added.err
    with database.session() as s:
        feed = s.scalar(select(Feed).where(Feed.url == feed_url))
        assert feed is not None and feed.public_only
        feed_id = feed.id
    assert Poller(database, preset="sanmenxia-2017").poll_feeds([feed_id]).stats.new == 1
    assert server.hits["/feed.xml"] == 1
    monkeypatch.setenv("YUQING_FEED_PRIVATE_HOSTS", "")  # the office takes it back
    report = Poller(database, preset="sanmenxia-2017").poll_feeds([feed_id])
    assert report.errors and server.hits["/feed.xml"] == 1
    with database.session() as s:
        feed = s.get(Feed, feed_id)
        assert feed is not None and feed.last_error_code == "E_FETCH_HOST_NOT_ALLOWED"
        assert len(s.scalars(select(Item)).all()) == 1


def test_a_listed_staff_feed_that_redirects_to_an_unlisted_local_address_is_refused(
        staff: str, database: Database, server: LocalServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("YUQING_FEED_PRIVATE_HOSTS", "localhost")
    feed_url = f"http://localhost:{server.port}/hop"  # → http://127.0.0.1:PORT/secret
    assert yq(staff, "feeds", "add", feed_url, actor="lb").code == 0
    with database.session() as s:
        feed_id = s.scalar(select(Feed.id).where(Feed.url == feed_url))
    report = Poller(database, preset="sanmenxia-2017").poll_feeds([feed_id])
    assert report.errors and server.hits["/hop"] == 1 and server.hits["/secret"] == 0
    with database.session() as s:
        feed = s.get(Feed, feed_id)
        assert feed is not None and feed.last_error_code == "E_FETCH_HOST_NOT_ALLOWED"


def test_an_admins_local_feed_is_still_fetched(database: Database, server: LocalServer):
    feed_url = f"http://127.0.0.1:{server.port}/feed.xml"
    assert yq(database.url, "feeds", "add", feed_url).code == 0
    with database.session() as s:
        feed_id = s.scalar(select(Feed.id).where(Feed.url == feed_url))
    assert Poller(database, preset="sanmenxia-2017").poll_feeds([feed_id]).stats.new == 1
