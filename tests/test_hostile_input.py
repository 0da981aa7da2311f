"""Hostile and large input after the bytes arrive, and the waits before them (issue 11).

Each test names the finding it covers; every storage test runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ingest.fetch import fetch
from tests.cliutil import error_code, yq
from tests.feedserver import FeedServer, rss
from yuqing.db.models import Feed, Incident, Item
from yuqing.db.session import Database
from yuqing.worker import Poller

LONG_LINK = "https://news.example.cn/a/" + "x" * 2500
EXPLOSION = ("g-1", "某化工厂发生爆炸，已致3人受伤", "https://news.example.cn/b/1", "点击查看原文")
LANDSLIDE = ("g-2", "某村发生山体滑坡，2人失联", "https://news.example.cn/b/2", "点击查看原文")
POISONING = ("g-3", "某学校发生食物中毒，30余名学生就医", "https://news.example.cn/b/3", "点击查看原文")
FLOOD = ("flood-1", "灵宝市突降暴雨引发山洪，3人失联", "https://news.example.cn/a/2",
         "灵宝市多个乡镇突降暴雨引发山洪，目前3人失联，当地正在搜救。")


def _scalar(url: str, statement):  # type: ignore[no-untyped-def]
    database = Database(url)
    try:
        with database.session() as s:
            return s.scalar(statement)
    finally:
        database.dispose()


# --- 1. one long link stopped ingestion for good (PostgreSQL) ----------------------------------

def test_a_link_over_2000_characters_is_stored_whole_and_later_feeds_are_polled(url: str, server: FeedServer):
    poison = server.serve("/poison.xml", rss([("long-1", "超长链接的条目", LONG_LINK, "正文一"), FLOOD]))
    after = server.serve("/after.xml", rss([EXPLOSION]))
    assert yq(url, "feeds", "add", poison).code == 0
    assert yq(url, "feeds", "add", after).code == 0
    result = yq(url, "ingest", "once", "--json")
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    report = result.json()
    assert report["feeds"] == 2 and report["items_new"] == 3 and report["errors"] == []
    assert _scalar(url, select(Item.link).where(Item.title == "超长链接的条目")) == LONG_LINK
    # Polled again, the long link is recognised (its key is a hash), not stored twice.
    database = Database(url)
    with database.session() as s:
        s.execute(text("UPDATE feeds SET next_poll_at = NULL, etag = NULL"))
    database.dispose()
    second = yq(url, "ingest", "once", "--json").json()
    assert second["items_new"] == 0
    assert _scalar(url, select(func.count()).select_from(Item)) == 3


def test_an_exception_while_polling_one_feed_is_stored_on_it_and_the_run_goes_on(url: str, server: FeedServer):
    broken = server.serve("/broken.xml", rss([FLOOD]))
    fine = server.serve("/fine.xml", rss([EXPLOSION]))
    yq(url, "feeds", "add", broken)
    yq(url, "feeds", "add", fine)

    def fetcher(feed_url: str, **kwargs):  # type: ignore[no-untyped-def]
        if feed_url == broken:
            raise ValueError("a bug in one feed's handling")
        return fetch(feed_url, **kwargs)

    database = Database(url)
    try:
        report = Poller(database, preset="sanmenxia-2017", fetcher=fetcher).poll_due()
        assert report.feeds == 2 and report.stats.new == 1
        with database.session() as s:
            failed = s.scalar(select(Feed).where(Feed.url == broken))
            assert failed is not None
            assert failed.last_error_code == "E_POLL_CRASHED" and failed.error_count == 1
    finally:
        database.dispose()
    listed = {f["url"]: f for f in yq(url, "feeds", "list", "--json").json()}
    assert listed[broken]["error_count"] == 1 and listed[fine]["error_count"] == 0


def _workers_of(parent: int) -> list[int]:
    """The `ingest once --workers N` processes under `parent` (multiprocessing's spawned children,
    not its resource tracker)."""
    try:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(int(child))
    return found


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_killed_worker_makes_ingest_once_exit_non_zero_without_a_traceback(url: str, server: FeedServer):
    # Before: with --workers 4 raw tracebacks were printed and the command exited 0.
    for n in range(4):
        story = (f"w-{n}", f"灵宝市第{n}号小区停水", f"https://news.example.cn/w/{n}", f"灵宝市第{n}号小区停水三天。")
        yq(url, "feeds", "add", server.serve(f"/slow{n}.xml", rss([story]), delay=6.0))
    child = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "--db", url, "ingest", "once", "--workers", "2"],
                             cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        # Both workers mid-fetch (each feed answers after 6 s), so the one killed holds a claimed feed.
        deadline = time.monotonic() + 120  # a bound on the wait for the workers' requests
        while len(_workers_of(child.pid)) < 2 or sum(server.hits.values()) < 2:
            assert child.poll() is None, child.communicate(timeout=60)
            assert time.monotonic() < deadline, "the workers never fetched"
            time.sleep(0.05)
        os.kill(_workers_of(child.pid)[0], signal.SIGKILL)  # as the OOM killer would
        out, err = child.communicate(timeout=180)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)  # the command and its workers, which hold its pipes too
            child.communicate(timeout=60)
    assert child.returncode == 1 and "[E_WORKER_DIED]" in err
    assert "Traceback" not in out + err
    # What the killed worker had claimed is polled by the next run: nothing is lost.
    assert yq(url, "ingest", "once").code == 0
    assert _scalar(url, select(func.count()).select_from(Item)) == 4


# --- 2. different items were silently merged -------------------------------------------------

def test_three_items_with_a_boilerplate_body_stay_three_items(url: str, server: FeedServer):
    feed = server.serve("/gov.xml", rss([EXPLOSION, LANDSLIDE, POISONING]))
    yq(url, "feeds", "add", feed)
    report = yq(url, "ingest", "once", "--json").json()
    assert (report["items_new"], report["items_duplicate"]) == (3, 0)
    assert _scalar(url, select(func.count()).select_from(Item)) == 3


# --- 3. a server trickling its headers held the poller for minutes ---------------------------

class TrickleServer:
    """Answers every request with a status line, then one header byte every 0.2 s, for minutes."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(1500):  # 300 s of header bytes
                    if self.stop.wait(0.2):
                        return
                    conn.sendall(b"X")
            except OSError:
                return

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/feed.xml"

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.listener.close()


def test_a_header_trickle_ends_at_the_total_deadline_as_a_timeout():
    with TrickleServer() as trickle:
        started = time.monotonic()
        result = fetch(trickle, timeout=1.0, total_timeout=2.0)
        elapsed = time.monotonic() - started
    assert result.status == "error" and result.error_code == "E_FETCH_TIMEOUT"
    # Bound, not speed: without one deadline over the whole exchange this ran for the full 300 s.
    assert elapsed < 2.0 + 5


# --- 4. NUL bytes crashed PostgreSQL writes ---------------------------------------------------

def test_a_nul_in_a_csv_cell_is_removed_and_every_row_imported(url: str, tmp_path: Path):
    path = tmp_path / "nul.csv"
    path.write_text(
        "标题,内容,链接,发布时间,来源\n"
        "卢氏县网民反映\x00拖欠农民工工资,卢氏县某工地拖欠\x00农民工工资半年,https://bbs.example.cn/t/1,2026-11-24 08:30,留言板\n"
        "义马市化工厂异味,义马市化工园区异味扰民,https://bbs.example.cn/t/3,2026-11-24 10:15,微博\n",
        encoding="utf-8",
    )
    result = yq(url, "import", str(path), "--json")
    assert result.code == 0, result.err
    assert result.json()["items_new"] == 2
    assert _scalar(url, select(func.count()).select_from(Item).where(Item.title == "卢氏县网民反映拖欠农民工工资")) == 1
    database = Database(url)
    with database.session() as s:
        stored = [(i.title, i.content_text) for i in s.scalars(select(Item))]
    database.dispose()
    assert stored and not any("\x00" in value for pair in stored for value in pair)


def test_a_nul_in_an_incident_title_is_removed(url: str):
    result = yq(url, "incident", "add", "--title", "网传\x00停水", "--unit", "灵宝市", "--no-classify")
    assert result.code == 0, result.err
    assert _scalar(url, select(Incident.title)) == "网传停水"


# --- 6. on SQLite a long write blocked every read ---------------------------------------------

@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_read_answers_while_another_process_holds_the_write_lock(url: str):
    assert yq(url, "incident", "add", "--title", "网传停水", "--unit", "灵宝市", "--no-classify").code == 0
    path = url.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None)  # another process's long import
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE incidents SET summary = 'importing'")
        listed = yq(url, "incident", "list", "--json")
        assert listed.code == 0, listed.err
        assert [i["title"] for i in listed.json()] == ["网传停水"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_write_behind_a_held_lock_says_the_database_is_busy(url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("yuqing.db.session.BUSY_SECONDS", 1)
    path = url.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        result = yq(url, "incident", "add", "--title", "网传停水", "--unit", "灵宝市", "--no-classify")
        assert error_code(result) == "E_DB_BUSY"
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# --- 7. evidence files were read whole and symlinks followed ----------------------------------

def _incident(url: str) -> str:
    from tests.cliutil import ago

    result = yq(url, "incident", "add", "--title", "网传停水", "--unit", "灵宝市", "--no-classify", "--first-post-at", ago(2))
    assert result.code == 0, result.err
    return result.out.strip().split()[0]


def _act(url: str, incident: str, evidence: str):  # type: ignore[no-untyped-def]
    from tests.cliutil import ago

    return yq(url, "incident", "act", incident, "--kind", "response", "--at", ago(0, 1), "--evidence-file", evidence)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_symlinked_or_device_evidence_file_is_refused(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    incident = _incident(url)
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    link = tmp_path / "通报.pdf"
    link.symlink_to(secret)
    for path in (str(link), "/dev/zero", "/proc/self/environ"):
        assert error_code(_act(url, incident, path)) == "E_EVIDENCE_NOT_REGULAR", path
    stored = list((tmp_path / "data" / "evidence").rglob("*")) if (tmp_path / "data" / "evidence").exists() else []
    assert [p for p in stored if p.is_file()] == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_evidence_file_over_the_cap_is_refused(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YUQING_EVIDENCE_MAX_MB", "1")
    incident = _incident(url)
    big = tmp_path / "录像.bin"
    big.write_bytes(b"\0" * (1024 * 1024 + 1))
    assert error_code(_act(url, incident, str(big))) == "E_EVIDENCE_TOO_LARGE"
    small = tmp_path / "通报.pdf"
    small.write_bytes(b"%PDF-1.4 demo")
    assert _act(url, incident, str(small)).code == 0


# --- 8. the last E_INTERNALs ------------------------------------------------------------------

@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("[" * 100_000 + "]" * 100_000, "E_JSON_TOO_DEEP"),
        ('{"started_at": "2026-06-10 14:00", "level": ' + "9" * 5000 + "}", "E_JSON_NUMBER"),
        ('{"x": "' + "a" * 1_000_001 + '"}', "E_JSON_TOO_LARGE"),
    ],
    ids=["deep", "huge-integer", "huge-document"],
)
def test_timeline_check_refuses_hostile_json(url: str, document: str, code: str, monkeypatch: pytest.MonkeyPatch):
    result = yq(url, "timeline", "check", "-", stdin=document, monkeypatch=monkeypatch)
    assert result.code == 1 and error_code(result) == code


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_argument_that_is_not_utf8_is_refused(url: str):
    value = b"\xff\xfe\xb2\xe2".decode("utf-8", "surrogateescape")  # how Python hands over such bytes
    result = yq(url, "incident", "add", "--title", value, "--unit", "灵宝市", "--no-classify")
    assert result.code == 1 and error_code(result) == "E_ARG_ENCODING"
