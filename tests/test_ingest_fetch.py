"""Fetching feeds from a real local HTTP server (127.0.0.1, port 0), local files, and the polling rules."""
from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest.fetch import (
    MAX_BACKOFF_S,
    MAX_RETRY_AFTER_S,
    FetchResult,
    RawResponse,
    fetch,
    is_stale,
    next_poll_delay,
    parse_retry_after,
    typical_gap,
)
from ingest.parse import parse_feed

UTC = UTC
FEED = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>三门峡市应急管理局</title>'
    "<item><title>关于防汛的通知</title><link>http://www.smx.gov.cn/1</link>"
    "<pubDate>2026年11月24日 09:15</pubDate><description>正文</description></item></channel></rss>"
).encode()
ETAG = '"v1"'
LAST_MODIFIED = "Tue, 24 Nov 2026 01:00:00 GMT"
SMALL_CAP = 10_000


class Handler(BaseHTTPRequestHandler):
    """Routes by path; each route is one server behaviour a feed host shows in the wild."""

    protocol_version = "HTTP/1.1"
    seen: list[dict[str, str]] = []
    stop = threading.Event()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output clean
        pass

    def send(self, status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Handler.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        route = getattr(self, "route_" + self.path.strip("/").split("?")[0].replace("-", "_").replace("/", "_"), None)
        try:
            if route is None:
                self.send(404, b"not found")
            else:
                route()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeouts, size cap): that is what these routes test

    def route_feed(self) -> None:
        if self.headers.get("If-None-Match") == ETAG:
            self.send(304, headers={"ETag": ETAG})
        else:
            self.send(200, FEED, {"Content-Type": "application/rss+xml; charset=utf-8", "ETag": ETAG,
                                  "Last-Modified": LAST_MODIFIED})

    def route_lm_only(self) -> None:
        if self.headers.get("If-Modified-Since") == LAST_MODIFIED:
            self.send(304)  # no validators repeated, as many servers do
        else:
            self.send(200, FEED, {"Last-Modified": LAST_MODIFIED})

    def route_gone(self) -> None:
        self.send(410)

    def route_broken(self) -> None:
        self.send(500, b"oops")

    def route_forbidden(self) -> None:
        self.send(403)

    def route_busy(self) -> None:
        self.send(429, headers={"Retry-After": "120"})

    def route_maintenance(self) -> None:
        when = datetime.now(UTC) + timedelta(hours=1)
        self.send(503, headers={"Retry-After": format_datetime(when, usegmt=True)})

    def route_slow_headers(self) -> None:
        Handler.stop.wait(2.0)
        self.send(200, FEED)

    def route_drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        for _ in range(100):  # a byte every 50 ms: each read is quick, the whole is not
            if Handler.stop.wait(0.05):
                return
            self.wfile.write(b"<")
            self.wfile.flush()

    def route_redirect(self) -> None:
        self.send(301, headers={"Location": "/feed"})

    def route_redirect_absolute(self) -> None:
        host, port = self.server.server_address[:2]
        self.send(302, headers={"Location": f"http://{host}:{port}/redirect"})

    def route_loop(self) -> None:
        self.send(302, headers={"Location": "/loop"})

    def route_to_file(self) -> None:
        self.send(302, headers={"Location": "file:///etc/passwd"})

    def route_gzip(self) -> None:
        self.send(200, gzip.compress(FEED), {"Content-Encoding": "gzip"})

    def route_deflate(self) -> None:
        self.send(200, zlib.compress(FEED), {"Content-Encoding": "deflate"})

    def route_raw_deflate(self) -> None:
        packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        self.send(200, packer.compress(FEED) + packer.flush(), {"Content-Encoding": "deflate"})

    def route_bad_gzip(self) -> None:
        self.send(200, b"\x1f\x8b\x08\x00garbage-not-gzip", {"Content-Encoding": "gzip"})

    def route_brotli(self) -> None:
        self.send(200, b"\x00\x01", {"Content-Encoding": "br"})

    def route_big_declared(self) -> None:
        # Declares more than the cap and then stalls: a client that reads it would hang.
        self.send_response(200)
        self.send_header("Content-Length", str(SMALL_CAP * 100))
        self.end_headers()
        Handler.stop.wait(2.0)

    def route_big_undeclared(self) -> None:
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        for _ in range(20):
            self.wfile.write(b"x" * 4096)

    def route_bomb(self) -> None:
        self.send(200, gzip.compress(b" " * (SMALL_CAP * 50)), {"Content-Encoding": "gzip"})

    def route_chunked(self) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(FEED), 50):
            piece = FEED[start:start + 50]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def route_no_content(self) -> None:
        self.send(204)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    Handler.stop.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        Handler.stop.set()  # release handlers still stalling for clients that gave up
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
        time.sleep(0.1)  # let released handler threads close their sockets


@pytest.fixture()
def requests_seen() -> list[dict[str, str]]:
    Handler.seen.clear()
    return Handler.seen


# --- the happy path and conditional GET ------------------------------------------------------------

def test_ok_fetch_returns_body_validators_and_lowercased_headers(server: str, requests_seen: list) -> None:
    result = fetch(f"{server}/feed")
    assert (result.status, result.http_status, result.body) == ("ok", 200, FEED)
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)
    assert result.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert result.final_url == f"{server}/feed"
    assert result.error_code is None and result.error_message is None and result.ok
    sent = requests_seen[-1]
    assert sent["user-agent"].startswith("yuqing/")
    assert "gzip" in sent["accept-encoding"]
    assert "if-none-match" not in sent and "if-modified-since" not in sent


def test_fetched_feed_parses_into_items(server: str) -> None:
    result = fetch(f"{server}/feed")
    assert result.body is not None
    feed = parse_feed(result.body, headers=result.headers, fetched_at=datetime(2026, 11, 24, 2, tzinfo=UTC))
    assert [item.title for item in feed.items] == ["关于防汛的通知"]
    assert feed.items[0].published_at == datetime(2026, 11, 24, 1, 15, tzinfo=UTC)


def test_matching_etag_gives_not_modified_without_a_body(server: str, requests_seen: list) -> None:
    result = fetch(f"{server}/feed", etag=ETAG)
    assert (result.status, result.http_status, result.body, result.etag) == ("not_modified", 304, None, ETAG)
    assert requests_seen[-1]["if-none-match"] == ETAG


def test_stale_etag_gets_the_new_body(server: str) -> None:
    result = fetch(f"{server}/feed", etag='"v0"')
    assert (result.status, result.body) == ("ok", FEED)


def test_last_modified_gives_not_modified_and_keeps_our_validator(server: str, requests_seen: list) -> None:
    result = fetch(f"{server}/lm-only", last_modified=LAST_MODIFIED)
    assert (result.status, result.http_status, result.body) == ("not_modified", 304, None)
    assert result.last_modified == LAST_MODIFIED  # the 304 did not repeat it
    assert requests_seen[-1]["if-modified-since"] == LAST_MODIFIED


def test_chunked_body_is_read_whole(server: str) -> None:
    assert fetch(f"{server}/chunked").body == FEED


def test_no_content_is_an_empty_ok_body(server: str) -> None:
    result = fetch(f"{server}/no-content")
    assert (result.status, result.http_status, result.body) == ("ok", 204, b"")


# --- HTTP errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/missing", 404, "E_FETCH_NOT_FOUND"),
        ("/gone", 410, "E_FETCH_NOT_FOUND"),
        ("/forbidden", 403, "E_FETCH_HTTP_STATUS"),
        ("/broken", 500, "E_FETCH_SERVER_ERROR"),
    ],
)
def test_http_error_status_is_an_error_with_a_code(server: str, path: str, status: int, code: str) -> None:
    result = fetch(server + path)
    assert (result.status, result.http_status, result.error_code, result.body) == ("error", status, code, None)
    assert result.error_message and str(status) in result.error_message
    assert result.retry_after_seconds is None


def test_rate_limited_reports_retry_after_seconds(server: str) -> None:
    result = fetch(f"{server}/busy")
    assert (result.status, result.http_status, result.error_code) == ("error", 429, "E_FETCH_RATE_LIMITED")
    assert result.retry_after_seconds == 120


def test_unavailable_with_http_date_retry_after(server: str) -> None:
    result = fetch(f"{server}/maintenance")
    assert (result.http_status, result.error_code) == (503, "E_FETCH_SERVER_ERROR")
    assert result.retry_after_seconds is not None and 3500 <= result.retry_after_seconds <= 3600


# --- time limits ---------------------------------------------------------------------------------

def test_server_silent_past_the_timeout_is_a_timeout(server: str) -> None:
    result = fetch(f"{server}/slow-headers", timeout=0.3)
    assert (result.status, result.error_code) == ("error", "E_FETCH_TIMEOUT")
    assert result.elapsed_seconds < 1.9  # gave up before the server answered


def test_drip_feed_is_cut_at_the_total_deadline(server: str) -> None:
    result = fetch(f"{server}/drip", timeout=1.0, total_timeout=0.5)
    assert (result.status, result.error_code, result.body) == ("error", "E_FETCH_TIMEOUT", None)
    assert result.elapsed_seconds < 4.0  # the whole drip takes 5 s
    assert "0.5" in (result.error_message or "")


def test_refused_connection_is_a_network_error() -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = fetch(f"http://127.0.0.1:{port}/feed", timeout=2)
    assert (result.status, result.error_code) == ("error", "E_FETCH_NETWORK")


# --- redirects -----------------------------------------------------------------------------------

def test_redirect_is_followed_and_final_url_recorded(server: str) -> None:
    result = fetch(f"{server}/redirect")
    assert (result.status, result.body, result.final_url) == ("ok", FEED, f"{server}/feed")


def test_redirect_chain_is_followed(server: str) -> None:
    result = fetch(f"{server}/redirect-absolute")
    assert (result.status, result.final_url) == ("ok", f"{server}/feed")


def test_redirect_loop_stops_at_the_limit(server: str, requests_seen: list) -> None:
    result = fetch(f"{server}/loop", max_redirects=3)
    assert (result.status, result.error_code) == ("error", "E_FETCH_TOO_MANY_REDIRECTS")
    assert len(requests_seen) == 4


def test_redirect_to_a_local_file_is_refused(server: str) -> None:
    result = fetch(f"{server}/to-file")
    assert (result.status, result.error_code, result.body) == ("error", "E_FETCH_BAD_URL", None)


# --- compression and size ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/raw-deflate"])
def test_compressed_body_is_decoded(server: str, path: str) -> None:
    assert fetch(server + path).body == FEED


@pytest.mark.parametrize("path", ["/bad-gzip", "/brotli"])
def test_undecodable_body_is_an_error(server: str, path: str) -> None:
    assert fetch(server + path).error_code == "E_FETCH_DECODE"


@pytest.mark.parametrize("path", ["/big-declared", "/big-undeclared", "/bomb"])
def test_body_over_the_cap_is_refused(server: str, path: str) -> None:
    result = fetch(server + path, max_bytes=SMALL_CAP, timeout=1.5)
    assert (result.status, result.error_code, result.body) == ("error", "E_FETCH_TOO_LARGE", None)
    assert result.elapsed_seconds < 1.5  # refused on the header, not after waiting for the body


def test_body_at_exactly_the_cap_is_accepted(server: str) -> None:
    assert fetch(f"{server}/feed", max_bytes=len(FEED)).body == FEED
    assert fetch(f"{server}/feed", max_bytes=len(FEED) - 1).error_code == "E_FETCH_TOO_LARGE"


# --- addresses and local files ----------------------------------------------------------------------

@pytest.mark.parametrize("url", ["ftp://example.com/feed.xml", "gopher://x", "http://", "http://a.cn:port/x", ""])
def test_unusable_address_is_a_bad_url(url: str) -> None:
    assert fetch(url).error_code in ("E_FETCH_BAD_URL",)


def test_local_path_and_file_url_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "订阅.xml"
    path.write_bytes(FEED)
    by_path = fetch(str(path))
    by_url = fetch(path.as_uri())
    assert (by_path.status, by_path.body, by_path.http_status) == ("ok", FEED, None)
    assert (by_url.status, by_url.body) == ("ok", FEED)
    assert by_path.final_url == by_url.final_url == path.resolve().as_uri()


def test_missing_file_is_a_file_read_error(tmp_path: Path) -> None:
    result = fetch(str(tmp_path / "none.xml"))
    assert (result.status, result.error_code) == ("error", "E_FILE_READ")


def test_file_over_the_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(b"x" * 101)
    assert fetch(str(path), max_bytes=100).error_code == "E_FETCH_TOO_LARGE"
    assert fetch(str(path), max_bytes=101).status == "ok"


def test_chinese_path_in_url_is_percent_encoded(server: str, requests_seen: list) -> None:
    fetch(f"{server}/新闻/订阅.xml?栏目=通知")
    path, _, query = requests_seen[-1]["path"].partition("?")
    assert path == "/%E6%96%B0%E9%97%BB/%E8%AE%A2%E9%98%85.xml"
    assert query == "%E6%A0%8F%E7%9B%AE=%E9%80%9A%E7%9F%A5"


# --- the transport seam ------------------------------------------------------------------------------

def test_a_plain_function_can_stand_in_for_the_network() -> None:
    calls: list[tuple[str, dict[str, str]]] = []
    pages = {"http://a.cn/rss": (302, {"location": "/rss2"}, b""), "http://a.cn/rss2": (200, {}, FEED)}

    def transport(url: str, headers: Mapping[str, str], *, timeout: float, deadline: float) -> RawResponse:
        calls.append((url, dict(headers)))
        status, response_headers, body = pages[url]
        chunks = [body, b""]
        return RawResponse(status=status, headers=response_headers, read=lambda n: chunks.pop(0))

    result = fetch("http://a.cn/rss", etag='"e"', transport=transport)
    assert isinstance(result, FetchResult)
    assert (result.status, result.body, result.final_url) == ("ok", FEED, "http://a.cn/rss2")
    assert [url for url, _ in calls] == ["http://a.cn/rss", "http://a.cn/rss2"]
    assert calls[0][1]["If-None-Match"] == '"e"'


def test_a_transport_bug_is_not_hidden_as_a_network_error() -> None:
    def transport(url: str, headers: Mapping[str, str], *, timeout: float, deadline: float) -> RawResponse:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        fetch("http://a.cn/rss", transport=transport)


def test_feed_scheme_is_fetched_over_http() -> None:
    seen: list[str] = []

    def transport(url: str, headers: Mapping[str, str], *, timeout: float, deadline: float) -> RawResponse:
        seen.append(url)
        return RawResponse(status=200, headers={}, read=lambda n: b"")

    fetch("feed://a.cn/rss", transport=transport)
    assert seen == ["http://a.cn/rss"]


# --- Retry-After, backoff, staleness ----------------------------------------------------------------

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120),
        (" 0 ", 0),
        ("Tue, 24 Nov 2026 02:10:00 GMT", 600),
        ("Tue, 24 Nov 2026 01:00:00 GMT", 0),  # already past: retry now
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: int | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("interval", "errors", "retry_after", "delay"),
    [
        (600, 0, None, 600),
        (600, 1, None, 1200),
        (600, 2, None, 2400),
        (600, 5, None, 19200),
        (600, 6, None, MAX_BACKOFF_S),  # 38400 s capped at 6 h
        (600, 10_000, None, MAX_BACKOFF_S),
        (86400, 3, None, 86400),  # the cap never polls more often than the interval
        (600, 0, 120, 600),  # a shorter Retry-After does not speed polling up
        (600, 0, 3600, 3600),
        (600, 1, 7200, 7200),
        (600, 1, 10 * 86400, MAX_RETRY_AFTER_S),
    ],
)
def test_next_poll_delay(interval: float, errors: int, retry_after: float | None, delay: float) -> None:
    assert next_poll_delay(interval, errors, retry_after) == delay


def test_next_poll_delay_refuses_a_non_positive_interval() -> None:
    with pytest.raises(ValueError):
        next_poll_delay(0, 0)


DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("silence", "gap", "stale"),
    [
        (timedelta(hours=4), timedelta(hours=1), False),  # under the 3-day floor
        (3 * DAY, timedelta(hours=1), False),  # exactly the floor
        (3 * DAY + timedelta(seconds=1), timedelta(hours=1), True),
        (4 * DAY, DAY, False),  # exactly four usual gaps
        (4 * DAY + timedelta(seconds=1), DAY, True),
        (20 * DAY, 7 * DAY, False),  # a weekly feed three weeks quiet is still in its rhythm
        (-DAY, DAY, False),  # last item in the future
    ],
)
def test_is_stale(silence: timedelta, gap: timedelta, stale: bool) -> None:
    assert is_stale(NOW - silence, gap, NOW) is stale


def test_feed_without_history_is_never_stale() -> None:
    assert not is_stale(None, DAY, NOW)
    assert not is_stale(NOW - 100 * DAY, None, NOW)


def test_typical_gap_is_the_median_of_recent_gaps() -> None:
    times = [NOW - timedelta(hours=h) for h in (0, 1, 2, 3, 50)]
    assert typical_gap(times) == timedelta(hours=1)
    assert typical_gap(times[:2]) is None
    assert typical_gap([NOW - timedelta(hours=h) for h in range(100)], recent=5) == timedelta(hours=1)
