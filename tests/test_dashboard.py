"""AppTest smoke and behaviour tests of the dashboard pages (real database, no browser)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.cliutil import ago, yq

DASHBOARD = str(Path(__file__).resolve().parents[1] / "dashboard.py")


@pytest.fixture
def app_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("YUQING_DATABASE_URL", db_url)
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    from app_pages import common

    common.database.clear()
    common.open_incidents.clear()
    common.units.clear()
    yield db_url
    common.database.clear()


def run_app() -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
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
    at = run_app()
    assert not at.exception
    assert "yuqing init" in at.error[0].value
