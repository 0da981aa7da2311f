"""The command contract of the spine: init, units, incidents and their windows, refusals."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.cliutil import ago, error_code, yq
from yuqing.db.models import Action, AuditRecord, Incident
from yuqing.db.session import Database


def add(url: str, *extra: str, title: str = "网民反映某小区停水三天", unit: str = "灵宝市") -> int:
    result = yq(url, "incident", "add", "--title", title, "--unit", unit, "--no-classify", *extra)
    assert result.code == 0, result.err
    return int(result.out.strip())


def counts(url: str) -> tuple[int, int, int]:
    database = Database(url)
    try:
        with database.session() as s:
            return (
                s.scalar(select(func.count()).select_from(Incident)),
                s.scalar(select(func.count()).select_from(Action)),
                s.scalar(select(func.count()).select_from(AuditRecord)),
            )
    finally:
        database.dispose()


def test_init_twice_loads_units_once(url: str):
    second = yq(url, "init")
    assert second.code == 0 and "新增 0 个，更新 0 个" in second.out
    units = yq(url, "units", "list", "--json").json()
    assert sum(u["kind"] == "department" for u in units) == 39  # 45 of 附件1, 6 merged in the 2018 reform
    assert sum(u["kind"] == "county" for u in units) == 8
    assert set(units[0]) == {"code", "name", "kind", "aliases"}
    all_units = yq(url, "units", "list", "--all").out.splitlines()
    assert len(all_units) == 53


def test_add_prints_only_the_id_and_show_returns_the_contract(url: str):
    result = yq(url, "incident", "add", "--title", "灵宝市某矿发生透水事故", "--unit", "灵宝", "--co-unit", "市应急管理局",
                "--level", "II", "--sudden", "--category", "事故灾难", "--first-post-at", ago(2), "--detected-at", ago(1),
                "--no-classify")
    assert result.code == 0 and result.out.strip().isdigit()
    shown = yq(url, "incident", "show", result.out.strip(), "--json").json()
    for key in ("id", "title", "unit", "co_units", "parent_id", "level", "sudden", "category", "status",
                "first_post_at", "detected_at", "logged_at", "started_at", "actions", "flagged", "preset", "windows"):
        assert key in shown
    assert shown["unit"]["code"] == "lingbao" and shown["co_units"][0]["code"] == "yjglj"
    assert shown["level"] == "重大" and shown["flagged"] is True and shown["preset"] == "sanmenxia-2017"
    assert [w["key"] for w in shown["windows"]] == ["response", "release", "press_conference"]
    assert shown["started_at"] == shown["first_post_at"] and shown["started_at"].endswith("+08:00")
    assert [w["state"] for w in shown["windows"]] == ["open", "open", "open"]


def test_recording_a_release_turns_two_windows_met(url: str):
    incident = add(url, "--level", "重大", "--sudden", "--first-post-at", ago(3))
    assert yq(url, "incident", "act", str(incident), "--kind", "release", "--at", ago(1), "--channel", "weibo",
              "--channel", "website", "--by-principal").code == 0
    shown = yq(url, "incident", "show", str(incident), "--json").json()
    assert [w["state"] for w in shown["windows"]] == ["met", "met", "open"]
    assert shown["actions"][0]["channels"] == ["weibo", "website"] and shown["actions"][0]["by_principal"] is True


def test_show_with_now_judges_at_that_time(url: str):
    incident = add(url, "--first-post-at", "2026-06-10 14:00", "--not-sudden")
    at_due = yq(url, "incident", "show", str(incident), "--json", "--now", "2026-06-11T14:00:00+08:00").json()
    assert at_due["windows"][0]["state"] == "open" and at_due["windows"][0]["remaining_seconds"] == 0
    after = yq(url, "incident", "show", str(incident), "--json", "--now", "2026-06-11T06:00:01Z").json()
    assert after["windows"][0]["state"] == "overdue" and after["windows"][0]["overdue_seconds"] == 1


def test_list_filters_open_and_unit(url: str):
    a = add(url, unit="灵宝市")
    b = add(url, unit="市教育局")
    yq(url, "incident", "close", str(b))
    listed = yq(url, "incident", "list", "--json").json()
    assert {i["id"] for i in listed} == {a, b} and "actions" not in listed[0]
    assert [i["id"] for i in yq(url, "incident", "list", "--open", "--json").json()] == [a]
    assert [i["id"] for i in yq(url, "incident", "list", "--unit", "教育局", "--json").json()] == [b]
    text = yq(url, "incident", "list", "--open").out
    assert "回应" in text and "剩余" in text


def test_reclassify_transfer_void_close_are_audited(url: str):
    incident = add(url, "--level", "一般", "--first-post-at", ago(6))
    assert yq(url, "incident", "reclassify", str(incident), "--level", "重大", "--sudden", "--reason", "核实伤亡").code == 0
    shown = yq(url, "incident", "show", str(incident), "--json").json()
    assert shown["flagged"] and shown["windows"][1]["state"] == "overdue"
    assert shown["windows"][1]["past_due_at_reclassification"] is True
    assert shown["reclassifications"][0]["windows_before"][1]["state"] == "not_applicable"
    assert yq(url, "incident", "transfer", str(incident), "--unit", "市安监局", "--reason", "行业主管").code == 0
    assert yq(url, "incident", "show", str(incident), "--json").json()["unit"]["code"] == "yjglj"
    assert yq(url, "incident", "close", str(incident)).code == 0
    assert yq(url, "incident", "void", str(incident), "--reason", "误报").code == 0
    shown = yq(url, "incident", "show", str(incident), "--json").json()
    assert shown["status"] == "voided" and all(w["state"] == "not_applicable" for w in shown["windows"])
    log = yq(url, "audit", "log", "--entity", "incident", "--id", str(incident), "--json").json()
    assert [r["action"] for r in log] == ["create", "reclassify", "transfer", "close", "void"]
    assert log[1]["reason"] == "核实伤亡" and log[1]["before"]["level"] == "一般"


def test_transfer_keeps_the_clock_running(url: str):
    incident = add(url, "--first-post-at", ago(10))
    before = yq(url, "incident", "show", str(incident), "--json").json()["windows"][0]["due_at"]
    yq(url, "incident", "transfer", str(incident), "--unit", "市城管局", "--reason", "职责")
    assert yq(url, "incident", "show", str(incident), "--json").json()["windows"][0]["due_at"] == before


def test_backdating_needs_a_reason(url: str):
    incident = add(url, "--first-post-at", ago(72))
    refused = yq(url, "incident", "act", str(incident), "--kind", "response", "--at", ago(50))
    assert refused.code == 1 and error_code(refused) == "E_BACKDATE_REASON"
    assert yq(url, "incident", "act", str(incident), "--kind", "response", "--at", ago(50), "--reason", "纸质回复补录").code == 0


def test_evidence_file_is_copied_under_its_hash(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    incident = add(url, "--first-post-at", ago(2))
    evidence = tmp_path / "通报.pdf"
    evidence.write_bytes(b"%PDF-1.4 demo")
    assert yq(url, "incident", "act", str(incident), "--kind", "response", "--at", ago(1), "--evidence-file", str(evidence)).code == 0
    action = yq(url, "incident", "show", str(incident), "--json").json()["actions"][0]
    sha = action["evidence_sha256"]
    assert (tmp_path / "data" / "evidence" / sha[:2] / sha).read_bytes() == b"%PDF-1.4 demo"
    assert action["evidence_name"] == "通报.pdf"


@pytest.mark.parametrize(
    "args, code",
    [
        (["--title", "", "--unit", "灵宝市"], "E_TITLE_EMPTY"),
        (["--title", "   ", "--unit", "灵宝市"], "E_TITLE_EMPTY"),
        (["--title", "长" * 201, "--unit", "灵宝市"], "E_TITLE_TOO_LONG"),
        (["--title", "某事", "--unit", "火星市"], "E_UNIT_UNKNOWN"),
        (["--title", "某事", "--unit", "灵宝市", "--level", "超级"], "E_LEVEL"),
        (["--title", "某事", "--unit", "灵宝市", "--category", "天灾"], "E_CATEGORY"),
        (["--title", "某事", "--unit", "灵宝市", "--first-post-at", "昨天下午"], "E_TIME_FORMAT"),
        (["--title", "某事", "--unit", "灵宝市", "--first-post-at", "1999-12-31 23:59"], "E_TIME_TOO_EARLY"),
        (["--title", "某事", "--unit", "灵宝市", "--first-post-at", "2026-02-30 10:00"], "E_TIME_FORMAT"),
        (["--title", "某事", "--unit", "灵宝市", "--detected-at", "2099-01-01 10:00"], "E_TIME_IN_FUTURE"),
        (["--title", "某事", "--unit", "灵宝市", "--parent", "999"], "E_PARENT_MISSING"),
        (["--title", "某事", "--unit", "灵宝市", "--co-unit", "灵宝"], "E_CO_UNIT_IS_LEAD"),
    ],
)
def test_bad_incident_input_is_refused_and_nothing_is_written(url: str, args: list[str], code: str):
    before = counts(url)
    result = yq(url, "incident", "add", "--no-classify", *args)
    assert result.code == 1 and error_code(result) == code
    assert result.out == "" and "Traceback" not in result.err
    assert counts(url) == before


def test_unknown_unit_suggests_close_names(url: str):
    result = yq(url, "incident", "add", "--title", "某事", "--unit", "灵宝县")
    assert "灵宝市人民政府" in result.err


@pytest.mark.parametrize(
    "args, code",
    [
        (["--kind", "tweet", "--at", "NOW-1"], "E_ACTION_KIND"),
        (["--kind", "response", "--at", "NOW-1", "--channel", "fax"], "E_CHANNEL"),
        (["--kind", "response", "--at", "NOW-30"], "E_ACTION_BEFORE_START"),
        (["--kind", "response", "--at", "NOW+1"], "E_TIME_IN_FUTURE"),
        (["--kind", "response", "--at", "2026-13-01 10:00"], "E_TIME_FORMAT"),
        (["--kind", "response", "--at", "NOW-1", "--evidence-file", "/nonexistent/x.pdf"], "E_EVIDENCE_FILE"),
    ],
)
def test_bad_action_input_is_refused_and_nothing_is_written(url: str, args: list[str], code: str):
    incident = add(url, "--first-post-at", ago(20))
    args = [ago(-float(a[3:])) if a.startswith("NOW") else a for a in args]
    before = counts(url)
    result = yq(url, "incident", "act", str(incident), *args)
    assert result.code == 1 and error_code(result) == code, result.err
    assert counts(url) == before


@pytest.mark.parametrize(
    "command",
    [
        ["act", "{id}", "--kind", "response", "--at", "NOW"],
        ["transfer", "{id}", "--unit", "市教育局", "--reason", "x"],
        ["close", "{id}"],
        ["reclassify", "{id}", "--level", "重大", "--reason", "x"],
        ["void", "{id}", "--reason", "again"],
    ],
)
def test_voided_incident_refuses_every_change(url: str, command: list[str]):
    incident = add(url, "--first-post-at", ago(2))
    yq(url, "incident", "void", str(incident), "--reason", "重复登记")
    argv = [str(incident) if a == "{id}" else (ago(0, 1) if a == "NOW" else a) for a in command]
    result = yq(url, "incident", *argv)
    assert result.code == 1 and error_code(result) == "E_INCIDENT_VOIDED"


@pytest.mark.parametrize("command", [["act", "{id}", "--kind", "response", "--at", "NOW"], ["close", "{id}"],
                                     ["transfer", "{id}", "--unit", "市教育局", "--reason", "x"]])
def test_closed_incident_refuses_actions(url: str, command: list[str]):
    incident = add(url, "--first-post-at", ago(2))
    yq(url, "incident", "close", str(incident), "--at", ago(1))  # the action (1 minute ago) is after the close
    argv = [str(incident) if a == "{id}" else (ago(0, 1) if a == "NOW" else a) for a in command]
    result = yq(url, "incident", *argv)
    assert result.code == 1 and error_code(result) == "E_INCIDENT_CLOSED"


@pytest.mark.parametrize(
    "command, code",
    [
        (["incident", "act", "999", "--kind", "response", "--at", "2026-01-01 10:00"], "E_INCIDENT_MISSING"),
        (["incident", "show", "999", "--json"], "E_INCIDENT_MISSING"),
        (["incident", "reclassify", "{id}", "--level", "重大", "--reason", " "], "E_REASON_REQUIRED"),
        (["incident", "reclassify", "{id}", "--reason", "没改什么"], "E_RECLASSIFY_NOTHING"),
        (["incident", "transfer", "{id}", "--unit", "灵宝市", "--reason", "x"], "E_TRANSFER_SAME_UNIT"),
        (["incident", "void", "{id}", "--reason", ""], "E_REASON_REQUIRED"),
        (["incident", "list", "--unit", "不存在的局"], "E_UNIT_UNKNOWN"),
    ],
)
def test_refusals_name_their_code(url: str, command: list[str], code: str):
    incident = add(url)
    result = yq(url, *[str(incident) if a == "{id}" else a for a in command])
    assert result.code == 1 and error_code(result) == code


@pytest.mark.parametrize(
    "argv",
    [
        ["incident", "add", "--unit", "灵宝市"],
        ["incident", "act", "1", "--kind", "response"],
        ["incident", "reclassify", "1", "--level", "重大"],
        ["incident", "transfer", "1", "--unit", "灵宝市"],
        ["incident", "void", "1"],
        ["incident", "add", "--title", "x", "--unit", "y", "--sudden", "--not-sudden"],
        ["nonsense"],
    ],
)
def test_wrong_usage_exits_2(url: str, argv: list[str]):
    assert yq(url, *argv).code == 2


def test_secondary_incident_names_its_parent(url: str):
    parent = add(url)
    child = add(url, "--parent", str(parent), title="次生：网民质疑通报")
    assert yq(url, "incident", "show", str(child), "--json").json()["parent_id"] == parent


def test_predecessor_names_resolve_to_the_successor(url: str):
    for old, code in [("工商局", "scjgj"), ("三门峡市食品药品监督管理局", "scjgj"), ("市安全监管局", "yjglj"),
                      ("陕县", "shanzhou"), ("市城乡规划局", "zrzyj")]:
        incident = add(url, unit=old)
        assert yq(url, "incident", "show", str(incident), "--json").json()["unit"]["code"] == code


def test_timeline_check_reads_a_file_and_stdin(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    doc = {"started_at": "2026-06-10 14:00", "level": "重大", "sudden": True, "category": None,
           "actions": [{"kind": "response", "at": "2026-06-10T18:59:59+08:00"}]}
    path = tmp_path / "case.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = yq(url, "timeline", "check", str(path), "--now", "2026-06-10 19:00")
    data = result.json()
    assert data["flagged"] is True and data["windows"][1]["state"] == "open" and data["windows"][1]["remaining_seconds"] == 0
    national = yq(url, "timeline", "check", "-", "--preset", "national-2016", "--now", "2026-06-12 13:00",
                  stdin=json.dumps({**doc, "level": "较大"}), monkeypatch=monkeypatch).json()
    assert national["preset"] == "national-2016" and national["flagged"] is False
    assert national["windows"][0]["hours"] == 48 and national["windows"][0]["state"] == "met"


@pytest.mark.parametrize(
    "text, code",
    [
        ("{not json", "E_JSON"),
        ("[]", "E_TIMELINE_INPUT"),
        ('{"level": "重大"}', "E_TIMELINE_INPUT"),
        ('{"started_at": "2026-06-10 14:00", "actions": [{"kind": "x", "at": "2026-06-10 15:00"}]}', "E_ACTION_KIND"),
        ('{"started_at": "2026-06-10 14:00", "actions": [{"kind": "response", "at": "2026-06-10 13:00"}]}', "E_ACTION_BEFORE_START"),
        ('{"started_at": "2026-06-10 14:00", "level": "大"}', "E_LEVEL"),
    ],
)
def test_timeline_check_refuses_bad_documents(url: str, text: str, code: str, monkeypatch: pytest.MonkeyPatch):
    result = yq(url, "timeline", "check", "-", stdin=text, monkeypatch=monkeypatch)
    assert result.code == 1 and error_code(result) == code


# A preset is named, never reached by a path: "../presets/x" named a real file and was loaded.
@pytest.mark.parametrize("preset", ["beijing-2030", "../presets/sanmenxia-2017"])
def test_unknown_preset_is_refused(url: str, preset: str, monkeypatch: pytest.MonkeyPatch):
    result = yq(url, "timeline", "check", "-", "--preset", preset, stdin="{}", monkeypatch=monkeypatch)
    assert result.code == 1 and error_code(result) == "E_PRESET_UNKNOWN"
