"""The HTTP API (/api/v1), tokens and screens: shapes as the CLI's --json, roles as the write service,
errors as {"error": {code, message}} with a 4xx — on both databases."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.cliutil import error_code, yq
from tests.conftest import T0
from timeline.clock import iso_beijing
from yuqing.api import MAX_BODY, Api
from yuqing.db.session import Database

NOW = T0.replace(microsecond=0)
NOW_TEXT = iso_beijing(NOW)


@pytest.fixture
def url(database: Database) -> str:
    return database.url


def token(url: str, name: str, role: str, *extra: str) -> str:
    result = yq(url, "tokens", "add", name, "--role", role, *extra)
    assert result.code == 0, result.err
    return result.out.strip()


@pytest.fixture
def client(database: Database, tmp_path) -> Iterator[TestClient]:
    api = Api(lambda: database, preset="sanmenxia-2017", evidence_dir=tmp_path / "evidence", clock=lambda: NOW)
    with TestClient(Starlette(routes=api.routes())) as test_client:
        yield test_client


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def add_incident(url: str, title: str = "渑池县小区燃气爆燃", unit: str = "渑池县") -> int:
    result = yq(url, "incident", "add", "--title", title, "--unit", unit, "--detected-at", NOW_TEXT, "--no-classify")
    assert result.code == 0, result.err
    return int(result.out)


def test_incident_list_and_show_are_the_cli_json(url: str, client: TestClient):
    admin = token(url, "oa", "viewer")
    incident = add_incident(url)
    listed = client.get("/api/v1/incidents", params={"open": "true", "now": NOW_TEXT}, headers=auth(admin))
    assert listed.status_code == 200
    assert listed.json() == yq(url, "incident", "list", "--open", "--json", "--now", NOW_TEXT).json()
    shown = client.get(f"/api/v1/incidents/{incident}", params={"now": NOW_TEXT}, headers=auth(admin))
    assert shown.json() == yq(url, "incident", "show", str(incident), "--json", "--now", NOW_TEXT).json()
    by_unit = client.get("/api/v1/incidents", params={"unit": "灵宝市"}, headers=auth(admin))
    assert by_unit.json() == []


def test_scores_and_triage_are_the_cli_json(url: str, client: TestClient):
    secret = token(url, "oa", "viewer")
    add_incident(url)
    year = str(NOW.year)
    scores = client.get("/api/v1/scores", params={"year": year, "now": NOW_TEXT}, headers=auth(secret))
    assert scores.status_code == 200
    assert scores.json() == yq(url, "score", "--year", year, "--format", "json", "--now", NOW_TEXT).json()
    triage = client.get("/api/v1/triage", headers=auth(secret))
    assert triage.json() == yq(url, "triage", "list", "--json").json()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}])
def test_missing_or_unknown_token_is_401(url: str, client: TestClient, headers: dict[str, str]):
    response = client.get("/api/v1/incidents", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "E_API_UNAUTHORIZED"


def test_revoked_token_is_refused(url: str, client: TestClient):
    secret = token(url, "oa", "admin")
    assert client.get("/api/v1/triage", headers=auth(secret)).status_code == 200
    assert yq(url, "tokens", "revoke", "oa").code == 0
    assert client.get("/api/v1/triage", headers=auth(secret)).status_code == 401
    listed = yq(url, "tokens", "list", "--json").json()
    assert [(t["name"], t["role"], t["revoked"]) for t in listed] == [("oa", "admin", True)]


def test_token_secret_is_stored_hashed_only(database: Database, url: str):
    from sqlalchemy import text

    secret = token(url, "oa", "viewer")
    with database.engine.connect() as connection:
        stored = [tuple(r) for r in connection.execute(text("SELECT * FROM api_tokens"))]
    assert secret not in json.dumps(stored, default=str)


def test_post_incident_and_action_through_the_write_service(url: str, client: TestClient):
    secret = token(url, "desk", "admin")
    created = client.post("/api/v1/incidents", headers=auth(secret),
                          json={"title": "卢氏县农民工讨薪", "unit": "卢氏县", "detected_at": NOW_TEXT, "classify": False})
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["unit"]["code"] == "lushi" and incident["status"] == "open"
    acted = client.post(f"/api/v1/incidents/{incident['id']}/actions", headers=auth(secret),
                        json={"kind": "response", "at": NOW_TEXT, "channels": ["website"]})
    assert acted.status_code == 201, acted.text
    shown = yq(url, "incident", "show", str(incident["id"]), "--json", "--now", NOW_TEXT).json()
    assert [a["id"] for a in shown["actions"]] == [acted.json()["id"]]
    assert shown["actions"][0]["recorded_by"] == "token:desk"


def test_a_refusal_names_what_to_fill_not_a_command_line_option(url: str, client: TestClient):
    # Another system shows the sentence to its user: "补录必须填写原因", not "…用 --reason 说明原因".
    from datetime import timedelta

    secret = token(url, "desk", "admin")
    created = client.post("/api/v1/incidents", headers=auth(secret), json={
        "title": "卢氏县农民工讨薪", "unit": "卢氏县", "detected_at": iso_beijing(NOW - timedelta(days=5)), "classify": False})
    assert created.status_code == 201, created.text
    refused = client.post(f"/api/v1/incidents/{created.json()['id']}/actions", headers=auth(secret),
                          json={"kind": "response", "at": iso_beijing(NOW - timedelta(days=4))})
    error = refused.json()["error"]
    assert refused.status_code == 400 and error["code"] == "E_BACKDATE_REASON", refused.text
    assert error["message"] == "处置时间比登记时间早 48 小时以上，补录必须填写原因" and "--" not in error["message"]


def test_roles_are_those_of_the_write_service(url: str, client: TestClient):
    viewer = token(url, "screen-reader", "viewer")
    staff = token(url, "lingbao", "staff", "--unit", "灵宝市")
    incident = add_incident(url, unit="渑池县")
    body = {"kind": "response", "at": NOW_TEXT}
    refused = client.post(f"/api/v1/incidents/{incident}/actions", headers=auth(viewer), json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "E_FORBIDDEN"
    other_unit = client.post(f"/api/v1/incidents/{incident}/actions", headers=auth(staff), json=body)
    assert other_unit.status_code == 403 and other_unit.json()["error"]["code"].startswith("E_FORBIDDEN")
    assert yq(url, "incident", "show", str(incident), "--json").json()["actions"] == []


@pytest.mark.parametrize("path,body,code", [
    ("/api/v1/incidents", b"{not json", "E_API_BAD_JSON"),
    ("/api/v1/incidents", b"\xff\xfe", "E_API_BAD_JSON"),
    ("/api/v1/incidents", b"[1, 2]", "E_API_FIELD"),
    ("/api/v1/incidents", json.dumps({"title": "x"}).encode(), "E_API_FIELD"),
    ("/api/v1/incidents", json.dumps({"title": "x", "unit": "渑池县", "parent_id": True}).encode(), "E_API_FIELD"),
    ("/api/v1/incidents", json.dumps({"title": "x", "unit": "火星"}).encode(), "E_UNIT_UNKNOWN"),
    ("/api/v1/incidents", json.dumps({"title": "x", "unit": "渑池县", "extra": 1}).encode(), "E_API_FIELD"),
    ("/api/v1/incidents", json.dumps({"title": "x", "unit": "渑池县", "detected_at": "明天"}).encode(), "E_TIME_FORMAT"),
    ("/api/v1/incidents/99999/actions", json.dumps({"kind": "response", "at": NOW_TEXT}).encode(), "E_INCIDENT_MISSING"),
    ("/api/v1/incidents/abc/actions", json.dumps({"kind": "response", "at": NOW_TEXT}).encode(), "E_API_FIELD"),
    ("/api/v1/items", json.dumps({"title": "x"}).encode(), "E_API_FIELD"),
    ("/api/v1/items", json.dumps([{"title": "x", "published_at": "不是时间"}]).encode(), "E_API_FIELD"),
    ("/api/v1/items", json.dumps({"title": "x", "published_at": NOW_TEXT, "url": "ftp://a"}).encode(), "E_API_FIELD"),
])
def test_bad_input_is_a_4xx_with_a_code(url: str, client: TestClient, path: str, body: bytes, code: str):
    secret = token(url, "desk", "admin")
    response = client.post(path, headers={**auth(secret), "Content-Type": "application/json"}, content=body)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"] and "Traceback" not in error["message"]


def test_unknown_unit_code_exists(url: str, client: TestClient):
    # The table above names E_UNIT_UNKNOWN: make sure that is the write service's own code.
    result = yq(url, "incident", "add", "--title", "x", "--unit", "火星", "--no-classify")
    assert error_code(result) == "E_UNIT_UNKNOWN"


def test_oversize_body_is_413_and_writes_nothing(url: str, client: TestClient):
    secret = token(url, "desk", "admin")
    big = json.dumps({"title": "x" * (MAX_BODY + 10), "unit": "渑池县"}).encode()
    response = client.post("/api/v1/incidents", headers={**auth(secret), "Content-Type": "application/json"},
                           content=big)
    assert response.status_code == 413 and response.json()["error"]["code"] == "E_API_TOO_LARGE"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted while reading
        for _ in range(MAX_BODY // 10_000 + 2):
            yield b" " * 10_000

    streamed = client.post("/api/v1/items", headers=auth(secret), content=chunks())
    assert streamed.status_code == 413
    assert yq(url, "incident", "list", "--json").json() == []


def test_push_items_dedups_and_triages_like_a_feed(url: str, client: TestClient):
    secret = token(url, "qingbo", "admin")
    item = {"title": "渑池县某小区发生燃气爆燃致3人受伤", "text": "今日上午，渑池县某小区发生燃气爆燃事故，造成3人受伤。",
            "url": "https://vendor.example/a/1", "published_at": "2026-11-24 09:15", "source": "清博舆情"}
    first = client.post("/api/v1/items", headers=auth(secret), json=[item, {**item, "url": "https://vendor.example/a/2",
                                                                             "text": "卢氏县农民工聚集讨薪。",
                                                                             "title": "卢氏县农民工讨薪",
                                                                             "unit": "卢氏县"}])
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["stored"] == 2 and body["duplicates"] == 0
    assert [i["state"] for i in body["items"]] == ["pending", "pending"]
    again = client.post("/api/v1/items", headers=auth(secret), json=item).json()
    assert again["stored"] == 0 and again["duplicates"] == 1
    assert again["items"][0]["id"] == body["items"][0]["id"]
    queue = {i["id"]: i for i in yq(url, "triage", "list", "--json").json()}
    assert queue[body["items"][0]["id"]]["source"] == "清博舆情"
    assert queue[body["items"][1]["id"]]["unit"] == "lushi"


def test_push_refuses_the_whole_request_when_one_entry_is_bad(url: str, client: TestClient):
    secret = token(url, "qingbo", "admin")
    good = {"title": "渑池县燃气爆燃", "published_at": "2026-11-24 09:15"}
    response = client.post("/api/v1/items", headers=auth(secret), json=[good, {"title": 3}])
    assert response.status_code == 400 and "items[1]" in response.json()["error"]["message"]
    assert yq(url, "triage", "list", "--json").json() == []


def test_viewer_cannot_push(url: str, client: TestClient):
    secret = token(url, "reader", "viewer")
    response = client.post("/api/v1/items", headers=auth(secret), json={"title": "x", "published_at": NOW_TEXT})
    assert response.status_code == 403


def test_scores_year_is_checked(url: str, client: TestClient):
    secret = token(url, "oa", "viewer")
    for params in ({}, {"year": "x"}, {"year": "1999"}):
        response = client.get("/api/v1/scores", params=params, headers=auth(secret))
        assert response.status_code == 400 and response.json()["error"]["code"] == "E_API_FIELD"


@pytest.mark.parametrize("argv,code", [
    (["tokens", "add", "a b", "--role", "admin"], "E_TOKEN_NAME"),
    (["tokens", "add", "s", "--role", "staff"], "E_STAFF_NEEDS_UNIT"),
    (["tokens", "revoke", "nobody"], "E_TOKEN_UNKNOWN"),
    (["screens", "revoke", "nobody"], "E_SCREEN_UNKNOWN"),
    (["screens", "add", "hall", "--unit", "火星"], "E_UNIT_UNKNOWN"),
])
def test_token_and_screen_commands_refuse_bad_input(url: str, argv: list[str], code: str):
    result = yq(url, *argv)
    assert result.code == 1 and error_code(result) == code


def test_duplicate_names_are_refused(url: str):
    token(url, "oa", "viewer")
    assert error_code(yq(url, "tokens", "add", "oa", "--role", "viewer")) == "E_TOKEN_EXISTS"
    assert yq(url, "screens", "add", "hall").code == 0
    assert error_code(yq(url, "screens", "add", "hall")) == "E_SCREEN_EXISTS"


def test_only_admin_manages_tokens(url: str, monkeypatch: pytest.MonkeyPatch):
    assert yq(url, "users", "add", "li", "--role", "viewer", "--password-stdin", stdin="correct horse\n",
              monkeypatch=monkeypatch).code == 0
    assert error_code(yq(url, "tokens", "add", "oa", "--role", "admin", actor="li")) == "E_FORBIDDEN"


def test_screens_add_prints_a_url_with_a_long_token(url: str):
    result = yq(url, "screens", "add", "hall", "--unit", "渑池县")
    assert result.code == 0
    printed = result.out.strip()
    assert printed.startswith("http://127.0.0.1:8501/board?screen=1&display=scr_")
    assert len(printed.rsplit("=", 1)[1]) >= 40
    listed = yq(url, "screens", "list", "--json").json()
    assert [(s["name"], s["unit"], s["revoked"]) for s in listed] == [("hall", "mianchi", False)]


def test_openapi_document_is_served(client: TestClient):
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/api/v1/incidents", "/api/v1/incidents/{id}", "/api/v1/incidents/{id}/actions",
                                      "/api/v1/scores", "/api/v1/triage", "/api/v1/items"}


