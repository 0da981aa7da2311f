"""Wall displays in a real browser: a screen URL opens the board with no login, keeps it after the
idle timeout and across reloads, fits every row inside the viewport at 1920×1080 and 1366×768, and
shows a plain sentence once revoked. Screenshots go to test-artifacts/ for people to look at."""
from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, serving, yuqing_command
from yuqing.vocabulary import MESSAGES

ARTIFACTS = ROOT / "test-artifacts"
SIZES = [(1920, 1080), (1366, 768)]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser test skipped: {CHROMIUM} is not installed"),
]


@pytest.fixture
def wall(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    env = {**os.environ, "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'yuqing.sqlite3'}",
           "YUQING_DATA_DIR": str(tmp_path), "YUQING_SESSION_MINUTES": "1"}
    for name in ("YUQING_AUTH_HEADER", "YUQING_ALERT_ROUTES", "YUQING_TRUSTED_PROXIES"):
        env.pop(name, None)
    port = free_port()
    env["YUQING_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    run = lambda *argv: subprocess.run([*yuqing_command(), *argv], env=env, cwd=ROOT, check=True,  # noqa: E731
                                       capture_output=True, text=True, timeout=120).stdout
    run("init", "--demo")
    for n in range(4):  # long titles: the rows that used to wrap and push others below the fold
        run("incident", "add", "--title", f"渑池县某小区燃气爆燃事故引发居民关注，现场已致{n + 2}人受伤，相关部门正在处置中",
            "--unit", "渑池县", "--no-classify")
    url = run("screens", "add", "大厅").strip()
    with serving(env, tmp_path / "serve.log", "--no-workers", port=port) as (base, _):
        yield base, url, env


def test_screen_url_shows_the_whole_board_without_login_until_revoked(wall):
    from playwright.sync_api import expect, sync_playwright

    base, url, env = wall
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for width, height in SIZES:
                page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
                page.goto(url)
                rows = page.locator(".yq-screen tbody tr")
                expect(rows.first).to_be_visible(timeout=60_000)
                assert page.get_by_text("登录", exact=True).count() == 0
                assert page.get_by_text("Page not found").count() == 0
                assert page.locator("[data-testid='stSidebar']").is_hidden()
                # 13 open incidents, 8 a page: wait for the full page (pages turn every 20 s by themselves).
                expect(rows).to_have_count(8, timeout=45_000)
                count = rows.count()
                for index in range(count):
                    box = rows.nth(index).bounding_box()
                    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (width, index, box)
                page.screenshot(path=str(ARTIFACTS / f"wall-{width}x{height}.png"))
                page.close()

            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            page.goto(url)
            expect(page.locator(".yq-screen tbody tr").first).to_be_visible(timeout=60_000)
            time.sleep(65)  # past YUQING_SESSION_MINUTES=1: a login would have expired by now
            page.reload()
            expect(page.locator(".yq-screen tbody tr").first).to_be_visible(timeout=60_000)
            assert page.get_by_text("登录", exact=True).count() == 0

            subprocess.run([*yuqing_command(), "screens", "revoke", "大厅"], env=env, cwd=ROOT, check=True, capture_output=True,
                           timeout=120)
            page.reload()
            expect(page.get_by_text(MESSAGES["E_SCREEN_REVOKED"])).to_be_visible(timeout=60_000)
            assert page.locator(".yq-screen").count() == 0
            page.screenshot(path=str(ARTIFACTS / "wall-revoked.png"))

            other = browser.new_page()
            other.goto(f"{base}/board?screen=1&display=scr_forged")
            expect(other.get_by_text(MESSAGES["E_SCREEN_REVOKED"])).to_be_visible(timeout=60_000)
        finally:
            browser.close()
