"""AppTest smoke and behaviour tests of the dashboard pages (real database, no browser)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from db.service import Actor
from datetime import datetime, timedelta, timezone

from tests.cliutil import ago, yq

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")


@pytest.fixture
def app_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("YUQING_DATABASE_URL", db_url)
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    from app_pages import common

    common.reset()
    yield db_url
    common.reset()


def run_app(actor: Actor | None = Actor("office", "admin")) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    if actor is not None:
        at.session_state["yq_auth"] = {"actor": actor, "seen": datetime.now(timezone.utc)}
    at.run()
    return at


def board_html(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_board_shows_demo_incidents_with_countdowns(app_env: str):
    assert yq(app_env, "init", "--demo").code == 0
    at = run_app()
    assert not at.exception
    html = board_html(at)
    assert "渑池县某小区燃气泄漏" in html and "剩余" in html and "已超时" in html
    assert "at_risk" in html and "overdue" in html
    assert "幼儿园" in html  # open and overdue
    assert "公租房" not in html  # closed
    assert at.metric[1].value != "0"


def test_board_filters_by_unit(app_env: str):
    assert yq(app_env, "init", "--demo").code == 0
    at = run_app()
    at.selectbox(key="board_unit").set_value("lingbao").run()
    html = board_html(at)
    assert "灵宝市突降暴雨" in html and "渑池县" not in html


def test_board_shows_a_new_incident_and_its_met_window(app_env: str):
    assert yq(app_env, "init").code == 0
    incident = yq(app_env, "incident", "add", "--title", "卢氏县网传停电", "--unit", "卢氏", "--first-post-at", ago(2),
                  "--no-classify").out.strip()
    at = run_app()
    assert "卢氏县网传停电" in board_html(at) and "剩余 21 小时" in board_html(at)
    yq(app_env, "incident", "act", incident, "--kind", "response", "--at", ago(1))
    from app_pages import common

    common.open_incidents.clear()
    at.run()
    assert "按时完成" in board_html(at)


def test_board_on_uninitialised_database_says_so_in_chinese(app_env: str):
    at = run_app(actor=None)
    assert not at.exception
    assert "yuqing init" in at.error[0].value


def login(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    return at


def test_login_page_lets_a_real_account_in(app_env: str, monkeypatch: pytest.MonkeyPatch):
    assert yq(app_env, "init", "--demo").code == 0
    assert yq(app_env, "users", "add", "zhang", "--role", "viewer", "--password-stdin", stdin="zhang-pass-1\n",
              monkeypatch=monkeypatch).code == 0
    at = run_app(actor=None)
    assert at.title[0].value == "政务舆情回应时效追踪" and "燃气" not in board_html(at)
    login(at, "zhang", "wrong-pass")
    assert at.error[0].value == "账号或密码错误"
    login(at, "zhang", "zhang-pass-1")
    assert not at.exception
    assert "燃气泄漏" in board_html(at)
    assert "zhang" in at.sidebar.markdown[0].value


def test_login_locks_after_five_failures(app_env: str, monkeypatch: pytest.MonkeyPatch):
    assert yq(app_env, "init").code == 0
    yq(app_env, "users", "add", "li", "--role", "viewer", "--password-stdin", stdin="li-pass-123\n", monkeypatch=monkeypatch)
    at = run_app(actor=None)
    for _ in range(5):
        login(at, "li", "nope")
    login(at, "li", "li-pass-123")
    assert "已锁定" in at.error[0].value


def test_idle_session_expires_back_to_login(app_env: str):
    assert yq(app_env, "init").code == 0
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.session_state["yq_auth"] = {"actor": Actor("office", "admin"), "seen": datetime.now(timezone.utc) - timedelta(hours=2)}
    at.run()
    assert at.title[0].value == "政务舆情回应时效追踪"
    assert "超时" in at.warning[0].value
