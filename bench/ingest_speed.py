"""End-to-end ingest speed (parse + dates + classify + store) against bare feedparser, same bytes, same run.

Prints items/s of each and the ratio (target ≥ 0.5), then the re-ingest of the unchanged feeds as a
speed-up over the first ingest (target ≥ 20×). Uses a fresh SQLite file in a temporary folder and one
poller, as a worker process does (command-line start-up is not counted).
"""
from __future__ import annotations

import io
import sys
import tempfile
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from yuqing import cli  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.session import Database  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.worker import Poller  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

ZH = ROOT.parent / "shared" / "data" / "feeds" / "zh"


def generated_feed(path: Path, n: int = 500) -> None:
    start = datetime(2026, 11, 20, tzinfo=timezone(timedelta(hours=8)))
    places = ["灵宝市", "渑池县", "卢氏县", "义马市", "陕州区", "湖滨区"]
    events = ["发生交通事故，已致2人受伤", "网民反映供暖不热", "举行应急演练", "召开安全生产会议", "一工厂发生火灾，无人员伤亡"]
    items = []
    for i in range(n):
        place, event = places[i % len(places)], events[i % len(events)]
        when = (start + timedelta(minutes=7 * i)).strftime("%a, %d %b %Y %H:%M:%S +0800")
        items.append(
            f"<item><guid>gen-{i}</guid><title>{place}{event}（{i}）</title><link>https://news.example.cn/{i}</link>"
            f"<description><![CDATA[<p>{place}消息：{event}。相关部门已介入，第{i}号通报。</p>]]></description>"
            f"<pubDate>{when}</pubDate></item>"
        )
    path.write_text(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>生成的测试源</title>'
                    f'{"".join(items)}</channel></rss>', encoding="utf-8")


def run(argv: list[str]) -> str:
    out = io.StringIO()
    code = cli.run(argv, out=out, err=sys.stderr)
    if code != 0:
        raise SystemExit(f"command failed: {argv}")
    return out.getvalue()


def main() -> None:
    if not ZH.is_dir():
        raise SystemExit(f"shared data not found at {ZH}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generated = folder / "generated.xml"
        generated_feed(generated)
        files = sorted(str(p) for p in ZH.glob("*.xml")) + [str(generated)]
        bodies = [Path(f).read_bytes() for f in files]
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        run(["--db", url, "init"])

        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            entries = sum(len(feedparser.parse(io.BytesIO(b)).entries) for b in bodies)
        bare = time.perf_counter() - t0

        feed_ids = [int(run(["--db", url, "feeds", "add", f]).strip()) for f in files]
        database = Database(url)
        poller = Poller(database, preset="sanmenxia-2017")
        with database.session() as session:
            poller.classify(session)("预热", "预热分词器")  # a worker builds its classifier once

        t0 = time.perf_counter()
        first = poller.poll_feeds(feed_ids)
        full = time.perf_counter() - t0

        t0 = time.perf_counter()
        again = poller.poll_feeds(feed_ids)
        second = time.perf_counter() - t0
        database.dispose()

    print(f"feeds: {len(files)}, entries: {entries}")
    print(f"feedparser.parse alone: {bare:.3f} s ({entries / bare:.0f} items/s)")
    print(f"yuqing end to end:      {full:.3f} s ({entries / full:.0f} items/s)  new {first.stats.new}, duplicate {first.stats.duplicate}, errors {len(first.errors)}")
    print(f"ratio (ours / feedparser items/s): {bare / full:.2f}  (target ≥ 0.5)")
    print(f"re-ingest unchanged:    {second:.3f} s  speed-up {full / second:.1f}×  (target ≥ 20×)  new {again.stats.new}, duplicate {again.stats.duplicate}")


if __name__ == "__main__":
    main()
