"""`yuqing serve` as a child process, for the browser tests and the benchmarks that need a real server:
one place for the free port, the command, the wait for health and the stop of the process group."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def yuqing_command() -> list[str]:
    """The installed console script next to this interpreter, or the module when it is not installed."""
    script = Path(sys.executable).with_name("yuqing")
    return [str(script)] if script.exists() else [sys.executable, "-m", "yuqing.cli"]


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"yuqing serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"yuqing serve did not answer on {url} within {timeout} s")


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM to the server's process group (the server and its workers), SIGKILL if it does not end."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def serving(env: dict[str, str], log: Path | None, *extra: str, port: int | None = None,
            timeout: float = 90) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `yuqing serve --port P EXTRA…` in its own process group; yield its base URL and process once it
    answers its health check; stop the group on the way out. Output goes to `log` (discarded when None)."""
    port = port or free_port()
    out = log.open("wb") if log is not None else None
    try:
        proc = subprocess.Popen([*yuqing_command(), "serve", "--port", str(port), *extra], env=env, cwd=ROOT,
                                stdout=out if out is not None else subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, proc, timeout)
            yield url, proc
        finally:
            stop_group(proc)
    finally:
        if out is not None:
            out.close()
