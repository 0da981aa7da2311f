"""AppTest tests of the scoring pages (单位考核, 舆情函件) against a real database."""
from __future__ import annotations

from datetime import UTC

import pytest

from tests.cliutil import ago, yq
from tests.test_dashboard import ADMIN, STAFF, VIEWER, app_env, page_text, run_app, wall  # noqa: F401 (app_env: fixture)
from timeline.clock import BEIJING
from yuqing.db.service import Actor


def this_year() -> int:
    from datetime import datetime

    return datetime.now(UTC).astimezone(BEIJING).year


def open_tab(at, name: str):  # type: ignore[no-untyped-def]  # an AppTest
    """Open one of the 单位考核 tabs (only the open tab is rendered)."""
    at.session_state["scores_tabs"] = name
    return at.run()


def overdue_incident(db_url: str) -> int:
    """An incident of 灵宝市 logged 30 hours ago and never answered: its response window is overdue."""
    result = yq(db_url, "incident", "add", "--title", "灵宝市网传停水三天无人管", "--unit", "灵宝",
                "--first-post-at", ago(30), "--detected-at", ago(29), "--no-classify")
    assert result.code == 0, result.err
    return int(result.out.strip())


def test_scores_page_ranks_units_and_offers_downloads(app_env: str):
    assert yq(app_env, "init", "--demo").code == 0
    at = run_app(page="scores")
    ranking = at.dataframe[0].value
    assert {"排名", "单位", "总分", "等次"} <= set(ranking.columns) and len(ranking) > 40
    labels = [b.proto.label for b in at.get("download_button")]
    assert "下载汇总表（CSV）" in labels and "下载完整工作簿（xlsx）" in labels
    assert "评分方案" in page_text(at)
    from yuqing.pages import scorecards

    ours = scorecards.year_scores(this_year()).csv().decode("utf-8-sig").splitlines()[0]
    cli = yq(app_env, "score", "--year", str(this_year()), "--format", "csv").out.lstrip("\ufeff").splitlines()[0]
    assert ours == cli


def test_drill_down_lists_each_deduction_with_its_incident(app_env: str):
    assert yq(app_env, "init").code == 0
    incident = overdue_incident(app_env)
    at = open_tab(run_app(page="scores"), "扣分明细与申诉")
    at.selectbox(key="scores_unit").set_value("lingbao").run()
    text = page_text(at)
    assert "超时未完成" in text and "灵宝市网传停水三天无人管" in text
    assert f"查看舆情 #{incident}" in text
    open_tab(at, "指标图表").radio(key="scores_kind").set_value("county").run()
    assert at.selectbox(key="scores_indicator_county").options[0].startswith("时效性")  # timeliness first


def test_staff_appeals_a_deduction_and_the_office_overturns_it(app_env: str):
    assert yq(app_env, "init").code == 0
    overdue_incident(app_env)
    at = open_tab(run_app(STAFF, "scores"), "扣分明细与申诉")
    assert at.selectbox(key="scores_unit").value == "lingbao"  # staff start on their own unit
    assert at.selectbox(key="appeal_key").value.endswith(":response:overdue")
    at.text_area(key="appeal_reason").input("已于当日在政府网站回应，漏登")
    at.button[[b.label for b in at.button].index("提出申诉")].click().run()
    assert at.success[0].value == "已提出申诉，等待市政务公开办决定"
    assert "撤销扣分" not in [b.label for b in at.button]  # deciding is for the office
    office = run_app(ADMIN, "scores")
    open_tab(office, "申诉处理")
    office.text_input(key="decide_reason_1").input("核实网站截图，回应及时")
    office.button(key="overturn_1").click().run()
    assert office.success[0].value == "申诉 #1：撤销扣分"
    open_tab(office, "扣分明细与申诉")
    office.selectbox(key="scores_unit").set_value("lingbao").run()
    assert "已申诉撤销" in page_text(office)


def test_staff_cannot_appeal_another_units_deduction(app_env: str):
    assert yq(app_env, "init").code == 0
    overdue_incident(app_env)
    at = open_tab(run_app(Actor("mianchi-staff", "staff", "mianchi"), "scores"), "扣分明细与申诉")
    at.selectbox(key="scores_unit").set_value("lingbao").run()
    assert "超时未完成" in page_text(at)
    assert "提出申诉" not in [b.label for b in at.button]


def test_office_records_and_finishes_a_rectification(app_env: str):
    assert yq(app_env, "init").code == 0
    at = run_app(page="scores")
    open_tab(at, "整改")
    at.selectbox(key="rect_unit").set_value("lingbao")
    at.datetime_input(key="rect_due").set_value(wall(-24 * 7))
    at.text_input(key="rect_problem").input("舆情回应台账不完整")
    at.button[[b.label for b in at.button].index("登记")].click().run()
    assert at.success[0].value == "已登记整改事项"
    at.text_input(key="rect_note_1").input("已补齐台账")
    at.button(key="rect_done_1").click().run()
    assert at.success[0].value == "整改事项 #1 已登记完成"
    table = [d.value for d in at.dataframe if "问题" in d.value.columns][0]
    assert table["状态"].tolist() == ["按期完成"]


def test_quarterly_bulletin_is_shown_and_downloadable(app_env: str):
    assert yq(app_env, "init").code == 0
    overdue_incident(app_env)
    at = run_app(page="scores")
    assert "政务舆情处置情况通报" not in page_text(at)  # the bulletin is read when its tab is opened
    open_tab(at, "季度通报")
    text = page_text(at)
    assert f"政务舆情处置情况通报（{this_year()}年第" in text and "灵宝市" in text
    labels = [b.proto.label for b in at.get("download_button")]
    assert "下载通报（Markdown）" in labels and "下载通报（xlsx）" in labels and "下载通报（公文 docx）" in labels


def test_office_sends_a_referral_and_records_the_reply(app_env: str):
    assert yq(app_env, "init").code == 0
    incident = overdue_incident(app_env)
    at = run_app(page="referrals")
    at.selectbox(key="ref_incident").set_value(incident).run()
    assert at.selectbox(key="ref_unit").value == "lingbao"  # the incident's lead unit by default
    at.number_input(key="ref_days").set_value(3)
    at.button(key="ref_send").click().run()
    assert at.success[0].value == "已发出函件 #1", at.error[0].value if at.error else ""
    assert "办理中" in page_text(at) and "3 个工作日" in page_text(at)
    at.button(key="reply_1").click().run()
    assert at.success[0].value == "已登记函件 #1 的回复"
    assert "按时回复" in page_text(at)
    listed = yq(app_env, "referral", "list", "--json").json()
    assert listed[0]["state"] == "met" and listed[0]["due_workdays"] == 3


def test_referral_without_a_unit_or_incident_is_refused(app_env: str):
    assert yq(app_env, "init").code == 0
    at = run_app(page="referrals")
    at.button(key="ref_send").click().run()
    assert at.error[0].value == "请选择舆情和承办单位"


@pytest.mark.parametrize("actor", [STAFF, VIEWER], ids=["staff", "viewer"])
def test_only_the_office_sends_referrals(app_env: str, actor):  # type: ignore[no-untyped-def]  # pytest fixtures are untyped
    assert yq(app_env, "init").code == 0
    incident = overdue_incident(app_env)
    assert yq(app_env, "referral", "add", str(incident), "--unit", "灵宝", "--due-workdays", "2").code == 0
    at = run_app(actor, "referrals")
    assert "函件 #1" in page_text(at)
    assert not at.main.button and not at.main.number_input


def test_ranking_opens_on_the_opinion_ranking_until_every_total_is_in():
    from yuqing.pages import scorecards

    def row(code: str, kind: str, total: float | None, rank: int | None, opinion_rank: int) -> dict:
        return {"unit": {"code": code, "name": code, "kind": kind}, "rank": rank, "total": total, "grade": None,
                "incidents": 0, "opinion_points": 15 - opinion_rank, "opinion_max": 15, "zeroed": False,
                "opinion": {"points": 15 - opinion_rank, "max": 15, "rank": opinion_rank}, "missing_manual": [],
                "special": {"bonus": 0, "penalty": 0}, "daily": {"points": 0}}

    rows = [row("a", "department", None, None, 2), row("b", "department", None, None, 1), row("x", "county", 90, 1, 1)]
    assert scorecards.complete_ranking(rows) == "opinion"
    assert [r["单位"] for r in scorecards.ranking(rows, "opinion")] == ["b", "a", "x"]
    rows[0].update(total=80, rank=2)
    rows[1].update(total=85, rank=1)
    assert scorecards.complete_ranking(rows) == "total"


def test_downloads_are_built_on_click_outside_the_page_session(app_env: str, monkeypatch: pytest.MonkeyPatch):
    """The workbooks and the 公文 are built when their button is clicked, on a thread of Streamlit's own
    with no page session: each callable carries the session's database instead of reading the session."""
    import threading

    from streamlit.runtime.media_file_manager import MediaFileManager

    assert yq(app_env, "init").code == 0
    overdue_incident(app_env)
    registered: list[tuple[str | None, object]] = []
    add = MediaFileManager.add_deferred

    def record(self, make, mimetype, coordinates, file_name=None, **kwargs):  # type: ignore[no-untyped-def]  # Streamlit's own signature
        registered.append((file_name, make))
        return add(self, make, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    open_tab(run_app(page="scores"), "季度通报")
    files = {name: make for name, make in registered if name and name.endswith((".xlsx", ".docx"))}
    year = this_year()
    assert f"考核得分-{year}.xlsx" in files  # the ranking tab's workbook, then the bulletin's 公文 and workbook
    assert sorted(name.rsplit(".", 1)[1] for name in files if name.startswith("政务舆情")) == ["docx", "xlsx"]
    built: dict[str, bytes] = {}
    for name, make in files.items():
        worker = threading.Thread(target=lambda name=name, make=make: built.update({name: make()}))  # type: ignore[misc]  # a deferred callable
        worker.start()
        worker.join()
    assert set(built) == set(files) and all(data[:2] == b"PK" for data in built.values())  # docx and xlsx are zip files


def kept_ranking(tmp_path) -> dict:  # type: ignore[no-untyped-def]  # a pytest tmp_path
    import json

    files = list((tmp_path / "score-results").glob("office-*.json"))
    assert len(files) == 1
    return json.loads(files[0].read_text(encoding="utf-8"))


def test_a_years_ranking_is_kept_until_a_write_changes_the_data(app_env: str, tmp_path):  # type: ignore[no-untyped-def]  # pytest fixtures
    """The ranking is scored once and kept under the key of its data: views after it read the kept
    ranking (judged at the first view), a write makes the next view score the year again."""
    from yuqing.pages import common

    assert yq(app_env, "init").code == 0
    incident = overdue_incident(app_env)
    at = open_tab(run_app(page="scores"), "扣分明细与申诉")
    first = kept_ranking(tmp_path)
    lingbao = next(r for r in first["rows"] if r["unit"]["code"] == "lingbao")
    assert all(i["deductions"] == [] for i in lingbao["indicators"])  # the ranking leaves the deductions out
    at.selectbox(key="scores_unit").set_value("lingbao").run()
    assert "超时未完成" in page_text(at)  # … which are read for the unit picked
    common.refresh()
    again = run_app(page="scores")
    assert kept_ranking(tmp_path)["now"] == first["now"]  # read, not scored again
    assert len(again.dataframe[0].value) == len(first["rows"])
    assert yq(app_env, "incident", "act", str(incident), "--kind", "response", "--at", ago(1), "--channel", "website",
              "--reason", "补录").code == 0
    common.refresh()
    at = open_tab(run_app(page="scores"), "扣分明细与申诉")
    assert kept_ranking(tmp_path)["now"] > first["now"] and kept_ranking(tmp_path)["key"] != first["key"]
    at.selectbox(key="scores_unit").set_value("lingbao").run()
    assert "超时未完成" not in page_text(at) and "逾期完成" in page_text(at)


def test_kept_results_hold_until_the_next_deadline(database):  # type: ignore[no-untyped-def]  # pytest fixture
    """settled_until: the first instant a verdict turns without a write — an open window's deadline;
    None once every window of the year is judged. data_state changes with a write, not without."""
    from datetime import timedelta

    from tests.conftest import T0, writer
    from yuqing.db.scoring_reads import load_year
    from yuqing.db.scoring_state import data_state, settled_until
    from yuqing.db.service import NewIncident

    year = T0.astimezone(BEIJING).year
    with database.session() as session:
        writer(session, now=T0).add_incident(NewIncident(title="灵宝市网传停水", unit="灵宝", first_post_at=T0,
                                                         level="一般", sudden=False, classify=False))
    key = database.read(data_state, year)
    assert database.read(data_state, year) == key
    soon = database.read(load_year, year, now=T0 + timedelta(hours=1))
    assert settled_until(soon) == T0 + timedelta(hours=24)  # the response window falls due
    later = database.read(load_year, year, now=T0 + timedelta(hours=25))
    assert settled_until(later) is None
    with database.session() as session:
        writer(session, now=T0 + timedelta(hours=2)).add_incident(NewIncident(
            title="卢氏县网传断电", unit="卢氏", first_post_at=T0 + timedelta(hours=2), level="一般", sudden=False, classify=False))
    assert database.read(data_state, year) != key
