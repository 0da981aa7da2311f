"""Issue 16: a Markdown image in a title, summary or feed item is shown as text, never fetched.

`![t](http://127.0.0.1:PORT/track.png)` in an incident's title and summary and in a feed item's
title and text: headless Chromium opens the board, the triage queue and the detail page, the text
shows literally, no <img> points at the receiver and the receiver on 127.0.0.1 gets no request.
Before, the dashboard rendered titles and summaries as Markdown: every viewer's browser fetched it.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, serving, yuqing_command
from tests.test_browser import PASSWORD, USER

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser test skipped: {CHROMIUM} is not installed"),
]

TITLE = "灵宝市某景区索道故障游客滞留"
FEED_TITLE = "灵宝市山洪致3人失联"


class Receiver:
    """A tracking-pixel server on 127.0.0.1 that counts every request it gets."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server names its handlers so
                receiver.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def beacon(self, name: str) -> str:
        return f"![{name}](http://127.0.0.1:{self.port}/{name}.png)"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Dashboard:
    url: str
    incident_id: int
    receiver: Receiver


@pytest.fixture
def dashboard(tmp_path: Path) -> Iterator[Dashboard]:
    receiver = Receiver()
    env = {**os.environ, "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'yuqing.sqlite3'}",
           "YUQING_DATA_DIR": str(tmp_path)}
    for name in ("YUQING_AUTH_HEADER", "YUQING_ALERT_ROUTES"):
        env.pop(name, None)

    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run([*yuqing_command(), *args], env=env, cwd=ROOT, check=True, capture_output=True,
                              input=stdin.encode() if stdin else None, timeout=120)
        return done.stdout.decode()

    run("init")
    run("users", "add", USER, "--role", "admin", "--password-stdin", stdin=f"{PASSWORD}\n")
    run("incident", "add", "--title", TITLE + receiver.beacon("title"), "--unit", "灵宝市", "--no-classify",
        "--summary", receiver.beacon("summary") + "缆车停在半空，游客滞留两小时")
    incident_id = int(json.loads(run("incident", "list", "--json"))[0]["id"])
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>测试</title>'
        f"<item><guid>b1</guid><title>{FEED_TITLE}{receiver.beacon('item')}</title>"
        "<link>http://example.cn/1</link>"
        f"<description>{receiver.beacon('text')} 灵宝市突发山洪，3人失联，搜救正在进行</description>"
        "<pubDate>Tue, 24 Nov 2026 09:00:00 +0800</pubDate></item></channel></rss>", encoding="utf-8")
    run("ingest", "file", str(feed))
    try:
        with serving(env, tmp_path / "serve.log", "--no-workers") as (url, _):
            yield Dashboard(url, incident_id, receiver)
    finally:
        receiver.close()


def test_a_markdown_image_in_titles_and_feed_items_is_never_fetched(dashboard: Dashboard):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # two shared cores: the page may take longer than 5 s to fill in
    beacon_port = str(dashboard.receiver.port)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page.set_default_timeout(30_000)
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url) if beacon_port in r.url else None)
            page.goto(dashboard.url)
            page.locator("input[name=account]").fill(USER)
            page.locator("input[name=secret]").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()

            def no_beacon_on_the_page(where: str) -> None:
                expect(page.locator("[data-testid='stException']")).to_have_count(0)
                assert page.locator(f"img[src*='{beacon_port}']").count() == 0, where

            # The board: the title is shown, its Markdown as plain text.
            row = page.locator(f".st-key-board_row_{dashboard.incident_id}")
            expect(row).to_contain_text(TITLE)
            expect(row).to_contain_text("![title](")
            no_beacon_on_the_page("board")

            # The triage queue: the feed item's title and text.
            page.get_by_role("link", name="待研判").click()
            expect(page.get_by_text(FEED_TITLE, exact=False).first).to_be_visible()
            expect(page.get_by_text("![item](", exact=False).first).to_be_visible()
            no_beacon_on_the_page("triage")

            # The detail page: title heading and summary.
            page.get_by_role("link", name="倒计时看板").click()
            row = page.locator(f".st-key-board_row_{dashboard.incident_id}")
            row.get_by_role("link").first.click()
            expect(page.get_by_text("缆车停在半空", exact=False).first).to_be_visible()
            expect(page.get_by_text("![summary](", exact=False).first).to_be_visible()
            no_beacon_on_the_page("detail")
        finally:
            browser.close()
            expect.set_options(timeout=5_000)  # Playwright's default, for the tests after this one
    assert asked == [], f"the browser asked for the beacon: {asked}"
    assert dashboard.receiver.paths == [], f"the receiver got requests: {dashboard.receiver.paths}"
