"""End-to-end ingest over loopback HTTP (fetch + parse + dates + classify + group + store) against bare
fetch + feedparser of the same feeds, at several numbers of feeds.

Each feed is served by a separate `python -m http.server` process on 127.0.0.1 (it sends
Last-Modified and answers 304, like a real site), so the CPU time measured in this process is the
client's only. Feeds carry realistic items: 20 per feed, Chinese titles naming a county and an
event (some reported by several feeds, so grouping has work), HTML descriptions, RFC 822 dates.

Per size, the sides take turns (ours, bare, ours, bare …; ≥ 3 samples each): ours is a fresh SQLite
database polled once by one Poller (as a worker does), bare is urllib GET + feedparser.parse with the
options ingest.parse uses. Reported: ours / bare per size (target ≤ 2×, i.e. ≥ 0.5 of feedparser's
items/s), the growth of our cost from the second to the largest size (target ≤ 1.1 × the growth in
feeds, e.g. ≤ 11 for 100 → 1 000), and re-ingest of the unchanged feeds (304s) as a speed-up over the
first ingest (target ≥ 20×).
Run: .venv/bin/python bench/ingest_speed.py [--sizes 10,100,300] [--full] [--samples N]
     (--full: 10, 100 and 1 000 feeds)
"""
from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import feedparser  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from _common import report, sample, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from classify.units import load_units_file  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from tests.serving import free_port  # noqa: E402 - after the sys.path line
from yuqing.db import migrate  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.feeds import add_feed  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.service import Actor, Writer  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.session import Database  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.settings import UNITS_FILE  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.worker import Poller  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

ITEMS = 20
PLACES = ("灵宝市", "渑池县", "卢氏县", "义马市", "陕州区", "湖滨区", "三门峡市")
EVENTS = ("某小区发生燃气爆燃，已致2人受伤", "网民反映冬季供暖不热", "一工厂发生火灾，无人员伤亡", "国道发生交通事故，已致1人死亡",
          "某学校食堂被曝食品安全问题", "召开安全生产工作会议", "举行防汛应急演练", "某景区游客投诉收费不透明",
          "一在建工地发生坍塌", "居民反映自来水浑浊发黄")
START = datetime(2026, 11, 20, tzinfo=timezone(timedelta(hours=8)))
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def feed_body(k: int) -> bytes:
    """Feed k: 20 items; item j reports event (k + j) % 10 in a place, so feeds share events."""
    items = []
    for j in range(ITEMS):
        place, event = PLACES[(k * 3 + j) % len(PLACES)], EVENTS[(k + j) % len(EVENTS)]
        when = (START + timedelta(minutes=37 * j + k)).strftime("%a, %d %b %Y %H:%M:%S +0800")
        items.append(
            f"<item><guid>feed{k}-item{j}</guid><title>{place}{event}</title>"
            f"<link>https://news{k}.example.cn/{j}.html</link>"
            f"<description><![CDATA[<p>据{place}融媒体中心消息，{event}。<strong>相关部门</strong>已介入调查，"
            f"<a href='https://news{k}.example.cn/{j}.html'>详情</a>。第{k}-{j}号通报。</p>]]></description>"
            f"<pubDate>{when}</pubDate></item>"
        )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>测试源 {k}</title>'
            f'<link>https://news{k}.example.cn/</link>{"".join(items)}</channel></rss>').encode()


class Site:
    """`python -m http.server` in its own process serving the feed files of a folder."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1", "--directory", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url(""), timeout=1).close()
                return
            except OSError:  # not listening yet
                time.sleep(0.1)
        self.close()
        raise SystemExit("the loopback feed server did not start within 20 s")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def fresh_database(folder: Path, urls: list[str], n: int) -> tuple[Database, list[int]]:
    path = folder / f"ingest-{n}-{time.monotonic_ns()}.sqlite3"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database.engine)
    _, refs = load_units_file(UNITS_FILE)
    with database.session() as session:
        writer = Writer(session, Actor("bench"), now=NOW, preset="sanmenxia-2017")
        writer.sync_units(refs)
        ids = [add_feed(writer, url, name=f"测试源 {k}").id for k, url in enumerate(urls)]
    return database, ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,300", help="numbers of feeds, comma-separated (default 10,100,300)")
    parser.add_argument("--full", action="store_true", help="10, 100 and 1 000 feeds")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()
    sizes = [10, 100, 1000] if args.full else [int(x) for x in args.sizes.split(",")]
    warnings.simplefilter("ignore")
    medians: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        site_dir = folder / "site"
        site_dir.mkdir()
        for k in range(max(sizes)):
            (site_dir / f"feed{k}.xml").write_bytes(feed_body(k))
        site = Site(site_dir)
        try:
            for n in sizes:
                urls = [site.url(f"feed{k}.xml") for k in range(n)]
                state: dict[str, object] = {}
                reingest: list[float] = []
                entries: list[int] = []

                def prepare(side: str, urls: list[str] = urls, n: int = n, state: dict[str, object] = state) -> None:
                    if side == "ours":
                        old = state.pop("database", None)
                        if isinstance(old, Database):
                            old.dispose()
                        database, ids = fresh_database(folder, urls, n)
                        poller = Poller(database, preset="sanmenxia-2017")
                        with database.session() as session:
                            poller.classify(session)("预热", "预热分词器")  # a worker builds its classifier once
                        state.update(database=database, ids=ids, poller=poller)

                def ours(state: dict[str, object] = state, reingest: list[float] = reingest) -> None:
                    poller, ids = state["poller"], state["ids"]
                    first = poller.poll_feeds(ids)  # type: ignore[attr-defined]
                    state["first"] = first
                    start = time.process_time()
                    poller.poll_feeds(ids)  # type: ignore[attr-defined]  # unchanged: 304s
                    reingest.append(time.process_time() - start)

                def bare(urls: list[str] = urls, entries: list[int] = entries) -> None:
                    count = 0
                    for u in urls:
                        with urllib.request.urlopen(u, timeout=30) as response:
                            body = response.read()
                        count += len(feedparser.parse(io.BytesIO(body), sanitize_html=False,
                                                      resolve_relative_uris=False).entries)
                    entries.append(count)

                # The re-ingest runs inside `ours` (it needs the first ingest); its time is taken out below.
                samples = sample({"ours": ours, "bare": bare}, n=args.samples, clock=time.process_time, before=prepare)
                samples["ours"] = [t - r for t, r in zip(samples["ours"], reingest)]
                first = state["first"]
                print(f"{n} feeds, {entries[-1]} entries: new {first.stats.new}, duplicate {first.stats.duplicate}, "  # type: ignore[attr-defined]
                      f"errors {len(first.errors)}")  # type: ignore[attr-defined]
                samples["re-ingest (unchanged)"] = reingest
                show(samples, indent="  ")
                value = statistics.median(samples["ours"]) / statistics.median(samples["bare"])
                report(f"ingest {n} feeds: ours / bare fetch+feedparser", "≤ 2×", value, value <= 2)
                speedup = statistics.median(samples["ours"]) / statistics.median(reingest)
                report(f"ingest {n} feeds: re-ingest speed-up", "≥ 20×", speedup, speedup >= 20)
                medians[n] = statistics.median(samples["ours"])
                database = state.pop("database", None)
                if isinstance(database, Database):
                    database.dispose()
        finally:
            site.close()
    if len(sizes) >= 2:
        low, high = sizes[-2], sizes[-1]
        growth = medians[high] / medians[low]
        allowed = 1.1 * high / low
        report(f"ingest growth {low} → {high} feeds", f"≤ {allowed:.3g}", growth, growth <= allowed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
