"""`yuqing serve`: st.App under uvicorn with /healthz, /metrics and the API beside Streamlit, the
workers as children that stop with it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.cliutil import yq
from tests.serving import free_port
from yuqing.db.session import Database
from yuqing.server import health


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_up(base: str, process: subprocess.Popen, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if get(f"{base}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("serve did not come up")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_serve(url: str, tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "YUQING_DATA_DIR": str(tmp_path / "data"), "YUQING_DATABASE_URL": url}
    process = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "serve", "--port", str(port), *extra], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    wait_up(base, process)
    return process, base


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=30)
    if process.stdout:
        process.stdout.close()


def test_serve_answers_health_metrics_api_and_dashboard_and_stops_its_worker(database: Database, tmp_path: Path):
    secret = yq(database.url, "tokens", "add", "monitor", "--role", "viewer").out.strip()
    assert yq(database.url, "incident", "add", "--title", "渑池县燃气爆燃", "--unit", "渑池县", "--no-classify").code == 0
    process, base = start_serve(database.url, tmp_path)
    try:
        assert json.loads(get(f"{base}/healthz")[1]) == {"status": "ok"}
        status, body = get(f"{base}/api/v1/incidents?open=true", {"Authorization": f"Bearer {secret}"})
        assert status == 200 and [i["title"] for i in json.loads(body)] == ["渑池县燃气爆燃"]
        assert get(f"{base}/api/v1/incidents")[0] == 401
        assert get(f"{base}/")[0] == 200  # Streamlit's page, served by the same app
        status, metrics = get(f"{base}/metrics")
        assert status == 200
        assert 'yuqing_http_requests_total{route="/api/v1/incidents",status="200"} 1.0' in metrics
        assert 'yuqing_http_requests_total{route="/api/v1/incidents",status="401"} 1.0' in metrics
        assert "yuqing_open_incidents 1.0" in metrics
        assert 'yuqing_open_incident_windows{state="open",window="response"} 1.0' in metrics
        workers = children_of(process.pid)
        assert workers, "the feed poller runs as a child of serve"
    finally:
        stop(process)
    deadline = time.monotonic() + 15
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(w) for w in workers)


def test_kill_9_of_serve_leaves_no_orphan_worker(database: Database, tmp_path: Path):
    process, _ = start_serve(database.url, tmp_path)
    workers = children_of(process.pid)
    assert workers
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    if process.stdout:
        process.stdout.close()
    deadline = time.monotonic() + 15
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(w) for w in workers)


def test_no_workers_starts_no_child(database: Database, tmp_path: Path):
    process, _ = start_serve(database.url, tmp_path, "--no-workers")
    try:
        assert children_of(process.pid) == []
    finally:
        stop(process)


def test_health_is_503_with_a_reason_when_not_migrated(bare_database: Database):
    status, body = health(bare_database)
    assert status == 503 and body["code"] == "E_DB_NOT_INITIALISED" and body["reason"]


def test_health_is_503_when_the_database_is_unreachable(tmp_path: Path):
    database = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        status, body = health(database)
    finally:
        database.dispose()
    assert status == 503 and body["code"] == "E_DB_UNREACHABLE"


@pytest.mark.parametrize("value", ["10.0.0.0/8,127.0.0.1", ""])
def test_trusted_proxies_setting_accepts_addresses_and_networks(value: str):
    from yuqing.settings import load_config

    config = load_config({"YUQING_TRUSTED_PROXIES": value})
    assert config.trusted_proxies == (("10.0.0.0/8", "127.0.0.1/32") if value else ())


def test_trusted_proxies_setting_refuses_garbage():
    from yuqing.errors import YuqingError
    from yuqing.settings import load_config

    with pytest.raises(YuqingError) as refused:
        load_config({"YUQING_TRUSTED_PROXIES": "proxy.local"})
    assert refused.value.code == "E_SETTING"


def test_proxy_header_from_an_untrusted_peer_is_refused(database: Database, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("YUQING_AUTH_HEADER", "X-Remote-User")
    monkeypatch.setenv("YUQING_TRUSTED_PROXIES", "10.9.9.9")
    process, base = start_serve(database.url, tmp_path, "--no-workers")
    try:
        status, body = get(f"{base}/", {"X-Remote-User": "admin"})
        assert status == 403
        from yuqing.vocabulary import MESSAGES

        assert body == MESSAGES["E_AUTH_HEADER_UNTRUSTED"].format(header="x-remote-user")
        assert get(f"{base}/api/v1/incidents", {"X-Remote-User": "admin"})[0] == 403
        assert get(f"{base}/")[0] == 200  # without the header: the page (which then asks for the header)
    finally:
        stop(process)


@pytest.mark.parametrize("peer,trusted,allowed", [
    ("10.9.9.9", ("10.9.9.9/32",), True),
    ("10.1.2.3", ("10.0.0.0/8",), True),
    ("192.168.1.5", ("10.0.0.0/8",), False),
    ("127.0.0.1", (), True),  # no setting: a proxy on the same machine
    ("192.168.1.5", (), False),
])
def test_trust_gate_honours_the_header_only_from_trusted_peers(peer: str, trusted: tuple[str, ...], allowed: bool):
    import asyncio

    from yuqing.server import TrustGate

    reached: list[bool] = []

    async def app(scope, receive, send):
        reached.append(True)

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    gate = TrustGate(app, header="X-Remote-User", trusted=trusted)
    scope = {"type": "http", "client": (peer, 5000), "headers": [(b"x-remote-user", b"admin")], "method": "GET",
             "path": "/", "query_string": b""}
    asyncio.run(gate(scope, receive, send))
    assert bool(reached) == allowed
    if not allowed:
        assert sent[0]["status"] == 403
    websocket = {**scope, "type": "websocket"}
    reached.clear()
    sent.clear()
    asyncio.run(gate(websocket, receive, send))
    assert bool(reached) == allowed
    if not allowed:
        assert sent == [{"type": "websocket.close", "code": 1008}]


def test_unknown_api_path_is_a_json_404(database: Database, tmp_path: Path):
    process, base = start_serve(database.url, tmp_path, "--no-workers")
    try:
        status, body = get(f"{base}/api/v1/nothing")
        assert status == 404 and json.loads(body)["error"]["code"] == "E_API_NOT_FOUND"
        request = urllib.request.Request(f"{base}/api/v1/incidents", method="DELETE")
        try:
            urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 405 and json.loads(exc.read())["error"]["code"] == "E_API_METHOD"
        else:
            raise AssertionError("DELETE was accepted")
    finally:
        stop(process)


def test_a_wrong_name_costs_the_same_argon2_work_as_a_wrong_password(database: Database, monkeypatch):
    # The login must not tell which names exist by answering an unknown one faster: both paths run
    # one argon2 verification (counted, not timed).
    from argon2 import PasswordHasher

    from yuqing.db import accounts
    from yuqing.db.service import Actor, Writer

    with database.session() as session:
        accounts.add_user(Writer(session, Actor("t"), now=accounts_now(), preset="sanmenxia-2017"), "alice",
                          role="viewer", unit=None, password="correct horse")
    calls: list[str] = []
    real = PasswordHasher.verify

    def counting(self, hash_, password):
        calls.append(hash_)
        return real(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    from yuqing.db.logins import login

    for name in ("alice", "nobody"):
        refused = database.run(login, name, "wrong password", client="10.0.0.1", now=accounts_now())
        assert getattr(refused, "code", None) == "E_LOGIN_FAILED"
    assert len(calls) == 2


def accounts_now():
    from tests.conftest import T0

    return T0
