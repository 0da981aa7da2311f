"""Single sign-on through a reverse proxy's header, in a real browser against `yuqing serve`."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, serving, yuqing_command

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed: browser test skipped")


def test_proxy_header_logs_the_named_account_in(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "YUQING_DATA_DIR": str(tmp_path), "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'sso.sqlite3'}",
           "YUQING_AUTH_HEADER": "X-Remote-User"}
    assert subprocess.run([*yuqing_command(), "init", "--demo"], env=env, cwd=ROOT, capture_output=True,
                          timeout=120).returncode == 0
    with serving(env, tmp_path / "serve.log") as (base, _):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                named = browser.new_context(extra_http_headers={"X-Remote-User": "leader"})
                page = named.new_page()
                page.goto(f"{base}/", wait_until="domcontentloaded", timeout=60000)
                page.get_by_text("leader", exact=True).wait_for(timeout=60000)
                page.get_by_text("处置中舆情").first.wait_for(timeout=60000)
                assert page.get_by_label("密码").count() == 0

                anonymous = browser.new_context().new_page()
                anonymous.goto(f"{base}/", wait_until="domcontentloaded", timeout=60000)
                anonymous.get_by_text("X-Remote-User").first.wait_for(timeout=60000)
                assert anonymous.get_by_text("处置中舆情").count() == 0
            finally:
                browser.close()
