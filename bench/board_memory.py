"""Peak memory of the Streamlit process (`yuqing serve`) while headless Chromium shows the countdown
board with many open incidents, against the same with 10 open, and how long the board takes to show
its counts and to tick through its 10-second refreshes.

For each open count a fresh SQLite database gets that many open incidents (the bulk load of
bench/board_speed.py, windows rebuilt), `yuqing serve --no-workers` starts on it, Chromium logs in,
waits for the board's metrics, then for REFRESHES refreshes (the 更新时间 metric changing). The serve
process's peak resident set (VmHWM from /proc) is read at the end; its RSS is sampled meanwhile.
Run: .venv/bin/python bench/board_memory.py [open counts…]   (default 10 5000)
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import report  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from tests.serving import CHROMIUM, CHROMIUM_ARGS, serving, yuqing_command  # noqa: E402 - after the sys.path line

RSS_LIMIT_MB = 400  # the Streamlit process's bound (issue 19)

USER, PASSWORD = "bench", "bench-pass-1"
REFRESHES = 4
DEADLINE = 180.0  # seconds for the board to show its metrics, and for each refresh


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure(count: int) -> dict[str, float]:
    from playwright.sync_api import expect, sync_playwright

    from bench.board_speed import _bulk_open

    with tempfile.TemporaryDirectory(prefix="yuqing-mem-") as folder:
        url_db = f"sqlite:///{Path(folder) / 'board.sqlite3'}"
        env = {**os.environ, "YUQING_DATABASE_URL": url_db, "YUQING_DATA_DIR": folder}
        for name in ("YUQING_AUTH_HEADER", "YUQING_ALERT_ROUTES"):
            env.pop(name, None)
        subprocess.run([*yuqing_command(), "init"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=300)
        subprocess.run([*yuqing_command(), "users", "add", USER, "--role", "admin", "--password-stdin"], env=env,
                       cwd=ROOT, input=f"{PASSWORD}\n".encode(), check=True, capture_output=True, timeout=120)
        _bulk_open(url_db, count)
        samples: list[int] = []
        stop = threading.Event()
        with serving(env, Path(folder) / "serve.log", "--no-workers") as (url, proc):

            def sample() -> None:
                while not stop.wait(0.5):
                    try:
                        samples.append(_status_kb(proc.pid, "VmRSS"))
                    except OSError:
                        return

            try:
                idle_kb = _status_kb(proc.pid, "VmRSS")
                threading.Thread(target=sample, daemon=True).start()
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                    try:
                        page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
                        page.set_default_timeout(DEADLINE * 1000)
                        page.goto(url)
                        page.locator("input[name=account]").fill(USER)
                        page.locator("input[name=secret]").fill(PASSWORD)
                        started = time.monotonic()
                        page.get_by_role("button", name="登录").click()
                        clock = page.locator("[data-testid='stMetric']", has_text="更新时间").locator(
                            "[data-testid='stMetricValue']")
                        expect(clock).to_be_visible(timeout=DEADLINE * 1000)
                        first_metric = time.monotonic() - started
                        expect(page.locator("[data-testid='stMetric']", has_text="处置中舆情")).to_contain_text(
                            str(count), timeout=DEADLINE * 1000)
                        ticks = []
                        for _ in range(REFRESHES):
                            before = clock.inner_text()
                            tick = time.monotonic()
                            while clock.inner_text() == before:
                                if time.monotonic() - tick > DEADLINE:
                                    raise SystemExit(f"the board did not refresh within {DEADLINE:.0f} s")
                                page.wait_for_timeout(500)
                            ticks.append(time.monotonic() - tick)
                        if page.locator("[data-testid='stException']").count():
                            raise SystemExit("the board raised an exception")
                    finally:
                        browser.close()
                peak_kb = _status_kb(proc.pid, "VmHWM")
            finally:
                stop.set()
    return {"open": count, "idle_mb": idle_kb / 1024, "peak_mb": peak_kb / 1024,
            "max_sampled_mb": max(samples, default=0) / 1024, "first_metric_s": first_metric,
            "refresh_s": max(ticks)}


def main(counts: list[int]) -> None:
    rows = []
    for count in counts:
        row = measure(count)
        rows.append(row)
        print(f"{count:6,d} open: serve RSS idle {row['idle_mb']:6.0f} MB, peak (VmHWM) {row['peak_mb']:6.0f} MB; "
              f"board metrics after {row['first_metric_s']:5.1f} s, slowest of {REFRESHES} refreshes "
              f"{row['refresh_s']:5.1f} s", flush=True)
    base = rows[0]
    for row in rows[1:]:
        print(f"peak RSS {int(row['open']):,} open / {int(base['open']):,} open: {row['peak_mb'] / base['peak_mb']:.2f}×")
    for row in rows:
        report(f"yuqing serve peak RSS, board with {int(row['open']):,} open (Chromium)", f"< {RSS_LIMIT_MB} MB",
               row["peak_mb"], row["peak_mb"] < RSS_LIMIT_MB, detail=f"slowest refresh {row['refresh_s']:.1f} s")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10, 5_000])
