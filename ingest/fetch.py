"""Getting a feed's bytes: HTTP(S) with deadlines, redirects, size cap and conditional GET; local files.

The only network code in yuqing. Also the pure polling rules: backoff after errors, stale feeds.

Over 500 lines: one deadline governs every stage of a fetch (connect, TLS, headers, body, redirects,
decompression), so those stages stay together with the watchdog that enforces it.
"""
from __future__ import annotations

import email.utils
import hashlib
import http.client
import ipaddress
import math
import os
import socket
import ssl
import statistics
import threading
import time as _time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from timeline.clock import require_aware
from timeline.words import say as render

USER_AGENT = "yuqing/0.1 (government public-opinion response tracker; feed reader)"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
MAX_REDIRECTS = 5
CHUNK = 64 * 1024
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_BACKOFF_S = 6 * 3600
MAX_RETRY_AFTER_S = 24 * 3600
STALE_FACTOR = 4
STALE_FLOOR = timedelta(days=3)


@dataclass(frozen=True)
class FetchResult:
    """What one fetch gave. Never raised: a failure is data on the feed (error_code, error_message)."""

    status: str  # 'ok' | 'not_modified' | 'error'
    http_status: int | None
    body: bytes | None
    headers: dict[str, str]  # lower-cased names, of the final response
    etag: str | None
    last_modified: str | None
    final_url: str
    retry_after_seconds: int | None
    error_code: str | None
    error_message: str | None
    elapsed_seconds: float

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class RawResponse:
    """One HTTP response as a transport hands it over; `read(n)` returns b"" at the end."""

    status: int
    headers: dict[str, str]  # lower-cased names
    read: Callable[[int], bytes]
    close: Callable[[], None] = field(default=lambda: None)


class Transport(Protocol):
    """One GET, no redirects followed. Must raise TimeoutError once `deadline` (monotonic) passes."""

    def __call__(
        self, url: str, headers: Mapping[str, str], *, timeout: float, deadline: float
    ) -> RawResponse: ...


def resolve_addresses(host: str) -> list[str]:
    """Every address `host` resolves to (an IP literal is itself); [] when it does not resolve."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


@dataclass(frozen=True)
class HostPolicy:
    """Where one fetch may connect, checked on the feed's own URL and again on every redirect hop.

    A staff-added feed (`public_only`) may reach only hosts whose every address is public (global),
    or the office's listed intranet hosts (`private_hosts`, YUQING_FEED_PRIVATE_HOSTS). An admin's
    feed may start anywhere; its redirects may go to public addresses, to the feed's own host or to
    the listed hosts — never from the internet to 127.0.0.1 or the intranet. The answer is decided
    before connecting and the hop then connects to the address that was checked (no second DNS
    answer), so a refusal says the same whatever listens on a local port.
    """

    public_only: bool = False
    private_hosts: frozenset[str] = frozenset()
    resolver: Callable[[str], list[str]] = resolve_addresses

    def check(self, url: str, *, origin: str | None) -> str | None:
        """The address to connect to for `url` (None: connect by name), or _Failure. `origin` is the
        feed's own host on a redirect hop, None on the first."""
        host = (urllib.parse.urlsplit(url).hostname or "").lower().strip("[]")
        if host in self.private_hosts:
            return None
        if not self.public_only and (origin is None or host == origin):
            return None
        addresses = self.resolver(host) if host else []
        try:
            public = bool(addresses) and all(ipaddress.ip_address(a).is_global for a in addresses)
        except ValueError:
            public = False
        if not public:
            raise _Failure("E_FETCH_HOST_NOT_ALLOWED")
        return addresses[0]


class _Failure(Exception):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 10.0,
    max_bytes: int = 5_000_000,
    user_agent: str = USER_AGENT,
    max_redirects: int = MAX_REDIRECTS,
    total_timeout: float | None = None,
    transport: Transport | None = None,
    policy: HostPolicy | None = None,
) -> FetchResult:
    """GET a feed URL (or read a `file://` URL / local path) and return what happened.

    `timeout` bounds connecting and each read; `total_timeout` (default 3 × timeout) bounds the
    whole fetch, so a server dripping a byte a second cannot hold a worker. Bodies over
    `max_bytes` (raw or decompressed) are refused without reading the rest. With `etag` /
    `last_modified` from the previous fetch, an unchanged feed comes back 'not_modified'.
    With a `policy`, every hop's host is checked first (HostPolicy) and `file://` is refused.
    """
    started = _time.monotonic()
    text = (url or "").strip()
    scheme = urllib.parse.urlsplit(text).scheme.lower() if "://" in text else ""
    try:
        if scheme in ("http", "https", "feed"):
            if scheme == "feed":  # feed://host/path, an old browser convention for http
                text = "http" + text[4:]
            return _fetch_http(
                text,
                etag=etag,
                last_modified=last_modified,
                timeout=timeout,
                total_timeout=total_timeout if total_timeout is not None else 3 * timeout,
                max_bytes=max_bytes,
                user_agent=user_agent,
                max_redirects=max_redirects,
                transport=transport or http_transport,
                started=started,
                policy=policy,
            )
        if policy is not None and policy.public_only:
            raise _Failure("E_FETCH_HOST_NOT_ALLOWED")
        if scheme == "file" or (not scheme and text):
            return _fetch_file(text, max_bytes=max_bytes, started=started, etag=etag)
        raise _Failure("E_FETCH_BAD_URL", url=url)
    except _Failure as failure:
        return _error(failure, final_url=text, started=started)


# --- HTTP ----------------------------------------------------------------------------------------


def _fetch_http(
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    total_timeout: float,
    max_bytes: int,
    user_agent: str,
    max_redirects: int,
    transport: Transport,
    started: float,
    policy: HostPolicy | None = None,
) -> FetchResult:
    deadline = started + total_timeout
    origin = (urllib.parse.urlsplit(url).hostname or "").lower().strip("[]")
    headers = {
        "User-Agent": user_agent,
        "Accept": ACCEPT,
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    response: RawResponse | None = None
    try:
        for hop in range(max_redirects + 1):
            address = policy.check(current, origin=origin if hop else None) if policy is not None else None
            response = _call(transport, current, headers, timeout=timeout, deadline=deadline, address=address)
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or not location:
                break
            response.close()
            response = None
            target = urllib.parse.urljoin(current, location.strip())
            if urllib.parse.urlsplit(target).scheme.lower() not in ("http", "https"):
                # A server must not be able to point us at file:// or anything else.
                raise _Failure("E_FETCH_BAD_URL", url=target)
            current = target
        else:
            raise _Failure("E_FETCH_TOO_MANY_REDIRECTS", url=url, limit=max_redirects)
        assert response is not None
        return _finish(response, current, etag, last_modified, timeout, max_bytes, started)
    except _Failure as failure:
        if failure.code == "E_FETCH_TIMEOUT" and _time.monotonic() >= deadline:
            failure.params["seconds"] = f"{total_timeout:g}"  # the whole-fetch limit was hit
        return _error(failure, final_url=current, started=started,
                      response=response, retry_after=failure.params.get("retry_after"))
    finally:
        if response is not None:
            response.close()


def _call(
    transport: Transport, url: str, headers: Mapping[str, str], *, timeout: float, deadline: float,
    address: str | None = None,
) -> RawResponse:
    try:
        if address is not None:  # the checked address (HostPolicy): the real transport connects to it
            return transport(url, headers, timeout=timeout, deadline=deadline, address=address)  # type: ignore[call-arg]
        return transport(url, headers, timeout=timeout, deadline=deadline)
    except Exception as exc:
        failure = _network_failure(exc, url, timeout)
        if failure is None:
            raise
        raise failure from exc


def _network_failure(exc: Exception, url: str, timeout: float) -> _Failure | None:
    """The user-facing failure for a network condition; None for anything else (a bug: let it raise)."""
    if isinstance(exc, _Failure):
        return exc
    if isinstance(exc, TimeoutError):
        return _Failure("E_FETCH_TIMEOUT", url=url, seconds=f"{timeout:g}")
    if isinstance(exc, ssl.SSLError):
        return _Failure("E_FETCH_TLS", url=url, detail=_detail(exc))
    if isinstance(exc, (http.client.InvalidURL, UnicodeError)):
        return _Failure("E_FETCH_BAD_URL", url=url)
    if isinstance(exc, (OSError, http.client.HTTPException)):
        return _Failure("E_FETCH_NETWORK", url=url, detail=_detail(exc))
    return None


def _finish(
    response: RawResponse,
    url: str,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    started: float,
) -> FetchResult:
    status = response.status
    if status == 304:
        return FetchResult(
            status="not_modified",
            http_status=status,
            body=None,
            headers=response.headers,
            # Many servers omit the validators on a 304; the ones we sent are still current.
            etag=response.headers.get("etag") or etag,
            last_modified=response.headers.get("last-modified") or last_modified,
            final_url=url,
            retry_after_seconds=None,
            error_code=None,
            error_message=None,
            elapsed_seconds=_time.monotonic() - started,
        )
    if not 200 <= status < 300:
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(
                response.headers.get("retry-after"), now=datetime.now(UTC)
            )
        if status in (404, 410):
            code = "E_FETCH_NOT_FOUND"
        elif status == 429:
            code = "E_FETCH_RATE_LIMITED"
        elif 500 <= status < 600:
            code = "E_FETCH_SERVER_ERROR"
        else:
            code = "E_FETCH_HTTP_STATUS"
        raise _Failure(code, url=url, status=status, retry_after=retry_after)
    body = _read_body(response, url, timeout, max_bytes)
    return FetchResult(
        status="ok",
        http_status=status,
        body=body,
        headers=response.headers,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        final_url=url,
        retry_after_seconds=None,
        error_code=None,
        error_message=None,
        elapsed_seconds=_time.monotonic() - started,
    )


def _read_body(response: RawResponse, url: str, timeout: float, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise _Failure("E_FETCH_TOO_LARGE", url=url, limit=max_bytes)
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    decoder = _Decoder(encoding, url, max_bytes)
    received = 0
    parts: list[bytes] = []
    while True:
        try:
            chunk = response.read(CHUNK)
        except Exception as exc:
            failure = _network_failure(exc, url, timeout)
            if failure is None:
                raise
            raise failure from exc
        if not chunk:
            break
        received += len(chunk)
        if received > max_bytes:
            raise _Failure("E_FETCH_TOO_LARGE", url=url, limit=max_bytes)
        parts.append(decoder.feed(chunk))
    parts.append(decoder.finish())
    return b"".join(parts)


class _Decoder:
    """Incremental Content-Encoding decoding with the size cap applied to the output (gzip bombs)."""

    def __init__(self, encoding: str, url: str, max_bytes: int) -> None:
        self.url, self.max_bytes, self.size = url, max_bytes, 0
        self.first = True
        if encoding in ("", "identity"):
            self.zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self.zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.zlib = zlib.decompressobj()
        else:
            raise _Failure("E_FETCH_DECODE", url=url, detail=f"不支持的压缩方式 {encoding}")
        self.encoding = encoding

    def feed(self, chunk: bytes) -> bytes:
        if self.zlib is None:
            return self._count(chunk)
        if self.first and self.encoding == "deflate" and chunk and (chunk[0] & 0x0F) != 8:
            # Some servers send raw DEFLATE without the zlib header that RFC 9110 asks for.
            self.zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        self.first = False
        try:
            out = self.zlib.decompress(chunk, self.max_bytes - self.size + 1)
        except zlib.error as exc:
            raise _Failure("E_FETCH_DECODE", url=self.url, detail=str(exc)) from exc
        if self.zlib.unconsumed_tail:
            raise _Failure("E_FETCH_TOO_LARGE", url=self.url, limit=self.max_bytes)
        return self._count(out)

    def finish(self) -> bytes:
        if self.zlib is None:
            return b""
        try:
            out = self.zlib.flush()
        except zlib.error as exc:
            raise _Failure("E_FETCH_DECODE", url=self.url, detail=str(exc)) from exc
        return self._count(out)

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise _Failure("E_FETCH_TOO_LARGE", url=self.url, limit=self.max_bytes)
        return data


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class _Watchdog:
    """Shuts a connection's socket down once `deadline` (monotonic) passes, unless stopped first."""

    def __init__(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        self.connection = connection
        self.deadline = deadline
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fetch-deadline", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(max(0.0, self.deadline - _time.monotonic())):
            sock = self.connection.sock
            if sock is None:  # still connecting (bounded by its own timeout): look again shortly
                if self._stop.wait(0.05):
                    return
                continue
            self.fired = True
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return

    def stop(self) -> None:
        self._stop.set()


def http_transport(
    url: str, headers: Mapping[str, str], *, timeout: float, deadline: float, address: str | None = None
) -> RawResponse:
    """The real transport: one GET over http.client (no proxy support, no connection reuse).

    `address`: connect to this IP instead of resolving the host again (the Host header, TLS SNI and
    certificate check still use the host name)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:  # http://host:abc/
        raise http.client.InvalidURL(url) from exc
    if not parts.hostname:
        raise http.client.InvalidURL(url)
    host = parts.hostname.encode("idna").decode("ascii")
    target = urllib.parse.quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._")
    if parts.query:
        target += "?" + urllib.parse.quote(parts.query, safe="=&%:@!$'()*+,;/?~-._")

    def budget() -> float:
        left = deadline - _time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return min(timeout, left)

    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=budget(), context=_tls_context())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=budget())
    if address is not None:
        pinned = address

        def _connect_pinned(where: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
            return socket.create_connection((pinned, where[1]), *args, **kwargs)  # type: ignore[arg-type]

        connection._create_connection = _connect_pinned  # type: ignore[attr-defined]  # http.client's connect hook
    # http.client applies its timeout per socket read, so a server trickling one header byte a
    # second never trips it. The watchdog shuts the socket down when the one deadline passes,
    # whatever the exchange is doing then (connect, TLS, headers, body).
    watchdog = _Watchdog(connection, deadline)
    try:
        connection.request("GET", target, headers={**headers, "Connection": "close"})
        sock = connection.sock
        assert sock is not None
        sock.settimeout(budget())
        response = connection.getresponse()
    except BaseException as exc:
        watchdog.stop()
        connection.close()
        if watchdog.fired:
            raise TimeoutError("deadline passed") from exc
        raise

    def read(size: int) -> bytes:
        sock.settimeout(budget())
        # read1: at most one recv per call, so the deadline is checked between network reads.
        try:
            data = response.read1(size)
        except (OSError, http.client.HTTPException) as exc:
            if watchdog.fired:
                raise TimeoutError("deadline passed") from exc
            raise
        if watchdog.fired:  # the shut-down socket reads as the end: the body is cut, not complete
            raise TimeoutError("deadline passed")
        return data

    def close() -> None:
        watchdog.stop()
        response.close()
        connection.close()

    return RawResponse(
        status=response.status,
        headers={name.lower(): value for name, value in response.getheaders()},
        read=read,
        close=close,
    )


# --- local files ---------------------------------------------------------------------------------


def _fetch_file(text: str, *, max_bytes: int, started: float, etag: str | None = None) -> FetchResult:
    """A local file answers like a server with ETags: its content hash is the ETag, and an unchanged
    file is `not_modified`, so re-ingesting it skips parsing altogether."""
    if text.lower().startswith("file:"):
        parts = urllib.parse.urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise _Failure("E_FETCH_BAD_URL", url=text)
        path = Path(urllib.request.url2pathname(parts.path))
    else:
        path = Path(os.path.expanduser(text))
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise _Failure("E_FETCH_TOO_LARGE", url=str(path), limit=max_bytes)
            body = handle.read(max_bytes + 1)
    except OSError as exc:
        raise _Failure("E_FILE_READ", path=str(path), detail=_detail(exc)) from exc
    if len(body) > max_bytes:  # grew while we read it, or a special file without a size
        raise _Failure("E_FETCH_TOO_LARGE", url=str(path), limit=max_bytes)
    content_tag = '"sha256-' + hashlib.sha256(body).hexdigest() + '"'
    unchanged = etag is not None and etag == content_tag
    return FetchResult(
        status="not_modified" if unchanged else "ok",
        http_status=None,
        body=None if unchanged else body,
        headers={},
        etag=content_tag,
        last_modified=None,
        final_url=path.resolve().as_uri(),
        retry_after_seconds=None,
        error_code=None,
        error_message=None,
        elapsed_seconds=_time.monotonic() - started,
    )


# --- helpers -------------------------------------------------------------------------------------


def _error(
    failure: _Failure,
    *,
    final_url: str,
    started: float,
    response: RawResponse | None = None,
    retry_after: object = None,
) -> FetchResult:
    params = {key: value for key, value in failure.params.items() if key != "retry_after"}
    return FetchResult(
        status="error",
        http_status=response.status if response is not None else None,
        body=None,
        headers=response.headers if response is not None else {},
        etag=None,
        last_modified=None,
        final_url=final_url,
        retry_after_seconds=retry_after if isinstance(retry_after, int) else None,
        error_code=failure.code,
        error_message=render(failure.code, **params),
        elapsed_seconds=_time.monotonic() - started,
    )


def _detail(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]


def parse_retry_after(value: str | None, *, now: datetime) -> int | None:
    """`Retry-After` as whole seconds from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    require_aware(now, "now")
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP-dates are always GMT
    return max(0, math.ceil((when - now).total_seconds()))


# --- polling rules (pure) ------------------------------------------------------------------------


def next_poll_delay(interval_s: float, error_count: int, retry_after: float | None = None) -> float:
    """Seconds until a feed is polled again.

    Healthy: the feed's interval. After n consecutive errors: interval × 2ⁿ, capped at
    MAX_BACKOFF_S (6 h) but never below the interval itself. A server's Retry-After is honoured
    when it asks for longer, up to MAX_RETRY_AFTER_S (24 h), so one bad header cannot silence a
    feed for weeks. No jitter here: the caller adds it if it wants it.
    """
    if interval_s <= 0:
        raise ValueError(f"interval_s must be positive, got {interval_s!r}")
    if error_count <= 0:
        delay = float(interval_s)
    else:
        cap = max(float(MAX_BACKOFF_S), float(interval_s))
        delay = min(interval_s * 2.0 ** min(error_count, 32), cap)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(float(retry_after), float(MAX_RETRY_AFTER_S)))
    return delay


def typical_gap(published: Iterable[datetime], *, recent: int = 20) -> timedelta | None:
    """Median gap between consecutive items among the `recent` newest; None with fewer than 3 items."""
    times = sorted({require_aware(value) for value in published}, reverse=True)[:recent]
    if len(times) < 3:
        return None
    gaps = [(newer - older).total_seconds() for newer, older in zip(times, times[1:], strict=False)]
    return timedelta(seconds=statistics.median(gaps))


def is_stale(last_item_at: datetime | None, typical_gap: timedelta | None, now: datetime) -> bool:
    """A feed that used to publish has gone quiet far longer than usual.

    Rule: stale when now − last item > max(STALE_FACTOR × typical gap, STALE_FLOOR), i.e. four
    usual gaps and at least 3 days, so a quiet weekend or night never flags a busy feed. Exactly at
    the threshold is not stale. No history (no last item or no typical gap) is never stale: there
    is nothing to compare with. A last item in the future (skewed clock) is not stale either.
    """
    require_aware(now, "now")
    if last_item_at is None or typical_gap is None:
        return False
    threshold = max(typical_gap * STALE_FACTOR, STALE_FLOOR)
    return now - require_aware(last_item_at) > threshold
