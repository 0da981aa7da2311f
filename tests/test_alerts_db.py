"""Alert runs over stored incidents: delivered once per window and channel, failures retried later."""
from __future__ import annotations

import json
import threading
from datetime import UTC, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.cliutil import error_code, yq
from tests.conftest import T0, hours, writer
from yuqing.alerts import load_routes
from yuqing.db.alerting import run_alerts
from yuqing.db.models import AlertDelivery
from yuqing.db.service import NewAction, NewIncident
from yuqing.db.session import Database


class Robot:
    """A chat robot on 127.0.0.1 that records posts and can be told to fail."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.fail = 0
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server names its handlers so
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot.posts.append((self.path, body))
                status, reply = (500, b"{}") if robot.fail > 0 else (200, b'{"errcode": 0, "errmsg": "ok"}')
                robot.fail -= 1
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def robot():
    r = Robot()
    yield r
    r.close()


def routes_file(tmp_path: Path, robot: Robot) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(f"""
[channels.office]
kind = "wecom"
token = "office-key"
base_url = "{robot.base}"

[channels.lingbao]
kind = "dingtalk"
url = "{robot.base}/robot/send?access_token=lb"
secret = "SECtest"

[[route]]
units = ["lingbao"]
channels = ["lingbao"]

[office]
channels = ["office"]
""", encoding="utf-8")
    return path


def seed(database: Database) -> None:
    with database.session() as s:
        w = writer(s, now=T0)
        # Flagged, 4.5 h in: release at risk; ordinary at 30 h: response overdue.
        w.add_incident(NewIncident(title="灵宝市山洪致3人失联", unit="灵宝市", level="较大", sudden=True,
                                   first_post_at=T0 - hours(4.5)))
        late = w.add_incident(NewIncident(title="渑池网民投诉停水", unit="渑池县", sudden=False, first_post_at=T0 - hours(30)))
        w.add_incident(NewIncident(title="义马已回应的舆情", unit="义马市", sudden=False, first_post_at=T0 - hours(2)))
    with database.session() as s:
        writer(s, now=T0).record_action(3, NewAction(kind="response", at=T0 - hours(1)))
    assert late.id == 2


def test_each_alert_goes_once_to_its_routed_channel(database: Database, robot: Robot, tmp_path: Path):
    seed(database)
    routes = load_routes(routes_file(tmp_path, robot))
    first = run_alerts(database, routes, now=T0, sleep=lambda s: None)
    paths = sorted(p.split("?")[0] for p, _ in robot.posts)
    assert first.sent == 2 and not first.failed
    assert paths == ["/cgi-bin/webhook/send", "/robot/send"]
    lingbao = next(body for p, body in robot.posts if p.startswith("/robot/send"))
    assert lingbao["msgtype"] == "markdown" and "灵宝市山洪" in json.dumps(lingbao, ensure_ascii=False)
    again = run_alerts(database, routes, now=T0 + timedelta(minutes=5), sleep=lambda s: None)
    assert again.sent == 0 and len(robot.posts) == 2
    # Later the release window of the flagged incident is overdue: a new alert, once.
    later = run_alerts(database, routes, now=T0 + hours(1), sleep=lambda s: None)
    assert later.sent == 1 and len(robot.posts) == 3


def test_failed_delivery_is_logged_and_retried_by_the_next_run(database: Database, robot: Robot, tmp_path: Path):
    seed(database)
    routes = load_routes(routes_file(tmp_path, robot))
    robot.fail = 100
    waits: list[float] = []
    run = run_alerts(database, routes, now=T0, sleep=waits.append)
    assert run.sent == 0 and len(run.failed) == 2 and waits  # retried with backoff before giving up
    with database.session() as s:
        rows = s.scalars(select(AlertDelivery)).all()
        assert {r.status for r in rows} == {"failed"} and all(r.attempts > 1 for r in rows)
    robot.fail = 0
    retry = run_alerts(database, routes, now=T0 + timedelta(minutes=1), sleep=waits.append)
    assert retry.sent == 2
    with database.session() as s:
        assert {r.status for r in s.scalars(select(AlertDelivery))} == {"sent"}


def test_cli_alerts_run_test_and_log(database: Database, robot: Robot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("YUQING_ALERT_ROUTES", str(routes_file(tmp_path, robot)))
    url = database.url
    with database.session() as s:
        from datetime import datetime

        now = datetime.now(UTC)
        writer(s, now=now).add_incident(NewIncident(title="灵宝突发", unit="灵宝市", level="重大", sudden=True,
                                                     first_post_at=now - hours(4.5)))
    result = yq(url, "alerts", "run")
    assert result.code == 0 and "已发送 1 条" in result.out
    assert yq(url, "alerts", "run").out.startswith("待发送提醒 0 条")
    log = yq(url, "alerts", "log", "--json").json()
    assert log[0]["status"] == "sent" and log[0]["channel"] == "lingbao"
    assert yq(url, "alerts", "test", "office").code == 0
    unknown = yq(url, "alerts", "test", "nobody")
    assert unknown.code == 1 and error_code(unknown) == "E_ROUTES_CHANNEL"


def test_alerts_without_routes_are_refused(database: Database, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("YUQING_ALERT_ROUTES", raising=False)
    result = yq(database.url, "alerts", "run")
    assert result.code == 1 and error_code(result) == "E_ALERTS_NO_ROUTES"
