"""Delivery against a real local HTTP server: payload per channel, signatures, retries, sent-once runs.

The server on 127.0.0.1 records every request and answers from a script (fail N times, 429, a vendor
error code); `sleep` is a recorder, so retry tests never wait.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from timeline.engine import Case, Grading, evaluate
from timeline.presets import load_preset
from yuqing.alerts.channels import ChannelConfig, build_request, token_url
from yuqing.alerts.routes import parse_routes
from yuqing.alerts.rules import Alert, FeedHealth, IncidentClock, due_alerts
from yuqing.alerts.send import Delivery, deliver, urllib_post
from yuqing.vocabulary import render

START = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)  # 14:00 Beijing
H = timedelta(hours=1)
NOW = START + 26 * H  # 2026-06-11 16:00 Beijing
SMX = load_preset("sanmenxia-2017")
OK = {
    "wecom": b'{"errcode":0,"errmsg":"ok"}',
    "dingtalk": b'{"errcode":0,"errmsg":"ok"}',
    "feishu": b'{"code":0,"msg":"success","data":{}}',
    "webhook": b"",
}


@dataclass(frozen=True)
class Recorded:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8"))


class RobotServer(ThreadingHTTPServer):
    """Answers POSTs from `script` (first in, first out), then with `default`."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[Recorded] = []
        self.script: list[tuple[int, bytes]] = []
        self.default: tuple[int, bytes] = (200, OK["wecom"])
        self.lock = threading.Lock()

    def url(self, path: str = "/hook") -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{path}"

    def answer(self, *responses: tuple[int, bytes | dict]) -> None:
        with self.lock:
            self.script.extend((status, body if isinstance(body, bytes) else json.dumps(body).encode()) for status, body in responses)

    def next_response(self) -> tuple[int, bytes]:
        with self.lock:
            return self.script.pop(0) if self.script else self.default


class _Handler(BaseHTTPRequestHandler):
    server: RobotServer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = urllib.parse.urlsplit(self.path)
        with self.server.lock:
            self.server.requests.append(
                Recorded(parts.path, urllib.parse.parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body)
            )
        status, answer = self.server.next_response()
        self.send_response(status)
        if status in (301, 302, 307, 308):
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RobotServer]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    robot = RobotServer()
    thread = threading.Thread(target=robot.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield robot
    finally:
        robot.shutdown()
        robot.server_close()
        thread.join()


class Sleeps(list):
    """A `sleep` that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def overdue_alert() -> Alert:
    [alert] = due_alerts([incident(1, "yjglj", "三门峡市应急管理局", Grading("一般", False, None))], [],
                         already_sent=set(), now=NOW, quiet=None)
    return alert


def incident(incident_id: int, unit: str, unit_name: str, grading: Grading, title: str = "某路段塌陷引发关注") -> IncidentClock:
    verdict = evaluate(Case(START, grading), SMX, now=NOW)
    return IncidentClock(incident_id, title, unit, unit_name, verdict.flagged, verdict)


def send(server: RobotServer, channel: ChannelConfig, what: Alert | str, **kw: object) -> tuple[Delivery, Recorded]:
    server.default = (200, OK[channel.kind])
    delivery = deliver(build_request(channel, what, now=NOW), sleep=Sleeps(), **kw)  # type: ignore[arg-type]  # tests pass options by keyword
    return delivery, server.requests[-1]


# --- payload per channel ---------------------------------------------------------------------------


def test_wecom_gets_markdown_at_the_configured_base_url(server):
    channel = ChannelConfig("office", "wecom", token_url("wecom", "key-1", server.url("/private")))
    alert = overdue_alert()
    delivery, request = send(server, channel, alert)
    assert delivery == Delivery(True, 200, 1, None, None, '{"errcode":0,"errmsg":"ok"}')
    assert request.path == "/private/cgi-bin/webhook/send" and request.query == {"key": ["key-1"]}
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json() == {"msgtype": "markdown", "markdown": {"content": alert.text}}


def test_dingtalk_gets_markdown_signed_with_timestamp_and_sign(server):
    secret = "SECd2f1c0ffee"
    channel = ChannelConfig("ding", "dingtalk", token_url("dingtalk", "tok", server.url("")), secret=secret)
    alert = overdue_alert()
    delivery, request = send(server, channel, alert)
    assert delivery.ok
    timestamp = request.query["timestamp"][0]
    assert timestamp == str(int(NOW.timestamp()) * 1000)
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.query["sign"] == [expected]
    assert request.query["access_token"] == ["tok"]
    body = request.json()
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == alert.title
    # Markdown hard line breaks: DingTalk joins single newlines into one paragraph otherwise.
    assert body["markdown"]["text"] == alert.text.replace("\n", "  \n")


def test_dingtalk_signature_survives_url_encoding_of_plus_and_slash(server):
    # A timestamp whose base64 signature contains "+" or "/" must still decode to the same bytes.
    secret = "SEC+/=secret"
    channel = ChannelConfig("ding", "dingtalk", server.url("/robot/send?access_token=t&sign=old&timestamp=1"), secret=secret)
    signs = []
    for minute in range(12):
        now = NOW + timedelta(minutes=minute)
        deliver(build_request(channel, "x", now=now), sleep=Sleeps())
        request = server.requests[-1]
        timestamp = request.query["timestamp"]
        assert len(timestamp) == 1 and len(request.query["sign"]) == 1  # the stale pair was replaced
        mac = hmac.new(secret.encode(), f"{timestamp[0]}\n{secret}".encode(), hashlib.sha256).digest()
        assert base64.b64decode(request.query["sign"][0]) == mac
        signs.append(request.query["sign"][0])
    assert any("+" in sign or "/" in sign for sign in signs)  # the case this test is about did occur


def test_unsigned_dingtalk_url_is_sent_as_configured(server):
    channel = ChannelConfig("ding", "dingtalk", server.url("/robot/send?access_token=t"))
    _, request = send(server, channel, "x")
    assert request.query == {"access_token": ["t"]}


@pytest.mark.parametrize("template_kind, template", [("overdue", "red"), ("at_risk", "orange")])
def test_feishu_card_has_title_colour_and_signature_in_the_body(server, template_kind, template):
    secret = "feishu-secret"
    channel = ChannelConfig("fs", "feishu", token_url("feishu", "hook-9", server.url("")), secret=secret)
    alert = overdue_alert()
    if template_kind == "at_risk":
        alert = Alert(alert.key, "at_risk", alert.unit_code, False, alert.title, alert.text)
    delivery, request = send(server, channel, alert)
    assert delivery.ok and request.path == "/open-apis/bot/v2/hook/hook-9"
    body = request.json()
    assert body["timestamp"] == str(int(NOW.timestamp()))
    key = f"{body['timestamp']}\n{secret}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"] == {"title": {"tag": "plain_text", "content": alert.title}, "template": template}
    assert body["card"]["elements"] == [{"tag": "div", "text": {"tag": "lark_md", "content": alert.text}}]


def test_feishu_text_is_plain_and_unsigned_without_secret(server):
    channel = ChannelConfig("fs", "feishu", server.url(), format="text")
    alert = overdue_alert()
    _, request = send(server, channel, alert)
    body = request.json()
    assert set(body) == {"msg_type", "content"}
    assert body["msg_type"] == "text"
    assert body["content"]["text"] == alert.title + "\n" + alert.text.replace("**", "")


def test_generic_webhook_gets_every_field_and_a_verifiable_signature(server):
    secret = "hook-secret"
    channel = ChannelConfig("ops", "webhook", server.url(), secret=secret, headers=(("Authorization", "Bearer abc"),))
    alert = overdue_alert()
    delivery, request = send(server, channel, alert)
    assert delivery.ok
    assert request.json() == {
        "source": "yuqing",
        "key": "incident:1:response:overdue",
        "kind": "overdue",
        "title": alert.title,
        "text": alert.text,
        "unit_code": "yjglj",
        "unit_name": "三门峡市应急管理局",
        "flagged": False,
        "incident_id": 1,
        "window": "response",
        "due_at": "2026-06-11T14:00:00+08:00",
        "feed_id": None,
        "sent_at": "2026-06-11T16:00:00+08:00",
    }
    assert request.headers["authorization"] == "Bearer abc"
    timestamp = request.headers["x-yuqing-timestamp"]
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-yuqing-signature"] == f"sha256={mac}"


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu", "webhook"])
def test_test_message_reaches_every_kind_of_channel(server, kind):
    channel = ChannelConfig("c", kind, server.url(), secret=None if kind == "wecom" else "s")
    text = render("AL_TEST", channel="c")
    delivery, request = send(server, channel, text)
    assert delivery.ok
    assert text in request.body.decode("utf-8")
    assert render("AL_TITLE_PLAIN") in request.body.decode("utf-8") or kind == "wecom"


def test_robot_keyword_is_added_when_the_message_lacks_it(server):
    channel = ChannelConfig("c", "wecom", server.url(), keyword="舆情告警")
    _, request = send(server, channel, "测试")
    assert request.json()["markdown"]["content"] == "【舆情告警】测试"
    _, request = send(server, channel, "舆情告警：测试")
    assert request.json()["markdown"]["content"] == "舆情告警：测试"


def test_overlong_wecom_message_is_cut_within_the_byte_limit(server):
    channel = ChannelConfig("c", "wecom", server.url())
    _, request = send(server, channel, "舆" * 5000)
    content = request.json()["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("…")


# --- retries and vendor answers --------------------------------------------------------------------


def wecom(server: RobotServer) -> ChannelConfig:
    return ChannelConfig("office", "wecom", server.url())


@pytest.mark.parametrize(
    "kind, answers, ok, attempts, sleeps, code",
    [
        pytest.param("wecom", [(500, b"")] * 2, True, 3, [1.0, 2.0], None, id="500-twice-then-ok"),
        pytest.param("wecom", [(503, b"")] * 4, False, 4, [1.0, 2.0, 4.0], "E_ALERT_HTTP_STATUS", id="500-until-attempts-run-out"),
        pytest.param("wecom", [(400, b"bad")], False, 1, [], "E_ALERT_HTTP_STATUS", id="400-not-retried"),
        pytest.param("wecom", [(404, b"")], False, 1, [], "E_ALERT_HTTP_STATUS", id="404-not-retried"),
        pytest.param("wecom", [(429, b"")], True, 2, [1.0], None, id="429-retried"),
        pytest.param("wecom", [(302, b"")], False, 1, [], "E_ALERT_HTTP_STATUS", id="redirect-not-followed"),
        pytest.param("wecom", [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})], False, 1, [],
                     "E_ALERT_REJECTED", id="wecom-errcode-not-retried"),
        pytest.param("wecom", [(200, {"errcode": 45009, "errmsg": "api freq out of limit"})], True, 2, [1.0], None,
                     id="wecom-rate-limit-errcode-retried"),
        pytest.param("wecom", [(200, b"<html>gateway</html>")], False, 1, [], "E_ALERT_BAD_RESPONSE", id="wecom-not-json"),
        pytest.param("dingtalk", [(200, {"errcode": 310000, "errmsg": "sign not match"})], False, 1, [],
                     "E_ALERT_REJECTED", id="dingtalk-bad-signature-not-retried"),
        pytest.param("dingtalk", [(200, {"errcode": 130101, "errmsg": "send too fast"})], True, 2, [1.0], None,
                     id="dingtalk-too-fast-retried"),
        pytest.param("feishu", [(200, {"code": 19021, "msg": "sign match fail"})], False, 1, [], "E_ALERT_REJECTED",
                     id="feishu-code-not-retried"),
        pytest.param("feishu", [(400, {"code": 11232, "msg": "frequency limited"})], True, 2, [1.0], None,
                     id="feishu-rate-limit-on-400-retried"),
        pytest.param("feishu", [(400, {"code": 9499, "msg": "Bad Request"})], False, 1, [], "E_ALERT_HTTP_STATUS",
                     id="feishu-bad-request-not-retried"),
        pytest.param("feishu", [(200, {"StatusCode": 0, "StatusMessage": "success"})], True, 1, [], None,
                     id="feishu-old-style-answer-accepted"),
        pytest.param("webhook", [(204, b"")], True, 1, [], None, id="webhook-any-2xx"),
        pytest.param("webhook", [(502, b"")], True, 2, [1.0], None, id="webhook-502-retried"),
    ],
)
def test_retry_policy(server, kind, answers, ok, attempts, sleeps, code):
    server.answer(*answers)
    server.default = (200, OK[kind])
    slept = Sleeps()
    channel = ChannelConfig("c", kind, server.url())
    delivery = deliver(build_request(channel, "x", now=NOW), sleep=slept)
    assert (delivery.ok, delivery.attempts, list(slept), delivery.error_code) == (ok, attempts, sleeps, code)
    assert len(server.requests) == attempts
    if code is not None:
        assert delivery.error is not None and delivery.error.endswith(f"[{code}]") and "“c”" in delivery.error


def test_rejected_message_records_the_vendor_code_and_message(server):
    server.answer((200, {"errcode": 310000, "errmsg": "keywords not in content"}))
    delivery = deliver(build_request(wecom(server), "x", now=NOW), sleep=Sleeps())
    assert delivery.status == 200 and delivery.response == '{"errcode": 310000, "errmsg": "keywords not in content"}'
    assert "310000" in (delivery.error or "") and "keywords not in content" in (delivery.error or "")


def test_backoff_doubles_up_to_the_cap():
    slept = Sleeps()
    delivery = deliver(build_request(ChannelConfig("c", "webhook", "http://127.0.0.1:9/"), "x", now=NOW),
                       post=lambda *a: (500, b""), attempts=6, base_delay=1.0, max_delay=5.0, sleep=slept)
    assert (delivery.ok, delivery.attempts, list(slept)) == (False, 6, [1.0, 2.0, 4.0, 5.0, 5.0])


def test_network_error_is_retried_and_reported(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    slept = Sleeps()
    channel = ChannelConfig("office", "wecom", f"http://127.0.0.1:{port}/cgi-bin/webhook/send?key=secret-key")
    delivery = deliver(build_request(channel, "x", now=NOW), attempts=3, sleep=slept)
    assert (delivery.ok, delivery.status, delivery.attempts, delivery.error_code) == (False, None, 3, "E_ALERT_NETWORK")
    assert list(slept) == [1.0, 2.0]
    assert "secret-key" not in (delivery.error or "")  # errors name the channel, never the tokened URL


def test_timeout_is_retried_then_reported_with_the_channel_timeout():
    calls: list[float] = []

    def slow(url: str, headers: object, body: bytes, timeout: float) -> tuple[int, bytes]:
        calls.append(timeout)
        raise TimeoutError("timed out")

    channel = ChannelConfig("office", "wecom", "http://127.0.0.1:9/", timeout=7.0)
    delivery = deliver(build_request(channel, "x", now=NOW), post=slow, attempts=2, sleep=Sleeps())
    assert (delivery.error_code, delivery.attempts, calls) == ("E_ALERT_TIMEOUT", 2, [7.0, 7.0])


def test_post_receives_url_headers_body_and_timeout():
    seen: dict = {}

    def post(url: str, headers: dict, body: bytes, timeout: float) -> tuple[int, bytes]:
        seen.update(url=url, headers=headers, body=body, timeout=timeout)
        return 200, OK["wecom"]

    request = build_request(ChannelConfig("c", "wecom", "https://qyapi.weixin.qq.com/x?key=k"), "hi", now=NOW)
    assert deliver(request, post=post).ok
    assert seen["url"] == "https://qyapi.weixin.qq.com/x?key=k" and seen["body"] == request.body
    assert seen["headers"]["Content-Type"] == "application/json; charset=utf-8" and seen["timeout"] == 10.0


def test_attempts_must_be_positive():
    with pytest.raises(ValueError):
        deliver(build_request(ChannelConfig("c", "webhook", "http://127.0.0.1:9/"), "x", now=NOW), attempts=0)


def test_urllib_post_returns_error_statuses_instead_of_raising(server):
    server.answer((500, b'{"err":1}'))
    assert urllib_post(server.url(), {"Content-Type": "application/json"}, b"{}", 5.0) == (500, b'{"err":1}')


# --- the whole run, twice --------------------------------------------------------------------------


def test_repeated_runs_deliver_each_alert_once_to_each_routed_channel(server):
    routes = parse_routes(f"""
[channels.office]
kind = "wecom"
token = "office-key"
base_url = "{server.url('/wecom')}"

[channels.yjglj]
kind = "dingtalk"
token = "ding-token"
base_url = "{server.url('/ding')}"
secret = "SECx"

[[route]]
units = ["yjglj"]
channels = ["yjglj"]

[[route]]
units = ["*"]
channels = ["office"]
kinds = ["overdue"]

[office]
channels = ["office"]
""")
    clocks = [
        incident(1, "yjglj", "三门峡市应急管理局", Grading("一般", False, None)),
        incident(2, "lingbao", "灵宝市", Grading("重大", True, "事故灾难")),
    ]
    feeds = [FeedHealth(7, "灵宝发布", "https://lb.example.cn/rss", 5, "HTTP 502", False)]
    server.default = (200, OK["wecom"])
    sent: set[str] = set()
    outcomes: list[tuple[str, str, bool]] = []
    for _ in range(3):
        for alert in due_alerts(clocks, feeds, already_sent=sent, now=NOW, quiet=routes.quiet):
            deliveries = [
                (channel.name, deliver(build_request(channel, alert, now=NOW), sleep=Sleeps()))
                for channel in routes.channels_for(alert)
            ]
            outcomes += [(alert.key, name, d.ok) for name, d in deliveries]
            if all(d.ok for _, d in deliveries):
                sent.add(alert.key)
    assert outcomes == [
        ("incident:2:release:overdue", "office", True),
        ("incident:2:response:overdue", "office", True),
        ("incident:2:press_conference:overdue", "office", True),
        ("incident:1:response:overdue", "yjglj", True),
        ("incident:1:response:overdue", "office", True),
        ("feed:7:failing", "office", True),
    ]
    assert len(server.requests) == 6
    assert [r.path for r in server.requests].count("/ding/robot/send") == 1


def test_request_repr_does_not_show_the_tokened_url():
    request = build_request(ChannelConfig("c", "wecom", "https://qyapi.weixin.qq.com/x?key=very-secret"), "x", now=NOW)
    assert "very-secret" not in repr(request)
