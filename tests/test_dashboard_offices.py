"""Issue 17 on the pages: a county account's board and 待研判 queue show the county's records only
(AppTest, real database on both backends)."""
from __future__ import annotations

from pathlib import Path

from cliutil import yq

from tests.test_dashboard import app_env, page_text, run_app  # noqa: F401 - app_env is a fixture
from tests.test_offices import add, offices, ok  # noqa: F401 - offices is a fixture
from yuqing.db.service import Actor


def test_a_county_account_s_board_and_queue_show_only_the_county_s(offices: str, app_env: str, tmp_path: Path):
    add(offices, "city", "市发改委", "市发改委的舆情")
    add(offices, "lbadmin", "灵宝市教育局", "灵宝教育局的舆情")
    add(offices, "lsadmin", "卢氏县教育局", "卢氏教育局的舆情")
    for actor, title in (("city", "市区某路段积水"), ("lbadmin", "灵宝某村停水"), ("lsadmin", "卢氏某村停电")):
        sheet = tmp_path / f"{actor}.csv"
        sheet.write_text(f"标题,内容,发布时间\n{title},{title}三天,2026-11-24 08:00\n", encoding="utf-8")
        ok(yq(offices, "import", str(sheet), actor=actor))
    county = Actor("lbadmin", "admin")
    board = page_text(run_app(county, "board"))
    assert "灵宝教育局的舆情" in board
    assert "市发改委的舆情" not in board and "卢氏教育局的舆情" not in board
    queue = page_text(run_app(county, "triage"))
    assert "灵宝某村停水" in queue
    assert "市区某路段积水" not in queue and "卢氏某村停电" not in queue
    # The city's own board, for contrast: its incident, not the counties' department incidents.
    city = page_text(run_app(Actor("city", "admin"), "board"))
    assert "市发改委的舆情" in city and "卢氏教育局的舆情" not in city
