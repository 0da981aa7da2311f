"""The dashboard in a real browser: `yuqing serve` on a fresh SQLite database, Chromium through Playwright.

Logs in, registers an incident through the form, sees it on the board with a countdown that moves,
opens its detail page, and saves screenshots to test-artifacts/ (git-ignored) for people to look at.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, serving, yuqing_command

ARTIFACTS = ROOT / "test-artifacts"
USER, PASSWORD = "tester", "tester-pass-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser test skipped: {CHROMIUM} is not installed"),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    env = {
        **os.environ,
        "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'yuqing.sqlite3'}",
        "YUQING_DATA_DIR": str(tmp_path),
    }
    for name in ("YUQING_AUTH_HEADER", "YUQING_ALERT_ROUTES"):
        env.pop(name, None)
    subprocess.run([*yuqing_command(), "init"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    subprocess.run([*yuqing_command(), "users", "add", USER, "--role", "admin", "--password-stdin"], env=env, cwd=ROOT,
                   input=f"{PASSWORD}\n".encode(), check=True, capture_output=True, timeout=120)
    with serving(env, tmp_path / "serve.log") as (url, _):
        yield url


def test_log_an_incident_and_watch_its_countdown(server: str):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # two shared cores: a page may take longer than 5 s to fill in
    ARTIFACTS.mkdir(exist_ok=True)
    title = "渑池县某小区燃气爆燃，已致2人受伤"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
            page.set_default_timeout(30_000)
            elsewhere: list[str] = []
            page.on("request", lambda r: None if r.url.startswith((server, "data:", "blob:")) else elsewhere.append(r.url))
            page.goto(server)

            # Log in.
            page.locator("input[name=account]").fill(USER)
            page.locator("input[name=secret]").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_role("heading", name="倒计时看板")).to_be_visible()

            # Register an incident through the form; the classifier's suggestion shows before saving.
            page.get_by_role("link", name="登记舆情").click()
            page.locator(".st-key-new_title input").fill(title)
            page.locator(".st-key-new_summary textarea").fill("网民发帖称小区发生燃气爆燃，现场浓烟，已致2人受伤。")
            page.locator(".st-key-new_summary textarea").press("Control+Enter")
            expect(page.get_by_text("分类建议")).to_be_visible()
            page.locator(".st-key-new_unit").click()
            page.keyboard.type("渑池")
            page.get_by_role("option", name="渑池县人民政府").click()
            page.locator(".st-key-new_save button").click()
            saved = page.get_by_text("已登记舆情 #")
            expect(saved).to_be_visible()
            incident_id = saved.inner_text().split("#", 1)[1].strip()

            # The board shows it, with a countdown that moves between two reads.
            page.get_by_role("link", name="倒计时看板").click()
            row = page.locator(f".st-key-board_row_{incident_id}")
            expect(row).to_contain_text(title)
            left = row.locator(".yq-cell .yq-left").first
            expect(left).to_contain_text("剩余")
            first_read = left.inner_text()
            page.wait_for_function(
                "([el, before]) => el.isConnected ? el.textContent !== before : true",
                arg=[left.element_handle(), first_read], timeout=20_000,
            )
            second_read = row.locator(".yq-cell .yq-left").first.inner_text()
            assert second_read != first_read and second_read.startswith("剩余"), (first_read, second_read)
            expect(page.locator("[data-testid='stException']")).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)

            # The title links to the detail page (same session, no second login).
            row.get_by_role("link").first.click()
            expect(page.get_by_role("heading", name=f"#{incident_id} {title}")).to_be_visible()
            assert f"id={incident_id}" in page.url
            expect(page.locator("[data-testid='stVegaLiteChart']")).to_be_visible()
            expect(page.locator("[data-testid='stException']")).to_have_count(0)
            page.set_viewport_size({"width": 1440, "height": 1800})  # Streamlit scrolls inside the page
            page.get_by_role("tab", name="登记处置").click()
            expect(page.get_by_role("button", name="登记处置")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "incident.png"), full_page=True)
            page.set_viewport_size({"width": 1440, "height": 1000})

            # The wall display: no sidebar, large type.
            page.get_by_role("link", name="倒计时看板").click()
            page.get_by_role("link", name="大屏模式").click()
            expect(page.locator(".yq-screen")).to_contain_text(title)
            expect(page.locator("[data-testid='stSidebar']")).to_be_hidden()
            page.screenshot(path=str(ARTIFACTS / "board-screen.png"), full_page=True)
            assert elsewhere == [], f"the page reached outside the server: {elsewhere}"

            # A link with the incident id, opened in a new browser session, survives the login form.
            other = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            other.set_default_timeout(30_000)
            other.goto(f"{server}/incident?id={incident_id}")
            other.locator("input[name=account]").fill(USER)
            other.locator("input[name=secret]").fill(PASSWORD)
            other.get_by_role("button", name="登录").click()
            expect(other.get_by_role("heading", name=f"#{incident_id} {title}")).to_be_visible()
        finally:
            browser.close()
