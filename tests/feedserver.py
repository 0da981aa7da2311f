"""A local feed server on 127.0.0.1 for ingestion tests: feeds set per path, counted requests."""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def rss(items: list[tuple[str, str, str, str]], title: str = "测试频道") -> bytes:
    """items: (guid, title, link, description); pubDate fixed in Beijing time."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>{l}</link><description>{d}</description>"
        f"<pubDate>Tue, 24 Nov 2026 09:{i:02d}:00 +0800</pubDate></item>"
        for i, (g, t, l, d) in enumerate(items)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>{body}</channel></rss>'.encode()


class FeedServer:
    def __init__(self) -> None:
        self.feeds: dict[str, tuple[int, bytes, float]] = {}  # path -> (status, body, delay seconds)
        self.hits: Counter[str] = Counter()
        self.validators = True  # send an ETag and honour If-None-Match; False: plain bodies every time
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server names its handlers so
                server.hits[self.path] += 1
                status, body, delay = server.feeds.get(self.path, (404, b"not found", 0.0))
                if delay:
                    time.sleep(delay)
                etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
                if server.validators and status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if server.validators and status == 200:
                    self.send_header("ETag", etag)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, body: bytes, status: int = 200, delay: float = 0.0) -> str:
        self.feeds[path] = (status, body, delay)
        return self.url(path)

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server
