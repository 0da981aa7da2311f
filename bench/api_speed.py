"""Requests per second of `GET /api/v1/incidents?open=true` (100 open incidents) against `yuqing serve`
on loopback, with `/healthz` on the same server as the baseline (ratio printed)."""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 5.0


def yuqing(env: dict[str, str], *argv: str) -> str:
    return subprocess.run([sys.executable, "-m", "yuqing.cli", *argv], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout


def rate(port: int, path: str, headers: dict[str, str]) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        count += 1
    connection.close()
    return count / (time.perf_counter() - start)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "YUQING_DATA_DIR": tmp, "YUQING_DATABASE_URL": os.environ.get(
            "YUQING_BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")}
        yuqing(env, "init")
        from datetime import UTC, datetime

        from yuqing.db.service import Actor, NewIncident, Writer
        from yuqing.db.session import Database

        database = Database(env["YUQING_DATABASE_URL"])
        with database.session() as session:
            writer = Writer(session, Actor("bench"), now=datetime.now(UTC), preset="sanmenxia-2017")
            for n in range(100):
                writer.add_incident(NewIncident(title=f"测试舆情 {n}", unit="渑池县", classify=False))
        database.dispose()
        token = yuqing(env, "tokens", "add", "bench", "--role", "viewer").strip()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "serve", "--port", str(port), "--no-workers"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if rate.__name__ and http.client.HTTPConnection("127.0.0.1", port, timeout=2).connect() is None:
                        break
                except OSError:
                    time.sleep(0.3)
            time.sleep(1)
            auth = {"Authorization": f"Bearer {token}"}
            baseline = rate(port, "/healthz", {})
            api = rate(port, "/api/v1/incidents?open=true", auth)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"GET /healthz (baseline):               {baseline:8.1f} req/s")
    print(f"GET /api/v1/incidents?open=true (100):  {api:8.1f} req/s")
    print(f"ratio api/baseline:                     {api / baseline:8.3f}")


if __name__ == "__main__":
    main()
