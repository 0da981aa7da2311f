"""Logins in a real browser: the session cookie survives a reload, a second tab and a deep link; the
wall mode survives a reload; logout, a password change and the idle timeout end it, while a wall
display's URL keeps showing the board; two `yuqing serve` replicas on one PostgreSQL share sessions.

Chromium through Playwright against `yuqing serve`; screenshots go to test-artifacts/.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, serving, yuqing_command
from yuqing.db.models import LoginSession
from yuqing.db.session import Database
from yuqing.vocabulary import MESSAGES

ARTIFACTS = ROOT / "test-artifacts"
USER, PASSWORD = "desk", "desk-pass-123"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser test skipped: {CHROMIUM} is not installed"),
]


def yuqing(env: dict[str, str], *argv: str, stdin: str | None = None) -> str:
    return subprocess.run([*yuqing_command(), *argv], env=env, cwd=ROOT, check=True, capture_output=True, text=True,
                          input=stdin, timeout=120).stdout


def log_in(page: Any, password: str = PASSWORD) -> None:
    page.locator("input[name=account]").fill(USER)
    page.locator("input[name=secret]").fill(password)
    page.get_by_role("button", name="登录").click()


def login_form(page: Any) -> Any:
    return page.locator("form.yq-login")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {**os.environ, "YUQING_DATABASE_URL": f"sqlite:///{tmp_path / 'yuqing.sqlite3'}",
           "YUQING_DATA_DIR": str(tmp_path), "YUQING_SESSION_MINUTES": "1"}
    for name in ("YUQING_AUTH_HEADER", "YUQING_ALERT_ROUTES", "YUQING_TRUSTED_PROXIES"):
        env.pop(name, None)
    yuqing(env, "init", "--demo")
    yuqing(env, "users", "add", USER, "--role", "admin", "--password-stdin", stdin=f"{PASSWORD}\n")
    with serving(env, tmp_path / "serve.log", "--no-workers") as (base, _):
        env["YUQING_PUBLIC_URL"] = base
        yield base, env


def idle_for(env: dict[str, str], minutes: float) -> None:
    """Skip idle time: move every session's last activity back instead of waiting."""
    database = Database(env["YUQING_DATABASE_URL"])
    try:
        with database.session() as session:
            session.execute(update(LoginSession).where(LoginSession.revoked_at.is_(None))
                            .values(last_seen_at=datetime.now(UTC) - timedelta(minutes=minutes)))
    finally:
        database.dispose()


def test_a_login_survives_reload_tabs_and_links_until_logout_password_change_or_idle_timeout(desk):
    from playwright.sync_api import expect, sync_playwright

    base, env = desk
    expect.set_options(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    incident = "#3 "
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            context.set_default_timeout(30_000)
            page = context.new_page()

            # A deep link asks for the login, refuses a wrong password in Chinese, then opens the page asked for.
            page.goto(f"{base}/incident?id=3")
            expect(login_form(page)).to_be_visible()
            log_in(page, "wrong-password")
            expect(page.get_by_text(MESSAGES["E_LOGIN_FAILED"])).to_be_visible()
            expect(page).to_have_url(f"{base}/incident?id=3")  # the refusal's parameters are gone again
            expect(page.locator("input[name=account]")).to_have_value(USER)  # the name is kept, not the password
            page.screenshot(path=str(ARTIFACTS / "login-refused.png"))
            log_in(page)
            heading = page.get_by_role("heading").filter(has_text=incident)
            expect(heading).to_be_visible()
            assert page.url == f"{base}/incident?id=3"
            cookie = next(c for c in context.cookies() if c["name"] == "yq_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
            assert len(cookie["value"]) >= 43

            # Reload, a second tab, a typed link: still logged in.
            page.reload()
            expect(heading).to_be_visible()
            tab = context.new_page()
            tab.goto(base)
            expect(tab.get_by_role("heading", name="倒计时看板")).to_be_visible()
            expect(login_form(tab)).to_have_count(0)
            tab.goto(f"{base}/incident?id=2")
            expect(tab.get_by_role("heading").filter(has_text="#2 ")).to_be_visible()

            # The wall mode from the board's link and from the bookmark survives a reload.
            tab.goto(base)
            tab.get_by_role("link", name="大屏模式").click()
            expect(tab.locator(".yq-screen")).to_be_visible()
            assert "screen=1" in tab.url
            tab.reload()
            expect(tab.locator(".yq-screen")).to_be_visible()
            assert "screen=1" in tab.url and tab.locator("[data-testid='stSidebar']").is_hidden()
            tab.goto(f"{base}/board?screen=1")
            expect(tab.locator(".yq-screen")).to_be_visible()
            tab.reload()
            expect(tab.locator(".yq-screen")).to_be_visible()
            assert "screen=1" in tab.url
            tab.close()

            # A second browser logs in too; logout in the first ends only the first one's session.
            other = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            other.set_default_timeout(30_000)
            second = other.new_page()
            second.goto(base)
            log_in(second)
            expect(second.get_by_role("heading", name="倒计时看板")).to_be_visible()
            page.get_by_role("button", name="退出登录").click()
            expect(login_form(page)).to_be_visible()
            page.reload()
            expect(login_form(page)).to_be_visible()
            assert not any(c["name"] == "yq_session" for c in context.cookies())
            second.reload()
            expect(second.get_by_role("heading", name="倒计时看板")).to_be_visible()

            # A password change (here on the command line) ends every session of the account.
            log_in(page)
            expect(page.get_by_role("heading", name="倒计时看板")).to_be_visible()
            yuqing(env, "users", "passwd", USER, "--password-stdin", stdin="desk-pass-456\n")
            for each in (page, second):
                each.reload()
                expect(login_form(each)).to_be_visible()
                expect(each.get_by_text(MESSAGES["E_SESSION_ENDED"])).to_be_visible()
            other.close()

            # The idle timeout (1 minute here) logs a desk session out; a wall display's URL keeps the board.
            screen_url = yuqing(env, "screens", "add", "大厅").strip()
            wall = context.new_page()
            wall.goto(screen_url)
            expect(wall.locator(".yq-screen tbody tr").first).to_be_visible(timeout=60_000)
            log_in(page, "desk-pass-456")
            expect(page.get_by_role("heading", name="倒计时看板")).to_be_visible()
            idle_for(env, 2)
            page.reload()
            expect(login_form(page)).to_be_visible()
            expect(page.get_by_text(MESSAGES["E_SESSION_EXPIRED"])).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "login-expired.png"))
            wall.reload()
            expect(wall.locator(".yq-screen tbody tr").first).to_be_visible(timeout=60_000)
            expect(login_form(wall)).to_have_count(0)
            wall.screenshot(path=str(ARTIFACTS / "wall-after-idle.png"))
        finally:
            browser.close()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_replicas_on_one_postgresql_share_the_login(database: Database, tmp_path: Path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    env = {**os.environ, "YUQING_DATABASE_URL": database.url, "YUQING_DATA_DIR": str(tmp_path)}
    for name in ("YUQING_AUTH_HEADER", "YUQING_ALERT_ROUTES", "YUQING_TRUSTED_PROXIES", "YUQING_SESSION_MINUTES"):
        env.pop(name, None)
    yuqing(env, "users", "add", USER, "--role", "admin", "--password-stdin", stdin=f"{PASSWORD}\n")
    incident = yuqing(env, "incident", "add", "--title", "渑池县燃气爆燃", "--unit", "渑池县", "--no-classify").strip()
    with serving(env, tmp_path / "one.log", "--no-workers") as (one, _), \
            serving(env, tmp_path / "two.log", "--no-workers") as (two, _), \
            sync_playwright() as p:
        assert one != two
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
            context.set_default_timeout(30_000)
            page = context.new_page()
            page.goto(one)
            log_in(page)
            expect(page.get_by_role("heading", name="倒计时看板")).to_be_visible()
            # The other replica (another port, so another process; the cookie goes with the host).
            page.goto(f"{two}/incident?id={incident}")
            expect(page.get_by_role("heading").filter(has_text=f"#{incident} 渑池县燃气爆燃")).to_be_visible()
            page.reload()
            expect(page.get_by_role("heading").filter(has_text=f"#{incident} ")).to_be_visible()
            # Logout on the second replica ends the session on the first as well.
            page.get_by_role("button", name="退出登录").click()
            expect(login_form(page)).to_be_visible()
            page.goto(one)
            expect(login_form(page)).to_be_visible()
        finally:
            browser.close()
