"""Requests per second of `GET /api/v1/incidents?open=true` (100 open incidents) against `yuqing serve`
on loopback, with `/healthz` on the same server as the baseline: SAMPLES interleaved samples per side
(one keep-alive connection each), min/median/max and the ratio of the medians printed.

    .venv/bin/python bench/api_speed.py                 # SQLite
    YUQING_BENCH_DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/api_speed.py
"""
from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import report  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from tests.serving import serving  # noqa: E402 - after the sys.path line

SECONDS = 3.0
SAMPLES = 3


def yuqing(env: dict[str, str], *argv: str) -> str:
    return subprocess.run([sys.executable, "-m", "yuqing.cli", *argv], env=env, cwd=ROOT, check=True,
                          capture_output=True, text=True, timeout=300).stdout


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
        os.environ["YUQING_DATA_DIR"] = tmp  # the audit key `init` created, for the writes below
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
        with serving(env, None, "--no-workers") as (base, _):
            port = int(base.rsplit(":", 1)[1])
            auth = {"Authorization": f"Bearer {token}"}
            baseline: list[float] = []
            api: list[float] = []
            for _ in range(SAMPLES):  # interleaved, so that a busy moment of the machine hits both sides
                baseline.append(rate(port, "/healthz", {}))
                api.append(rate(port, "/api/v1/incidents?open=true", auth))

    def line(name: str, values: list[float]) -> str:
        return (f"{name:40s} min {min(values):7.1f}  median {statistics.median(values):7.1f}  "
                f"max {max(values):7.1f} req/s")

    backend = env["YUQING_DATABASE_URL"].split(":", 1)[0]
    print(f"{backend}, {SAMPLES} samples of {SECONDS:.0f} s per side, one connection, loopback")
    print(line("GET /healthz (baseline)", baseline))
    print(line("GET /api/v1/incidents?open=true (100)", api))
    value = statistics.median(api) / statistics.median(baseline)
    report(f"API open list (100 open, {backend}) req/s ÷ /healthz req/s", "none (measured)", value, None,
           detail=f"{statistics.median(api):.0f} req/s")


if __name__ == "__main__":
    main()
