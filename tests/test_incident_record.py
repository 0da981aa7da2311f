"""The 处置台账 of one incident (`yuqing incident report`, the detail page's download): every part a
unit needs to defend itself — timestamps, windows, actions, evidence SHA-256s, reclassifications,
transfers, audit records and the chain's head hash — in a docx, and through LibreOffice in a PDF."""
from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import func, select

from tests.cliutil import error_code, yq
from tests.test_dashboard import app_env  # noqa: F401 - the dashboard fixture (environment for AppTest)
from yuqing.db.models import AuditRecord
from yuqing.db.session import Database

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                                   reason="LibreOffice (soffice) or pdftotext is not installed")
TITLE = "灵宝市某矿发生透水事故"


def ok(result):  # noqa: ANN001, ANN201
    assert result.code == 0, result.err
    return result


@pytest.fixture
def case(db_url: str, tmp_path: Path) -> dict:
    """One incident as a unit lives it: logged as 一般, answered on time with evidence, regraded to 重大
    (so the release window turns up late), transferred, then the authoritative release comes late."""
    ok(yq(db_url, "init"))
    incident = ok(yq(db_url, "incident", "add", "--title", TITLE, "--unit", "灵宝", "--co-unit", "市应急管理局",
                     "--level", "一般", "--not-sudden", "--category", "事故灾难", "--first-post-at", "2026-06-10 14:00",
                     "--detected-at", "2026-06-10 14:30", "--source-url", "https://news.example/a", "--no-classify"))
    iid = incident.out.strip()
    evidence = tmp_path / "回应截图.png"
    evidence.write_bytes(b"\x89PNG screenshot of the weibo post")
    first = ok(yq(db_url, "incident", "act", iid, "--kind", "response", "--at", "2026-06-10 18:00", "--channel", "微博",
                  "--channel", "website", "--evidence", "https://weibo.example/lingbao/1", "--evidence-file",
                  str(evidence), "--note", "首次回应", "--reason", "补录纸质台账"))
    ok(yq(db_url, "incident", "reclassify", iid, "--level", "重大", "--sudden", "--reason", "核实伤亡人数"))
    ok(yq(db_url, "incident", "transfer", iid, "--unit", "市应急管理局", "--reason", "行业主管部门牵头",
          "--at", "2026-06-10 19:00"))
    second = ok(yq(db_url, "incident", "act", iid, "--kind", "release", "--at", "2026-06-10 20:00", "--channel", "微信",
                   "--reason", "补录纸质台账"))
    return {"url": db_url, "id": iid, "response": first.out.strip(), "release": second.out.strip(),
            "sha256": hashlib.sha256(evidence.read_bytes()).hexdigest()}


def table_with(doc, first_header: str) -> list[list[str]]:  # noqa: ANN001
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == first_header)
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # header repeated on every page
    return [[c.text for c in row.cells] for row in table.rows]


def chain(url: str) -> tuple[int, str, list]:
    database = Database(url)
    try:
        with database.session() as s:
            count = s.scalar(select(func.count()).select_from(AuditRecord))
            head = s.scalar(select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1))
            mine = s.execute(select(AuditRecord.id, AuditRecord.hash).order_by(AuditRecord.id)).all()
    finally:
        database.dispose()
    return count, head, list(mine)


def test_docx_record_holds_every_part_a_unit_defends_itself_with(case, tmp_path):
    out = tmp_path / "台账.docx"
    done = ok(yq(case["url"], "incident", "report", case["id"], "--format", "docx", "--out", str(out)))
    assert str(out) in done.out
    doc = Document(str(out))
    lines = [p for p in doc.paragraphs if p.text.strip()]
    assert lines[0].text == f"政务舆情处置台账（舆情 #{case['id']}）"
    assert lines[0].runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert lines[1].text == TITLE

    facts = dict(row for row in table_with(doc, "项目")[1:])  # type: ignore[misc]
    assert facts["牵头单位"] == "三门峡市应急管理局" and facts["标题"] == TITLE and facts["来源"] == "https://news.example/a"
    assert facts["事件级别"] == "重大" and facts["重点舆情"].startswith("是")

    times = {row[0]: row[1] for row in table_with(doc, "节点")[1:]}
    assert times["网上首发"] == "2026-06-10 14:00:00" and times["发现/接报"] == "2026-06-10 14:30:00"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", times["登记"])
    assert times["开始计时"] == "2026-06-10 14:00:00"  # the earliest of first post and detection

    windows = {row[0]: row for row in table_with(doc, "时限")[1:]}
    assert list(windows) == ["回应\n24小时", "发布权威信息\n5小时", "新闻发布会\n24小时"]
    response, release, press = windows.values()
    assert response[1:5] == ["2026-06-11 14:00:00", f"#{case['response']} 回应", "2026-06-10 18:00:00", "按时"]
    assert response[5] == "灵宝市人民政府"  # answered before the transfer: it counts for the unit that led then
    assert release[1:5] == ["2026-06-10 19:00:00", f"#{case['release']} 发布权威信息", "2026-06-10 20:00:00",
                            "逾期完成，超过时限 1 小时 00 分 00 秒"]
    assert press[1] == "2026-06-11 14:00:00" and press[2:4] == ["—", "—"] and press[4].startswith("已超时")
    assert press[5] == "三门峡市应急管理局"

    actions = table_with(doc, "编号")
    assert actions[0] == ["编号", "类型", "处置时间", "发布渠道", "主要负责人", "说明", "登记"]
    assert actions[1][:4] == [f"#{case['response']}", "回应", "2026-06-10 18:00:00", "微博、政府网站"]
    assert "首次回应" in actions[1][5] and "补录纸质台账" in actions[1][5]
    assert actions[2][:4] == [f"#{case['release']}", "发布权威信息", "2026-06-10 20:00:00", "微信"]
    evidence = table_with(doc, "处置")
    assert evidence[1] == [f"#{case['response']}", "https://weibo.example/lingbao/1", "回应截图.png", case["sha256"]]

    regrades = table_with(doc, "调整时间")
    assert regrades[1][2:5] == ["一般、非突发、事故灾难", "重大、突发、事故灾难", "核实伤亡人数"]
    assert regrades[1][5] == "回应：按时"  # the verdict that stood before the regrade stays visible
    transfers = table_with(doc, "转办时间")
    assert transfers[1][0] == "2026-06-10 19:00:00"
    assert transfers[1][2:] == ["灵宝市人民政府", "三门峡市应急管理局", "行业主管部门牵头"]

    count, head, records = chain(case["url"])
    audit = table_with(doc, "序号")[1:]
    # Five writes about this incident: created, the response, regraded, transferred, the release.
    assert [row[4] for row in audit] == ["登记", "登记", "调整分级", "转办", "登记"]
    assert "牵头单位：灵宝市人民政府 → 三门峡市应急管理局" in audit[3][5] and "原因：行业主管部门牵头" in audit[3][5]
    assert "类型：回应" in audit[1][5] and "渠道：微博、政府网站" in audit[1][5] and "时间：2026-06-10 18:00:00" in audit[1][5]
    hashes = dict(records)
    assert all(hashes[int(row[0])].startswith(row[6]) and len(row[6]) == 12 for row in audit)
    texts = [p.text for p in lines]
    at = next(i for i, t in enumerate(texts) if f"审计链共有{count}条记录" in t)
    assert texts[at + 1] == head and len(head) == 64


def test_a_viewer_may_take_the_record_of_an_incident_they_see(case, tmp_path, monkeypatch):
    yq(case["url"], "users", "add", "leader", "--role", "viewer", "--password-stdin", stdin="leader-pass-1\n",
       monkeypatch=monkeypatch)
    out = tmp_path / "viewer.docx"
    ok(yq(case["url"], "incident", "report", case["id"], "--out", str(out), actor="leader"))
    assert Document(str(out)).paragraphs


def test_default_file_name_is_the_incidents_record_in_the_current_folder(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ok(yq(case["url"], "incident", "report", case["id"]))
    assert (tmp_path / f"舆情{case['id']}处置台账.docx").is_file()


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_unknown_incident_is_refused_and_nothing_is_written(case, tmp_path, monkeypatch, fmt):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    if fmt == "pdf" and shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed (the refusal for that is tested below)")
    refused = yq(case["url"], "incident", "report", "999", "--format", fmt, "--out", str(tmp_path / f"x.{fmt}"))
    assert refused.code == 1 and error_code(refused) == "E_INCIDENT_MISSING" and "找不到编号为 999 的舆情" in refused.err
    refused = yq(case["url"], "incident", "report", "999", "--format", fmt)
    assert refused.code == 1 and error_code(refused) == "E_INCIDENT_MISSING"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_pdf_without_libreoffice_says_so_and_writes_nothing(case, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = yq(case["url"], "incident", "report", case["id"], "--format", "pdf", "--out", str(tmp_path / "r.pdf"))
    assert result.code == 1 and error_code(result) == "E_PDF_NO_LIBREOFFICE" and "LibreOffice" in result.err
    assert not (tmp_path / "r.pdf").exists()


@needs_soffice
def test_pdf_record_carries_the_title_and_every_window(case, tmp_path):
    out = tmp_path / "台账.pdf"
    ok(yq(case["url"], "incident", "report", case["id"], "--format", "pdf", "--out", str(out)))
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, timeout=60).stdout
    flat = re.sub(r"\s+", "", text)
    assert TITLE in flat and f"政务舆情处置台账（舆情#{case['id']}）" in flat
    for window, due in (("回应", "2026-06-1114:00:00"), ("发布权威信息", "2026-06-1019:00:00"), ("新闻发布会", "")):
        assert window in flat and due in flat
    assert case["sha256"][:16] in flat
    assert 1 <= text.count("\f") <= 6


def test_detail_page_offers_the_record_to_whoever_sees_the_incident(case, app_env, monkeypatch):
    from tests.test_dashboard import STAFF, VIEWER, run_app
    from yuqing.vocabulary import render

    def labels(at) -> list[str]:  # noqa: ANN001
        return [b.proto.label for b in at.get("download_button")]

    for who in (VIEWER, STAFF):  # a leader who only reads; staff of the unit the incident left
        at = run_app(who, "incident", id=case["id"])
        assert "下载处置台账（docx）" in labels(at)
        assert ("下载处置台账（PDF）" in labels(at)) == (shutil.which("soffice") is not None)
    monkeypatch.setenv("PATH", "/nonexistent")  # no LibreOffice: a plain sentence instead of the PDF button
    at = run_app(VIEWER, "incident", id=case["id"])
    assert "下载处置台账（docx）" in labels(at) and "下载处置台账（PDF）" not in labels(at)
    assert render("DASH_RECORD_NO_PDF") in [c.value for c in at.caption]


def test_a_record_cut_short_says_how_many_audit_records_there_are(case, tmp_path):
    """A 台账 lists at most a set number of audit records; when there are more it says so, with the total."""
    from yuqing.db.records import incident_record
    from yuqing.documents.incident_doc import incident_docx

    database = Database(case["url"])
    try:
        whole = database.read(incident_record, int(case["id"]))
        cut = database.read(incident_record, int(case["id"]), max_audit=3)
    finally:
        database.dispose()
    assert whole is not None and cut is not None
    assert len(whole.audit) == whole.audit_total == 5 and not whole.audit_cut
    assert [e.id for e in cut.audit] == [e.id for e in whole.audit[:3]] and cut.audit_total == 5 and cut.audit_cut
    texts = [p.text for p in Document(io.BytesIO(incident_docx(cut, now=whole.incident.logged_at))).paragraphs]
    assert any("审计记录共 5 条，本台账列出最早的 3 条" in t for t in texts)
    assert not any("本台账列出最早的" in p.text for p in Document(io.BytesIO(incident_docx(whole, now=whole.incident.logged_at))).paragraphs)
