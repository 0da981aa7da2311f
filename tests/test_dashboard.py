"""AppTest smoke and behaviour tests of the dashboard pages (real database, no browser)."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.cliutil import ago, session_for, yq
from tests.conftest import writer
from timeline.clock import BEIJING
from yuqing.db.service import Actor, NewAction, NewIncident
from yuqing.errors import YuqingError

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = str(ROOT / "dashboard.py")
ADMIN = Actor("office", "admin")
STAFF = Actor("lingbao", "staff", "lingbao")
VIEWER = Actor("leader", "viewer")
PAGES = ("board", "new_incident", "incident", "triage", "scores", "feeds", "referrals", "rules")


@pytest.fixture
def app_env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("YUQING_DATABASE_URL", db_url)
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("YUQING_AUTH_HEADER", raising=False)
    monkeypatch.delenv("YUQING_ALERT_ROUTES", raising=False)
    from yuqing.pages import common

    common.reset()
    yield db_url
    common.reset()


def run_app(actor: Actor | None = ADMIN, page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    if actor is not None:
        token = session_for(os.environ["YUQING_DATABASE_URL"], actor)
        if token is not None:
            at.session_state["yq_session"] = token
    for key, value in params.items():
        at.query_params[key] = value
    if page is not None:
        # Pages registered with their own url_path are known only after a first run.
        at.run()
        at.switch_page(f"yuqing/pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def board_html(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def page_text(at: AppTest) -> str:
    """Everything a reader sees as text: markdown, links, captions, headings and notices."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [el.proto.label for el in at.get("page_link")]
    parts += [e.value for e in (*at.title, *at.subheader, *at.info, *at.success, *at.error, *at.warning)]
    return "\n".join(parts)


def errors_with_blocks(at: AppTest) -> list[tuple[str, tuple[str, ...]]]:
    """Each st.error's text with the ids of the blocks around it (a keyed container's ends in its key)."""
    found: list[tuple[str, tuple[str, ...]]] = []

    def walk(node: Any, around: tuple[str, ...]) -> None:
        children = getattr(node, "children", None)
        if children:
            block = getattr(getattr(node, "proto", None), "id", "") or ""
            for child in (children.values() if isinstance(children, dict) else children):
                walk(child, (*around, block) if block else around)
        elif getattr(node, "type", "") == "error":
            found.append((node.value, around))

    walk(at._tree, ())
    return found


def wall(hours_ago: float) -> datetime:
    """A naive Beijing wall time, as a date-time input holds it."""
    moment = datetime.now(UTC) - timedelta(hours=hours_ago)
    return moment.astimezone(BEIJING).replace(tzinfo=None, second=0, microsecond=0)


def add_incident(db_url: str, title: str, unit: str, *extra: str) -> int:
    result = yq(db_url, "incident", "add", "--title", title, "--unit", unit, "--first-post-at", ago(2), *extra)
    assert result.code == 0, result.err
    return int(result.out.strip())


def cells(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if 'class="yq-cell' in m.value]


# --- board -----------------------------------------------------------------------------------------
def test_board_shows_demo_incidents_with_countdowns_to_the_second(app_env: str):
    assert yq(app_env, "init", "--demo").code == 0
    at = run_app()
    html = page_text(at)
    assert "渑池县某小区燃气泄漏" in html and "剩余" in html and "已超时" in html
    assert "at_risk" in html and "overdue" in html
    assert " 秒" in html  # the countdown shows seconds
    assert "幼儿园" in html  # open and overdue
    assert "公租房" not in html  # closed
    assert at.metric[1].value != "0"
    links = {el.proto.label: el.proto.query_string for el in at.get("page_link")}
    assert any(label.startswith("#") and query.startswith("id=") for label, query in links.items())


def test_board_filters_by_unit_level_and_state(app_env: str):
    assert yq(app_env, "init", "--demo").code == 0
    at = run_app()
    at.selectbox(key="board_unit").set_value("lingbao").run()
    text = page_text(at)
    assert "灵宝市突降暴雨" in text and "渑池县" not in text
    at.selectbox(key="board_unit").set_value(None)
    at.multiselect(key="board_levels").set_value(["未定级"]).run()
    text = page_text(at)
    assert "网传陕州区某学校食堂食材过期" in text and "灵宝市突降暴雨" not in text
    at.multiselect(key="board_levels").set_value([])
    at.multiselect(key="board_tones").set_value(["overdue"]).run()
    assert all("overdue" in c or "met" in c or "late" in c or "yq-na" in c for c in cells(at)[:3])
    assert "卢氏县部分农民工" not in page_text(at)  # one hour old: on track only


def test_board_shows_a_new_incident_and_its_met_window(app_env: str):
    assert yq(app_env, "init").code == 0
    incident = add_incident(app_env, "卢氏县网传停电", "卢氏", "--no-classify")
    at = run_app()
    # Started two hours ago to the second: 22:00:00 left, or 21:59:xx once a second has passed.
    assert "卢氏县网传停电" in page_text(at) and re.search(r"剩余 (21 小时 59 分|22 小时 00 分)", page_text(at))
    yq(app_env, "incident", "act", str(incident), "--kind", "response", "--at", ago(1))
    from yuqing.pages import common

    common.open_incidents.clear()
    at.run()
    assert "按时完成" in board_html(at)


def test_board_shows_one_page_most_urgent_first_with_counts_of_all(app_env: str):
    assert yq(app_env, "init").code == 0
    from yuqing.db.service import NewIncident, Writer
    from yuqing.db.session import Database

    now = datetime.now(UTC)
    database = Database(app_env)
    with database.session() as session:
        w = Writer(session, ADMIN, now=now, preset="sanmenxia-2017")
        for i in range(45):
            w.add_incident(NewIncident(title=f"分页舆情{i:02d}号", unit="渑池县", first_post_at=now - timedelta(hours=i, minutes=30),
                                       classify=False))
    database.dispose()
    at = run_app()
    rows = [el for el in at.get("page_link") if el.proto.label.startswith("#")]
    assert len(rows) == 20  # one page, not every open incident
    assert at.metric[0].value == "45" and at.metric[1].value == "21"  # 24.5-44.5 hours old: overdue
    assert at.metric[2].value == "4"  # 20.5-23.5 hours old: at risk
    # Overdue first, the longest overdue at the top.
    assert [r.proto.label.split(" ", 1)[1] for r in rows[:2]] == ["分页舆情44号", "分页舆情43号"]
    at.number_input(key="board_page").set_value(3).run()
    rows = [el.proto.label for el in at.get("page_link") if el.proto.label.startswith("#")]
    assert len(rows) == 5 and rows[-1].endswith("分页舆情00号")
    at.multiselect(key="board_tones").set_value(["overdue"]).run()  # a filter goes back to page 1
    assert at.number_input(key="board_page").value == 1 and at.metric[0].value == "21"


def test_big_screen_mode_has_large_table_and_no_sidebar(app_env: str):
    assert yq(app_env, "init", "--demo").code == 0
    at = run_app(screen="1")
    html = board_html(at)
    assert 'class="yq-screen"' in html and "/2 页" in html  # 9 open demo incidents, 8 a page
    assert 1 <= html.count("<tr><td>") <= 8
    assert not at.sidebar.markdown and not at.sidebar.button  # no account box, no logout button
    assert not at.selectbox  # no filters on the wall


def test_board_on_uninitialised_database_says_so_in_chinese(app_env: str):
    at = run_app(actor=None)
    assert "yuqing init" in at.error[0].value


# --- every page, every role ------------------------------------------------------------------------
@pytest.mark.parametrize("actor", [ADMIN, STAFF, VIEWER], ids=["admin", "staff", "viewer"])
def test_every_page_renders_for_every_role(app_env: str, actor: Actor):
    assert yq(app_env, "init", "--demo").code == 0
    for page in PAGES:
        at = run_app(actor, page, id="1")
        assert at.title, page


def test_viewer_is_offered_no_write_forms(app_env: str):
    assert yq(app_env, "init", "--demo").code == 0
    for page in PAGES:
        at = run_app(VIEWER, page, id="1")
        assert not at.main.button, (page, [b.label for b in at.main.button])
        # (the sidebar's own-password form is every account's, not a write to the records; the detail
        # page's incident search only chooses what to read)
        assert [t.key for t in at.main.text_input] in ([], ["detail_search"]) and not at.file_uploader, page


# --- 登记舆情 ---------------------------------------------------------------------------------------
def fill_incident(at: AppTest, title: str, unit: str | None = "mianchi", **times: datetime | None) -> AppTest:
    at.text_input(key="new_title").input(title)
    at.text_area(key="new_summary").input("网民发帖称小区发生燃气爆燃，已致2人受伤。")
    if unit is not None:
        at.selectbox(key="new_unit").set_value(unit)
    for key, value in times.items():
        at.datetime_input(key=f"new_{key}").set_value(value)
    return at


def test_incident_form_shows_the_suggestion_then_saves(app_env: str):
    assert yq(app_env, "init").code == 0
    at = run_app(page="new_incident")
    fill_incident(at, "渑池县某小区燃气爆燃，已致2人受伤", first_post=wall(1)).run()
    text = page_text(at)
    assert "分类建议" in text and "关键词：爆燃" in text and "受伤（人） 2" in text and "分类规则版本" in text
    at.button(key="new_save").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("已登记舆情 #")
    assert at.text_input(key="new_title").value == ""  # the form is ready for the next one
    shown = yq(app_env, "incident", "show", "1", "--json").json()
    assert shown["title"] == "渑池县某小区燃气爆燃，已致2人受伤" and shown["unit"]["code"] == "mianchi"
    assert shown["sudden"] is True and "sudden" in shown["suggested_fields"]


@pytest.mark.parametrize(
    ("title", "unit", "times", "co_units", "message"),
    [
        ("", "mianchi", {}, [], "舆情标题不能为空"),
        ("网传停电", None, {}, [], "请选择牵头单位"),
        ("网传停电", "mianchi", {"first_post": wall(-3)}, [], "晚于当前时间"),
        ("网传停电", "mianchi", {}, ["mianchi"], "协办单位不能与牵头单位相同"),
    ],
    ids=["empty-title", "no-unit", "future", "co-unit-is-lead"],
)
def test_incident_form_refuses_bad_input_with_a_sentence(app_env: str, title: str, unit: str | None,
                                                         times: dict[str, datetime], co_units: list[str], message: str):
    assert yq(app_env, "init").code == 0
    at = run_app(page="new_incident")
    fill_incident(at, title, unit, **times)
    at.multiselect(key="new_co_units").set_value(co_units)
    at.button(key="new_save").click().run()
    assert not at.exception and not at.success
    assert message in at.error[0].value
    assert at.text_input(key="new_title").value == title  # nothing typed is lost
    assert yq(app_env, "incident", "list", "--json").json() == []


def test_staff_registers_only_for_own_unit(app_env: str):
    assert yq(app_env, "init").code == 0
    at = run_app(STAFF, "new_incident")
    unit = at.selectbox(key="new_unit")
    assert unit.value == "lingbao" and unit.disabled and unit.options == ["灵宝市人民政府"]


# --- 舆情详情 ---------------------------------------------------------------------------------------
def test_recording_an_action_turns_the_window_met(app_env: str, tmp_path: Path):
    assert yq(app_env, "init").code == 0
    incident = add_incident(app_env, "灵宝市网传停水", "灵宝", "--no-classify")
    at = run_app(page="incident", id=str(incident))
    assert "剩余" in cells(at)[0] and "on_track" in cells(at)[0]
    at.selectbox(key=f"act{incident}_kind").set_value("response")
    at.datetime_input(key=f"act{incident}_at").set_value(wall(1))
    at.multiselect(key=f"act{incident}_channels").set_value(["weibo", "website"])
    at.text_input(key=f"act{incident}_url").input("https://weibo.example/post/1")
    at.file_uploader(key=f"act{incident}_file0").upload("通报.txt", "停水通报".encode(), "text/plain")
    at.button[[b.label for b in at.button].index("登记处置")].click().run()
    assert not at.error, at.error[0].value if at.error else ""
    assert at.success[0].value == "已登记回应"
    assert 'class="yq-cell met"' in cells(at)[0] and "按时完成" in cells(at)[0]
    evidence = [d for d in at.get("download_button") if d.proto.label.startswith("下载证据")]  # after the 台账 ones
    assert len(evidence) == 1 and "通报.txt" in evidence[0].proto.label
    stored = [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == ["停水通报".encode()]


def test_an_action_before_the_start_is_refused_in_chinese(app_env: str):
    assert yq(app_env, "init").code == 0
    incident = add_incident(app_env, "灵宝市网传停水", "灵宝", "--no-classify")
    at = run_app(page="incident", id=str(incident))
    at.datetime_input(key=f"act{incident}_at").set_value(wall(5))
    at.button[[b.label for b in at.button].index("登记处置")].click().run()
    assert "处置时间早于舆情开始时间" in at.error[0].value


def test_reclassifying_shows_the_new_windows_and_keeps_the_old_verdict(app_env: str):
    assert yq(app_env, "init").code == 0
    incident = add_incident(app_env, "义马市化工园区异味", "义马", "--level", "一般", "--not-sudden")
    at = run_app(page="incident", id=str(incident))
    assert ["yq-na" in c for c in cells(at)] == [False, True, True]
    at.selectbox(key=f"rc{incident}_level").set_value("重大")
    at.text_input(key=f"rc{incident}_reason").input("核实有12人送医")
    at.button[[b.label for b in at.button].index("调整分级")].click().run()
    assert at.success[0].value == f"已调整舆情 #{incident} 的分级"
    assert ["yq-na" in c for c in cells(at)] == [False, False, False]
    assert "发布权威信息" in page_text(at) and "重点舆情" in page_text(at)
    history = page_text(at)
    assert "调整分级" in history and "一般" in history and "核实有12人送医" in history


def test_reclassify_without_a_reason_is_refused(app_env: str):
    assert yq(app_env, "init").code == 0
    incident = add_incident(app_env, "义马市化工园区异味", "义马", "--level", "一般")
    at = run_app(page="incident", id=str(incident))
    # The window preset by its title, not its file name.
    assert "时限规则：三门峡市政务公开工作考核办法（试行）" in page_text(at) and "sanmenxia-2017" not in page_text(at)
    at.selectbox(key=f"rc{incident}_level").set_value("重大")
    at.button[[b.label for b in at.button].index("调整分级")].click().run()
    assert at.error[0].value == "调整分级必须填写原因"  # the page names the field, not --reason


def test_transfer_void_and_close_from_the_detail_page(app_env: str):
    assert yq(app_env, "init").code == 0
    first = add_incident(app_env, "井盖缺失", "湖滨区", "--no-classify")
    second = add_incident(app_env, "重复登记的井盖缺失", "湖滨区", "--no-classify")
    at = run_app(page="incident", id=str(first))
    at.selectbox(key=f"tr{first}_unit").set_value("cgj")
    at.text_input(key=f"tr{first}_reason").input("属城市管理部门职责")
    at.button[[b.label for b in at.button].index("转办")].click().run()
    assert "已转办至" in at.success[0].value
    at.button[[b.label for b in at.button].index("办结")].click().run()
    assert at.success[0].value == f"舆情 #{first} 已办结"
    at = run_app(page="incident", id=str(second))
    at.radio(key=f"vd{second}_kind").set_value("重复登记")
    at.button[[b.label for b in at.button].index("作废")].click().run()
    assert at.success[0].value == f"舆情 #{second} 已作废，不再计入考核"
    assert all("yq-na" in c for c in cells(at))
    assert yq(app_env, "incident", "show", str(second), "--json").json()["void_reason"] == "重复登记"


def test_staff_is_not_offered_another_units_incident_and_the_service_refuses(app_env: str):
    assert yq(app_env, "init").code == 0
    other = add_incident(app_env, "渑池县网传停电", "渑池", "--no-classify")
    own = add_incident(app_env, "灵宝市网传停电", "灵宝", "--no-classify")
    at = run_app(STAFF, "incident", id=str(other))
    assert not at.main.button and not at.file_uploader
    assert [t.key for t in at.main.text_input] == ["detail_search"]  # choosing what to read, no write
    assert [t.label for t in at.tabs] == ["处置记录", "历史记录"]
    at = run_app(STAFF, "incident", id=str(own))
    assert "登记处置" in [t.label for t in at.tabs] and "办结" in [b.label for b in at.button]
    assert "调整分级" not in [b.label for b in at.button]  # admins only
    # Forced anyway (a crafted request): the write service refuses it.
    from yuqing.pages import common

    with common.database().session() as session:
        writer = common.make_writer(session, STAFF)
        with pytest.raises(YuqingError) as refused:
            writer.record_action(other, NewAction(kind="response", at=datetime.now(UTC)))
    assert refused.value.code == "E_FORBIDDEN_UNIT"


def test_detail_page_address_with_a_bad_or_unknown_id(app_env: str):
    assert yq(app_env, "init").code == 0
    assert "链接中的舆情编号“abc”无效" in run_app(page="incident", id="abc").error[0].value
    assert run_app(page="incident", id="99").error[0].value == "找不到编号为 99 的舆情"
    assert "请选择一条舆情" in run_app(page="incident").info[0].value


def test_a_deep_link_survives_the_login(app_env: str, monkeypatch: pytest.MonkeyPatch):
    assert yq(app_env, "init").code == 0
    incident = add_incident(app_env, "卢氏县网传停电", "卢氏", "--no-classify")
    yq(app_env, "users", "add", "zhang", "--role", "viewer", "--password-stdin", stdin="zhang-pass-1\n",
       monkeypatch=monkeypatch)
    at = run_app(None, "incident", id=str(incident))
    assert at.title[0].value == "政务舆情回应时效追踪"
    assert f'name="next" value="/incident?id={incident}"' in login_form(at)
    at.session_state["yq_session"] = session_for(app_env, Actor("zhang", "viewer"))  # what the cookie carries
    at.run()
    assert not at.exception
    assert at.subheader[0].value == f"#{incident} 卢氏县网传停电"


# --- 待研判 -----------------------------------------------------------------------------------------
def test_import_a_spreadsheet_then_accept_a_group_from_the_queue(app_env: str):
    assert yq(app_env, "init").code == 0
    csv = (
        "标题,正文,发布时间,链接\n"
        f"渑池县某小区燃气爆燃已致2人受伤,渑池县城区某小区发生燃气爆燃，已致2人受伤,{ago(1)},https://news.example/1\n"
        f"网友：渑池一小区突发爆燃,有网友称渑池县一小区燃气爆燃，已致2人受伤,{ago(0.5)},https://news.example/2\n"
        ",,,\n"
        f"没有时间的一行,内容,,https://news.example/3\n"
    ).encode()
    at = run_app(page="triage")
    at.file_uploader(key="imp_file").upload("舆情导出.csv", csv, "text/csv").run()
    assert "发布时间 ← “发布时间”" in page_text(at)
    at.button(key="imp_go").click().run()
    assert at.success[0].value.startswith("已读取 3 行：新增 2 条"), at.success[0].value
    assert "第 5 行：缺少发布时间" in at.success[0].value
    groups = [b for b in at.button if b.label == "立为舆情"]
    assert groups and "燃气爆燃" in page_text(at)
    groups[0].click().run()
    assert at.success[0].value.startswith("已立为舆情 #")
    listed = yq(app_env, "incident", "list", "--json").json()
    assert len(listed) == 1 and listed[0]["unit"]["code"] == "mianchi"
    assert "待研判队列为空" in page_text(at)


def test_dismiss_needs_a_reason(app_env: str):
    assert yq(app_env, "init").code == 0
    csv = f"标题,正文,发布时间\n渑池县某小区燃气爆燃已致2人受伤,已致2人受伤,{ago(1)}\n".encode()
    at = run_app(page="triage")
    at.file_uploader(key="imp_file").upload("a.csv", csv, "text/csv").run()
    at.button(key="imp_go").click().run()
    assert not [b for b in at.button if b.label == "排除"]  # dismissing is in the card's panel, closed until opened
    toggle = [b for b in at.button if b.key.startswith("tr_open_")][0]
    head = toggle.key.removeprefix("tr_open_")
    toggle.click().run()
    dismiss = [b for b in at.button if b.label == "排除"][0]
    dismiss.click().run()
    # The page's words (a field, not the CLI's --reason), on the card where the user acted (it was at
    # the top of the page, out of sight below a long queue), and the panel stays open.
    ((said, around),) = errors_with_blocks(at)
    assert said == "排除信息必须填写原因" and around[-1].endswith(f"group_{head}"), around
    assert at.text_input(key=f"tr_reason_{head}") is not None
    at.run()
    assert errors_with_blocks(at) == []  # shown once


# --- 信息源 -----------------------------------------------------------------------------------------
def test_add_and_disable_a_feed(app_env: str):
    assert yq(app_env, "init").code == 0
    at = run_app(STAFF, "feeds")
    at.text_input(key="feed_url").input("https://1.2.3.4/rss.xml")  # staff: hosts on the public internet only
    at.text_input(key="feed_name").input("本地新闻")
    at.button[[b.label for b in at.button].index("添加")].click().run()
    assert at.success[0].value.startswith("已添加信息源 #")
    table = at.dataframe[0].value
    assert list(table["名称"]) == ["本地新闻"] and list(table["状态"]) == ["正常"]
    at.button(key="feed_toggle").click().run()
    assert at.dataframe[0].value["状态"][0] == "已停用"
    at.text_input(key="feed_url").input("ftp://nope")
    at.button[[b.label for b in at.button].index("添加")].click().run()
    assert "单位工作人员只能添加互联网上的" in at.error[0].value
    assert "删除" not in [b.label for b in at.button]  # admins only


# --- 规则与方案 -------------------------------------------------------------------------------------
def test_rules_page_cites_sources_and_admin_manages_accounts(app_env: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch):
    assert yq(app_env, "init").code == 0
    routes = tmp_path / "routes.toml"
    routes.write_text(
        '[channels.office]\nkind = "wecom"\ntoken = "secret-token-123"\n\n'
        '[[route]]\nunits = ["*"]\nchannels = ["office"]\n\noffice = ["office"]\n', encoding="utf-8"
    )
    monkeypatch.setenv("YUQING_ALERT_ROUTES", str(routes))
    at = run_app(page="rules")
    assert "24小时内回应" in at.dataframe[0].value["原文"].tolist()
    assert "三政办〔2017〕34号" in page_text(at)
    text = page_text(at) + "".join(str(d.value) for d in at.dataframe)
    assert "office" in text and "secret-token-123" not in text
    at.text_input(key="user_name").input("wang")
    at.selectbox(key="user_role").set_value("staff")
    at.selectbox(key="user_unit").set_value("lingbao")
    at.text_input(key="user_password").input("wang-pass-1")
    at.text_input(key="user_password2").input("wang-pass-1")
    at.button[[b.label for b in at.button].index("创建账号")].click().run()
    assert at.success[0].value == "已创建账号 wang"
    users = [d.value for d in at.dataframe if "账号" in d.value.columns][0]
    assert "wang" in users["账号"].tolist()
    staff_view = run_app(STAFF, "rules")
    assert "账号" not in [h.value for h in staff_view.header]


def test_rules_page_shows_the_classify_report_table(app_env: str):
    assert yq(app_env, "init", "--demo").code == 0
    items = {i["title"]: i["id"] for i in yq(app_env, "triage", "list", "--state", "all", "--json").json()}
    # The two 燃气爆燃 items (one group, suggested sudden) dismissed; the 暴雨 item (sudden) accepted.
    assert yq(app_env, "triage", "dismiss", str(items["网友：渑池一小区突发爆燃，现场浓烟滚滚"]), "--reason", "重复").code == 0
    assert yq(app_env, "triage", "accept", str(items["卢氏县山区突降暴雨，一村庄道路被冲毁"])).code == 0
    at = run_app(VIEWER, "rules")
    table = next(d.value for d in at.dataframe if "精确率" in d.value.columns)
    rows = {row["项目"]: (row["精确率"], row["召回率"], row["决定数 n"]) for row in table.to_dict("records")}
    # sudden: 3 suggested sudden, 1 decided sudden, 1 correct; the accepted incident: category and unit
    # agree, level neither suggested nor decided
    assert rows == {"突发属性": ("33.3%", "100.0%", "3"), "事件类别": ("100.0%", "100.0%", "1"),
                    "事件级别": ("—", "—", "1"), "责任单位": ("100.0%", "100.0%", "1")}
    cli = yq(app_env, "classify", "report").out.splitlines()
    assert cli[2].split() == ["突发属性", "33.3%", "100.0%", "3"]
    assert "全部年份" in page_text(at) and "当前规则版本" in page_text(at)
    this_year = datetime.now(BEIJING).year
    at.selectbox(key="classify_report_year").set_value(this_year).run()
    assert not at.exception and f"{this_year} 年登记" in page_text(at)
    table = next(d.value for d in at.dataframe if "精确率" in d.value.columns)
    assert table["决定数 n"].tolist() == ["3", "1", "1", "1"]


# --- login ---------------------------------------------------------------------------------------
# The form itself posts to the server's /auth/login (tests/test_sessions.py, tests/test_browser.py):
# here, what the page shows around it.
def login_form(at: AppTest) -> str:
    forms = [h.proto.body for h in at.get("html") if "/auth/login" in h.proto.body]
    assert len(forms) == 1
    return forms[0]


def test_login_page_shows_a_form_that_returns_to_the_requested_page(app_env: str):
    assert yq(app_env, "init", "--demo").code == 0
    at = run_app(actor=None, page="incident", id="3")
    assert at.title[0].value == "政务舆情回应时效追踪" and "燃气" not in page_text(at)
    form = login_form(at)
    assert 'method="post"' in form and 'name="next" value="/incident?id=3"' in form
    assert 'name="account"' in form and 'type="password"' in form


def test_a_refusal_sent_back_by_the_server_is_shown_once_in_chinese(app_env: str):
    assert yq(app_env, "init").code == 0
    at = run_app(actor=None, login_error="E_LOGIN_WAIT", login_wait="4", login_name="li")
    assert at.error[0].value == "从此地址登录该账号失败次数过多，请 4 秒后再试"
    assert 'value="li"' in login_form(at) and "login_error" not in at.query_params
    forged = run_app(actor=None, login_error="E_DB_BUSY")  # only the form's own refusals are shown
    assert not forged.error


def test_idle_session_expires_back_to_login(app_env: str):
    from sqlalchemy import update

    from yuqing.db.models import LoginSession
    from yuqing.db.session import Database

    assert yq(app_env, "init").code == 0
    at = AppTest.from_file(DASHBOARD, default_timeout=30)
    at.session_state["yq_session"] = session_for(app_env, ADMIN)
    database = Database(app_env)
    try:
        with database.session() as session:
            session.execute(update(LoginSession).values(last_seen_at=datetime.now(UTC) - timedelta(hours=2)))
    finally:
        database.dispose()
    at.run()
    assert at.title[0].value == "政务舆情回应时效追踪"
    assert "超时" in at.warning[0].value


def queued(app_env: str, items: list[tuple[str, str, str, str]]) -> None:
    """These items polled into the (initialised) database's triage queue: (guid, title, link, text)."""
    from tests.test_triage_states import poll_items
    from yuqing.db.session import Database

    database = Database(app_env)
    try:
        poll_items(database, items)
    finally:
        database.dispose()


def test_a_card_accepts_in_one_click_and_opens_its_panel_to_choose_another_unit(app_env: str):
    # The page drew three inputs on every card (a page of them cost more to draw than its reads): a
    # card now accepts into the suggested unit in one click, and its other decisions open in a panel,
    # one card at a time.
    assert yq(app_env, "init").code == 0
    queued(app_env, [
        ("g", "渑池县某小区发生燃气爆炸，已致2人死亡", "https://n.example.cn/g", "渑池县城区一小区发生燃气爆炸，已致2人死亡。"),
        ("f", "灵宝市一工厂发生火灾，无人员伤亡", "https://n.example.cn/f", "灵宝市一工厂发生火灾，消防已到场。"),
    ])
    at = run_app(page="triage")

    def inputs() -> list[str]:
        return sorted(w.key for w in (*at.selectbox, *at.text_input)
                      if w.key.startswith(("tr_unit_", "tr_into_", "tr_reason_")) and w.key != "tr_into_search")

    toggles = [b.key for b in at.button if b.key.startswith("tr_open_")]
    assert len(toggles) == 2 and len([b for b in at.button if b.key.startswith("tr_quick_")]) == 2
    assert inputs() == []
    first, second = (key.removeprefix("tr_open_") for key in toggles)
    at.button(key=f"tr_open_{second}").click().run()
    assert inputs() == sorted([f"tr_into_{second}", f"tr_reason_{second}", f"tr_unit_{second}"])
    assert f"tr_quick_{second}" not in [b.key for b in at.button] and f"tr_quick_{first}" in [b.key for b in at.button]
    at.button(key=f"tr_open_{first}").click().run()  # one panel at a time
    assert inputs() == sorted([f"tr_into_{first}", f"tr_reason_{first}", f"tr_unit_{first}"])
    at.button(key=f"tr_open_{first}").click().run()
    assert inputs() == []
    # Another unit than the suggested one, chosen in the panel.
    at.button(key=f"tr_open_{second}").click().run()
    at.selectbox(key=f"tr_unit_{second}").set_value("lushi")
    at.button(key=f"tr_accept_{second}").click().run()
    assert at.success[0].value.startswith("已立为舆情 #") and inputs() == []
    # The suggested one, in one click.
    at.button(key=f"tr_quick_{first}").click().run()
    assert at.success[0].value.startswith("已立为舆情 #")
    decided = {str(i["id"]): i for i in yq(app_env, "triage", "list", "--state", "decided", "--json").json()}
    units = {i["id"]: i["unit"]["code"] for i in yq(app_env, "incident", "list", "--json").json()}
    assert units[decided[second]["incident"]] == "lushi" != decided[second]["unit"]  # moved in its panel
    assert units[decided[first]["incident"]] == decided[first]["unit"] in ("mianchi", "lingbao")  # the suggested one


def test_ignored_items_have_a_tab_with_their_reason_and_a_duplicate_can_be_merged_in_one_click(app_env: str):
    assert yq(app_env, "init").code == 0
    logged = yq(app_env, "incident", "add", "--title", "渑池县某小区燃气爆炸", "--unit", "渑池县", "--first-post", ago(2))
    assert logged.code == 0, logged.err
    queued(app_env, [
        ("g", "渑池县某小区发生燃气爆炸，已致2人死亡", "https://n.example.cn/g", "渑池县城区一小区发生燃气爆炸，已致2人死亡。"),
        ("b", "某公司发布新款手机", "https://n.example.cn/2", "新款手机搭载更大屏幕。"),
    ])
    at = run_app(page="triage")
    assert not at.exception
    text = page_text(at)
    assert "无需研判（1）" in [t.label for t in at.tabs] and "未识别出话题，也不是重点事件" in text and "某公司发布新款手机" in text
    assert f"可能是舆情 #{logged.out.strip()}" in text
    # 重点舆情 / 一般舆情 in full (a bare 一般 read as the event level); no rules hash on the cards.
    assert ":red-badge[重点舆情]" in text and ":gray-badge[一般舆情]" in text and "规则版本" not in text
    merge = [b for b in at.button if b.label == f"并入 #{logged.out.strip()}"]
    merge[0].click().run()
    assert at.success[0].value.startswith("已将 1 条信息并入舆情")
    assert yq(app_env, "triage", "list", "--state", "decided", "--json").json()[0]["state"] == "merged"


def test_changing_the_own_password_in_the_sidebar_ends_the_other_sessions(app_env: str, monkeypatch):
    from yuqing.db.logins import resolve
    from yuqing.db.session import Database

    assert yq(app_env, "init").code == 0
    assert yq(app_env, "users", "add", "zhang", "--role", "viewer", "--password-stdin", stdin="zhang-pass-1\n",
              monkeypatch=monkeypatch).code == 0
    zhang = Actor("zhang", "viewer")
    elsewhere = session_for(app_env, zhang)
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    mine = session_for(app_env, zhang)
    at.session_state["yq_session"] = mine
    at.run()

    def change(current: str, new: str, again: str) -> None:
        at.sidebar.text_input(key="pw_current").input(current)
        at.sidebar.text_input(key="pw_new").input(new)
        at.sidebar.text_input(key="pw_new2").input(again)
        at.sidebar.button(key="pw_submit").click().run()

    change("wrong-pass", "zhang-pass-2", "zhang-pass-2")
    assert at.sidebar.error[0].value == "当前密码不正确"
    change("zhang-pass-1", "zhang-pass-2", "zhang-pass-3")
    assert at.sidebar.error[0].value == "两次输入的密码不一致"
    change("zhang-pass-1", "zhang-pass-2", "zhang-pass-2")
    assert at.sidebar.success[0].value == "密码已修改；本账号在其他地方的 1 个登录已退出"
    database = Database(app_env)
    try:
        limits = {"now": datetime.now(UTC), "idle": timedelta(hours=1), "lifetime": timedelta(hours=12), "touch": False}
        assert database.run(resolve, elsewhere, **limits).reason == "E_SESSION_ENDED"
        kept = database.run(resolve, mine, **limits).actor
        assert kept is not None
        # The session resolves to the same account, now carrying its office (the root office here).
        assert (kept.name, kept.role, kept.unit_code) == (zhang.name, zhang.role, zhang.unit_code)
        assert kept.office_id is not None
    finally:
        database.dispose()
    at.run()
    assert "zhang" in at.sidebar.markdown[0].value  # still logged in here


def test_merge_target_search_counts_every_open_incident_and_narrows_the_list(app_env: str):
    """The pick list of merge targets lists the newest 50 open incidents and says how many match; a
    search by number or title words finds one beyond the first 50."""
    from tests.test_triage_states import poll_items
    from yuqing.db.session import Database

    assert yq(app_env, "init").code == 0
    database = Database(app_env)
    try:
        with database.session() as session:
            w = writer(session, now=datetime.now(UTC), actor="admin")
            for i in range(60):
                w.add_incident(NewIncident(title=f"渑池县供暖投诉{i}", unit="渑池县", first_post_at=datetime.now(UTC) - timedelta(hours=1),
                                           classify=False))
        poll_items(database, [("g", "渑池县某小区发生燃气爆炸，已致2人死亡", "https://n.example.cn/g", "渑池县城区一小区发生燃气爆炸。")])
    finally:
        database.dispose()
    at = run_app(page="triage")
    assert "共 60 起舆情符合，列出最新的 50 起" in page_text(at)
    [b for b in at.button if b.key.startswith("tr_open_")][0].click().run()  # the card's decision panel
    card = [s for s in at.selectbox if s.key.startswith("tr_into_") and s.key != "tr_into_search"][0]
    assert len(card.options) == 50 and "#1 渑池县供暖投诉0（渑池县人民政府）" not in card.options
    at.text_input(key="tr_into_search").input("供暖投诉0").run()
    card = [s for s in at.selectbox if s.key.startswith("tr_into_")][0]
    assert card.options == ["#1 渑池县供暖投诉0（渑池县人民政府）"] and "起舆情符合" not in page_text(at)
    at.text_input(key="tr_into_search").input("#2").run()
    assert [s for s in at.selectbox if s.key.startswith("tr_into_")][0].options == ["#2 渑池县供暖投诉1（渑池县人民政府）"]
    # Past the counted bound (1 000; 55 here) the page says "more than", counting no further.
    from yuqing.db import incidents
    from yuqing.db.offices import root_office_id

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(incidents, "COUNTED_CHOICES", 55)
        from yuqing.pages import common

        common.reset()
        at.text_input(key="tr_into_search").input("").run()
        assert "超过 55 起舆情符合，列出最新的 50 起" in page_text(at) and "共 60 起" not in page_text(at)
        with database.session() as session:
            session.info["office_id"] = root_office_id(session)
            found = incidents.incident_choices(session, "供暖", open_only=True)
        assert (found.total, found.more_than, len(found.choices)) == (55, True, 50)
        patch.setattr(incidents, "COUNTED_CHOICES", 60)
        with database.session() as session:
            session.info["office_id"] = root_office_id(session)
            found = incidents.incident_choices(session, "供暖", open_only=True)
        assert (found.total, found.more_than) == (60, False)
    database.dispose()
