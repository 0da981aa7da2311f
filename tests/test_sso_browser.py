"""Single sign-on through a reverse proxy's header, in a real browser against `yuqing serve`."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed: browser test skipped")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 90.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "yuqing serve exited early"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"yuqing serve did not listen on {port}")


def test_proxy_header_logs_the_named_account_in(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "YUQING_DATA_DIR": str(tmp_path), "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'sso.sqlite3'}",
           "YUQING_AUTH_HEADER": "X-Remote-User"}
    yuqing = [sys.executable, "-c", "from yuqing import cli; cli.main()"]
    assert subprocess.run([*yuqing, "init", "--demo"], env=env, cwd=ROOT, capture_output=True, timeout=120).returncode == 0
    port = free_port()
    server = subprocess.Popen([*yuqing, "serve", "--port", str(port)], env=env, cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                named = browser.new_context(extra_http_headers={"X-Remote-User": "leader"})
                page = named.new_page()
                page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded", timeout=60000)
                page.get_by_text("leader", exact=True).wait_for(timeout=60000)
                page.get_by_text("处置中舆情").first.wait_for(timeout=60000)
                assert page.get_by_label("密码").count() == 0

                anonymous = browser.new_context().new_page()
                anonymous.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded", timeout=60000)
                anonymous.get_by_text("X-Remote-User").first.wait_for(timeout=60000)
                assert anonymous.get_by_text("处置中舆情").count() == 0
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
