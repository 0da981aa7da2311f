"""A province on one PostgreSQL installation (issue 17): 18 cities × 9 assessing offices (the city, six
counties, two zones), each office with 50 units and a year of 2 000 incidents (≈ 324 000 in all).

1. The board of one office (yuqing.db.incidents.board_page, one page of 20) and its year score
   (load_year + score + as_json), in that office's session as the application role (row-level
   security on), against the same office built alone in an empty database: target ≤ 1.3× (cost follows
   the office's own data, not the province's). ≥ 3 interleaved samples per side, wall time (the
   database server's time counts), min/median/max, ratio of medians.
2. 4 ingest workers (yuqing.worker.run_workers) over 1 000 feeds belonging to every office, served on
   loopback from the CEC and news corpora in ../shared/data: each feed polled exactly once — the server
   stamps every answer's ETag with that feed's request serial and the worker stores it on the feed row,
   so the database says how many polls each feed had — with wall time and items stored.

The data is loaded in bulk (COPY for incidents and actions, Core inserts for the rest), as the write
service would leave it: every record carries its office, open incidents have their stored windows
(yuqing.db.windows.refresh, the service's own rule), and the registry, referrals, manual scores and
daily records scoring reads. No audit records: neither the board nor the score reads the trail.

The script creates its own two databases next to the one the URL names (`<name>_province` and
`<name>_alone`, dropped first and again at the end unless --keep) and an application role.
Run: .venv/bin/python bench/offices_scale.py [postgresql+psycopg://…/db] [--cities N] [--office CODE]
     [--samples N] [--feeds N] [--keep]    (URL also from YUQING_BENCH_DATABASE_URL; default: full size)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import ratio, report, sample, show, skipped  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from score_speed import CHANNELS, KINDS, LEVELS  # noqa: E402 - the same draws as the single-office year
from sqlalchemy import func, insert, select, text  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from sqlalchemy.engine import make_url  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

URL_ENV = "YUQING_BENCH_DATABASE_URL"
DATA = ROOT.parent / "shared" / "data"
YEAR = 2025
BEIJING_OFFSET = timedelta(hours=8)
# The board and the score are read at this instant: late in the year, so the last days' incidents are open.
NOW = datetime(YEAR, 12, 30, 2, 0, tzinfo=UTC)
PRESET = "sanmenxia-2017"
APP_ROLE = "yuqing_bench_app"
UNITS_PER_OFFICE = 50
INCIDENTS_PER_OFFICE = 2_000
FEEDS = 1_000
ITEMS_PER_FEED = 20
WORKERS = 4
BOARD_CALLS = 10  # board data calls per sample (one call is a few milliseconds)

CITIES = ("郑州", "开封", "洛阳", "平顶山", "安阳", "鹤壁", "新乡", "焦作", "濮阳", "许昌", "漯河", "三门峡",
          "南阳", "商丘", "信阳", "周口", "驻马店", "济源")
# A city's eight assessed governments: six counties and two zones (assessed like counties, 第六条).
COUNTIES = ("东城区", "西城县", "南山县", "北川县", "河口市", "林州市", "示范区", "开发区")
DEPARTMENTS = ("发展改革委", "教育局", "科技局", "工业和信息化局", "公安局", "民政局", "司法局", "财政局",
               "人力资源社会保障局", "自然资源局", "生态环境局", "住房城乡建设局", "交通运输局", "水利局",
               "农业农村局", "商务局", "文化广电和旅游局", "卫生健康委", "退役军人事务局", "应急管理局",
               "审计局", "市场监督管理局", "统计局", "医疗保障局", "城市管理局", "林业局", "信访局",
               "大数据管理局", "粮食和物资储备局", "人防办", "地方金融监管局", "供销社", "气象局", "税务局",
               "消防救援支队", "供水公司", "供电公司", "燃气公司", "供热公司", "公交公司", "机关事务管理局",
               "外事办")
TOWNS = ("城关镇", "东关街道", "西关街道", "南关街道", "北关街道", "新华街道", "朝阳镇", "阳店镇", "大营镇",
         "故县镇", "豫灵镇", "函谷关镇", "尹庄镇", "朱阳镇", "苏村乡")
ENTERPRISES = {"供水公司", "供电公司", "燃气公司", "供热公司", "公交公司"}
CATEGORIES = ("自然灾害", "事故灾难", "公共卫生事件", "社会安全事件", None)


def refuse(message: str) -> int:
    """Without PostgreSQL: one sentence and exit 1 alone; under `make bench` a skipped row and exit 0."""
    if os.environ.get("BENCH_RESULTS"):
        print(f"  skipped: {message}")
        skipped("province offices: board and score vs one office alone", message)
        return 0
    print(message, file=sys.stderr)
    return 1


# --- the province --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OfficeSpec:
    code: str
    name: str
    parent: str | None  # None: under the root office
    unit_code: str | None  # the parent's unit that is this office's own government
    place: str  # the prefix of its units' names (郑州市, 郑州市东城区)
    county: bool  # a county's registry: departments and towns; a city's: departments and its counties


def province(cities: int) -> list[OfficeSpec]:
    """The offices, parents first: per city its office, then its eight counties' offices."""
    specs = []
    for c, city in enumerate(CITIES[:cities]):
        code = f"c{c:02d}"
        specs.append(OfficeSpec(code, f"{city}市政务公开领导小组办公室", None, f"p-{code}", f"{city}市", False))
        for k, county in enumerate(COUNTIES):
            specs.append(OfficeSpec(f"{code}k{k}", f"{city}市{county}政务公开领导小组办公室", code, f"{code}-k{k}",
                                    f"{city}市{county}", True))
    return specs


def registry(spec: OfficeSpec) -> list[dict[str, Any]]:
    """Its 50 units (code, name, kind): a city 42 departments + its 8 counties, a county 35 + 15 towns."""
    units = []
    departments = DEPARTMENTS[:35] if spec.county else DEPARTMENTS
    for j, name in enumerate(departments):
        units.append({"code": f"{spec.code}-d{j:02d}", "name": f"{spec.place}{name}",
                      "kind": "enterprise" if name in ENTERPRISES else "department"})
    if spec.county:
        units += [{"code": f"{spec.code}-t{j:02d}", "name": f"{spec.place}{name}", "kind": "town"}
                  for j, name in enumerate(TOWNS)]
    else:
        units += [{"code": f"{spec.code}-k{k}", "name": f"{spec.place}{name}", "kind": "county"}
                  for k, name in enumerate(COUNTIES)]
    assert len(units) == UNITS_PER_OFFICE
    return units


def _has(table: Any, column: str) -> bool:
    return column in table.c


def load_titles() -> list[str]:
    titles = []
    for name in ("cec/events.jsonl", "cec/environment_pollution.jsonl", "negatives/mixed_politics_society.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            title = (json.loads(line).get("title") or "").strip() if line.strip() else ""
            if title:
                titles.append(title[:150])
    return titles


class Loader:
    """Bulk writes into one database as its owner; ids handed out here so actions can name incidents."""

    def __init__(self, owner_url: str) -> None:
        from yuqing.db.session import Database

        self.database = Database(owner_url)
        self.next_incident = 1
        self.offices: dict[str, int] = {}
        self.units: dict[str, int] = {}

    def copy(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        raw = self.database.engine.raw_connection()
        try:
            with raw.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()

    def root(self, cities: list[OfficeSpec]) -> None:
        """The root (the province's office, made by the migration) holds the cities as its units."""
        from yuqing.db.models import Unit

        with self.database.engine.begin() as conn:
            self.offices["root"] = int(conn.scalar(text("SELECT id FROM offices WHERE parent_id IS NULL")))
            rows = [{"code": s.unit_code, "name": s.place[:-1] + "市人民政府", "kind": "county", "office_id": self.offices["root"],
                     "aliases": [s.place], "predecessors": [], "active": True} for s in cities]
            if rows:
                conn.execute(insert(Unit.__table__), rows)
            self._units(conn)

    def _units(self, conn: Any) -> None:
        self.units = {code: uid for code, uid in conn.execute(text("SELECT code, id FROM units"))}

    def office(self, spec: OfficeSpec) -> int:
        from yuqing.db.models import Office, Unit

        with self.database.engine.begin() as conn:
            parent = self.offices[spec.parent] if spec.parent else self.offices["root"]
            oid = int(conn.scalar(insert(Office.__table__).values(code=spec.code, name=spec.name, parent_id=parent,
                                                                   unit_code=spec.unit_code).returning(Office.id)))
            self.offices[spec.code] = oid
            conn.execute(insert(Unit.__table__), [
                {**u, "office_id": oid, "aliases": [], "predecessors": [], "active": True} for u in registry(spec)])
            self._units(conn)
        return oid

    def year(self, spec: OfficeSpec, titles: list[str]) -> list[int]:
        """The office's year: 2 000 incidents (a few about its own government, named by the parent's unit),
        their actions, co-units and regrades, referrals, manual scores and daily records. Returns the ids
        of the open incidents. Seeded by the office's code: the same year in every database."""
        from scoring import load_scheme
        from yuqing.db.models_scoring import DailyRecord, ManualScore, Referral

        rng = random.Random(f"offices-scale-{spec.code}")
        oid = self.offices[spec.code]
        own = [self.units[u["code"]] for u in registry(spec)]
        kinds = {self.units[u["code"]]: u["kind"] for u in registry(spec)}
        itself = self.units[spec.unit_code] if spec.unit_code else None
        year_start = datetime(YEAR, 1, 1, tzinfo=UTC) - BEIJING_OFFSET
        span = int((NOW - year_start).total_seconds())
        base = self.next_incident
        incidents, actions, co_units, regrades, open_ids = [], [], [], [], []
        for n in range(INCIDENTS_PER_OFFICE):
            iid = base + n
            start = year_start + timedelta(seconds=rng.randrange(span))
            age = NOW - start
            recent = age < timedelta(days=4)
            status = ("open" if rng.random() < 0.7 else "closed") if recent else \
                ("voided" if rng.random() < 0.03 else "open" if rng.random() < 0.02 else "closed")
            unit = itself if itself is not None and rng.random() < 0.03 else rng.choice(own)
            level, sudden = rng.choice(LEVELS), rng.random() < 0.2
            closed = start + timedelta(days=rng.uniform(1, 5)) if status == "closed" else None
            if closed is not None and closed > NOW:
                closed = NOW
            voided = start + timedelta(hours=2) if status == "voided" else None
            incidents.append((
                iid, oid, f"{spec.place}{rng.choice(titles)}"[:200], unit, base + rng.randrange(n) if n > 10 and rng.random() < 0.02 else None,
                level, sudden, rng.choice(CATEGORIES), status, PRESET, start, start + timedelta(minutes=20),
                start + timedelta(minutes=30), start, closed, voided, "误报" if voided else None, "bench", "[]",
            ))
            if status == "open":
                open_ids.append(iid)
            latest = min(NOW, start + timedelta(hours=48))
            for _ in range(rng.randint(0, 4) if status == "open" else rng.randint(1, 4)):
                at = start + timedelta(hours=rng.uniform(0.2, 40))
                if at > latest:
                    continue
                actions.append((iid, unit, rng.choice(KINDS), at, json.dumps(rng.sample(CHANNELS, rng.randint(1, 3))),
                                rng.random() < 0.3, at + timedelta(minutes=5), "bench"))
            if rng.random() < 0.1:
                co = rng.choice(own)
                if co != unit:
                    co_units.append({"incident_id": iid, "unit_id": co})
            if rng.random() < 0.01:
                regrades.append({"incident_id": iid, "at": start + timedelta(hours=3), "actor": "bench", "reason": "核实",
                                 "before": {"level": "一般", "sudden": False, "category": None},
                                 "after": {"level": level, "sudden": sudden, "category": None}})
        self.next_incident = base + INCIDENTS_PER_OFFICE
        self.copy("incidents", ("id", "office_id", "title", "unit_id", "parent_id", "level", "sudden", "category", "status",
                                "preset", "first_post_at", "detected_at", "logged_at", "started_at", "closed_at", "voided_at",
                                "void_reason", "created_by", "suggested_fields"), incidents)
        self.copy("actions", ("incident_id", "unit_id", "kind", "at", "channels", "by_principal", "recorded_at", "recorded_by"),
                  actions)
        scheme = load_scheme(YEAR)
        stamp = NOW - timedelta(days=1)
        office = {"office_id": oid}
        manual = [{"unit_id": uid, "year": YEAR, "indicator": ind.code, "points": ind.points * 0.9, "note": "",
                   "updated_at": stamp, "updated_by": "bench"} for uid in own
                  for ind in scheme.tree(kinds[uid]).indicators if not ind.computed]
        referrals = []
        for _ in range(50):
            sent = year_start + timedelta(days=rng.randrange(350), hours=9)
            referrals.append({"office_id": oid, "incident_id": base + rng.randrange(INCIDENTS_PER_OFFICE), "unit_id": rng.choice(own),
                              "sent_at": sent, "due_workdays": 5, "due_at": sent + timedelta(days=7),
                              "replied_at": sent + timedelta(days=rng.uniform(1, 10)) if rng.random() < 0.9 else None,
                              "created_at": sent, "created_by": "bench"})
        daily = [{"unit_id": rng.choice(own), "on_date": date(YEAR, 1, 1) + timedelta(days=rng.randrange(360)),
                  "points": rng.choice((-1.0, 0.5)), "reason": "抽查", "indicator": None, "created_at": stamp, "created_by": "bench"}
                 for _ in range(20)]
        from yuqing.db.models import IncidentCoUnit, Reclassification

        with self.database.engine.begin() as conn:
            for model, rows in ((IncidentCoUnit, co_units), (Reclassification, regrades), (ManualScore, manual),
                                (Referral, referrals), (DailyRecord, daily)):
                table = model.__table__
                if rows:
                    # Tables that gain an office column (issue 17) get it filled like the service would.
                    conn.execute(insert(table), [{**r, **office} for r in rows] if _has(table, "office_id") else rows)
        return open_ids

    def finish(self, open_ids: list[int]) -> None:
        """Sequences past the ids given here, the stored windows of the open incidents, fresh statistics."""
        from sqlalchemy.orm import Session

        from yuqing.db import windows

        with self.database.engine.begin() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('incidents', 'id'), :n)"), {"n": self.next_incident})
            with Session(bind=conn) as session:
                windows.refresh(session, open_ids)
                session.flush()
        with self.database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def build(owner_url: str, specs: list[OfficeSpec], data_for: set[str], titles: list[str]) -> tuple[float, int]:
    """A migrated database with these offices and their registries; a year of incidents for those in
    `data_for`. Returns (seconds, incidents)."""
    from yuqing.db import migrate
    from yuqing.db.roles import ensure_app_role

    started = time.perf_counter()
    loader = Loader(owner_url)
    try:
        migrate.upgrade(loader.database.engine, root_office=("province", "省政务公开领导小组办公室"))
        loader.root([s for s in specs if s.parent is None])
        open_ids: list[int] = []
        for spec in specs:
            loader.office(spec)
            if spec.code in data_for:
                open_ids += loader.year(spec, titles)
        loader.finish(open_ids)
        with loader.database.engine.begin() as conn:
            ensure_app_role(conn, APP_ROLE)
            incidents = int(conn.scalar(text("SELECT count(*) FROM incidents")))
    finally:
        loader.database.dispose()
    return time.perf_counter() - started, incidents


# --- databases -----------------------------------------------------------------------------------------
def scratch(url: str, suffix: str) -> str:
    return make_url(url).set(database=f"{make_url(url).database}_{suffix}").render_as_string(hide_password=False)


def recreate(url: str, names: list[str], *, drop_only: bool = False) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for target in names:
                name = make_url(target).database
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                if not drop_only:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


def as_app(url: str) -> str:
    return make_url(url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)


# --- 1. board and score --------------------------------------------------------------------------------
def office_reads(app_url: str, code: str) -> tuple[Any, Any, Any, dict[str, int]]:
    """The office's two reads in its own session (the application role: row-level security on)."""
    from scoring import as_json
    from yuqing.db.incidents import board_page
    from yuqing.db.offices import find_office
    from yuqing.db.scoring_reads import load_year
    from yuqing.db.session import Database

    database = Database(app_url)
    with database.session() as session:
        office = find_office(session, code).id
    mine = database.for_office(office)
    seen: dict[str, int] = {}

    def board() -> None:
        for _ in range(BOARD_CALLS):
            page = mine.read(board_page, NOW, limit=20)
        seen["board_total"] = page.total

    def score() -> None:
        data = mine.read(load_year, YEAR, now=NOW)
        results = data.score()
        as_json(results)
        seen["scored_incidents"], seen["units"] = len(data.incidents), len(results)

    return database, board, score, seen


def explain(owner_url: str, code: str) -> None:
    """The plans of the office's main queries (printed when a ratio is off)."""
    from sqlalchemy import event

    from yuqing.db.incidents import open_ranking
    from yuqing.db.offices import find_office
    from yuqing.db.scoring_reads import load_year
    from yuqing.db.session import Database

    database = Database(owner_url)
    try:
        with database.session() as session:
            office = find_office(session, code).id
        with database.for_office(office).session(write=False) as session:
            captured: list[tuple[str, Any]] = []

            def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
                if statement.lstrip().upper().startswith("SELECT") and "set_config" not in statement:
                    captured.append((statement, parameters))

            event.listen(database.engine, "before_cursor_execute", keep)
            try:
                open_ranking(session, NOW, limit=20)
                load_year(session, YEAR, now=NOW)
            finally:
                event.remove(database.engine, "before_cursor_execute", keep)
            raw = session.connection().connection.driver_connection
            for statement, parameters in captured[:8]:
                with raw.cursor() as cursor:  # type: ignore[union-attr]
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF) " + statement, parameters)
                    plan = [r[0] for r in cursor.fetchall()]
                print("  -- " + " ".join(statement.split())[:160])
                print("\n".join("     " + line for line in plan))
    finally:
        database.dispose()


def compare(province_url: str, alone_url: str, code: str, samples_per_side: int) -> bool:
    sides: dict[str, Any] = {}
    handles, seen = [], {}
    for label, url in (("province", province_url), ("alone", alone_url)):
        database, board, score, got = office_reads(as_app(url), code)
        handles.append(database)
        seen[label] = got
        board(), score()  # warm: engines, page cache, the scheme and preset files
        sides[f"board, {label}"] = board
        sides[f"score, {label}"] = score
    try:
        samples = sample(sides, n=samples_per_side)
    finally:
        for database in handles:
            database.dispose()
    if seen["province"] != seen["alone"]:
        raise SystemExit(f"the office reads differently in the province and alone: {seen}")
    print(f"office {code}: {seen['alone']['board_total']} open incidents on its board, "
          f"{seen['alone']['scored_incidents']} incidents scored over {seen['alone']['units']} units")
    show({k: v for k, v in samples.items()}, unit="ms", scale=1000)
    ok = True
    for what, per in (("board", f" ({BOARD_CALLS} data calls per sample)"), ("score", "")):
        value = ratio(samples, f"{what}, province", f"{what}, alone")
        met = value <= 1.3
        ok = ok and met
        report(f"{what} of one office: province / alone{per}", "≤ 1.3×", value, met)
    return ok


# --- 2. ingest ----------------------------------------------------------------------------------------
class Site:
    """Loopback feeds; each answer's ETag carries the feed's request serial ("poll-1", "poll-2" …) and
    no answer is a 304, so a second poll of a feed would store "poll-2" on its row."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies
        self.hits: Counter[str] = Counter()
        lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server names its handlers so
                body = site.bodies.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                with lock:
                    site.hits[self.path] += 1
                    serial = site.hits[self.path]
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", f'"poll-{serial}"')
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def articles() -> Iterator[dict[str, Any]]:
    for name in ("cec/events.jsonl", "cec/environment_pollution.jsonl", "negatives/news.jsonl",
                 "negatives/mixed_politics_society.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            article = json.loads(line) if line.strip() else {}
            if (article.get("title") or "").strip():
                yield article


def feed_bodies(specs: list[OfficeSpec], feeds: int) -> list[tuple[str, str, bytes]]:
    """(office code, path, body) per feed, the feeds dealt round the offices. An office's local news site
    reports the corpus's articles in its own words (its place in the lead, so two offices' items differ);
    its feeds overlap, so some items are seen by two feeds of the office."""
    from xml.sax.saxutils import escape

    pool = list(articles())
    out = []
    for k in range(feeds):
        spec = specs[k % len(specs)]
        local = k // len(specs)  # the office's k-th feed
        items = []
        for j in range(ITEMS_PER_FEED):
            n = (local * 13 + j + len(out) * 7) % len(pool) if j % 4 else (j * 31 + zlib.crc32(spec.code.encode()) % 97) % len(pool)
            a = pool[n]
            when = NOW + BEIJING_OFFSET - timedelta(hours=2 + j * 5 + local)
            link = f"https://news.{spec.code}.example.cn/{a['id']}.html"
            body = f"据{spec.place}融媒体中心消息，{a.get('text') or a['title']}"
            items.append(f"<item><guid>{escape(link)}</guid><title>{escape(a['title'])}</title><link>{escape(link)}</link>"
                         f"<description><![CDATA[<p>{body}</p>]]></description>"
                         f"<pubDate>{format_datetime(when.astimezone(UTC), usegmt=True)}</pubDate></item>")
        body_bytes = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{spec.place}融媒体 {local}</title>'
                      f'<link>https://news.{spec.code}.example.cn/</link>{"".join(items)}</channel></rss>').encode()
        out.append((spec.code, f"/{spec.code}/feed{local}.xml", body_bytes))
    return out


def ingest(owner_url: str, specs: list[OfficeSpec], feeds: int) -> bool:
    from yuqing.db.feeds import add_feed
    from yuqing.db.models import Feed, Item, ItemSighting
    from yuqing.db.offices import find_office
    from yuqing.db.service import Actor, Writer
    from yuqing.db.session import Database
    from yuqing.worker import run_workers

    bodies = feed_bodies(specs, feeds)
    site = Site({path: body for _, path, body in bodies})
    database = Database(owner_url)
    try:
        by_office: dict[str, list[str]] = {}
        for code, path, _ in bodies:
            by_office.setdefault(code, []).append(path)
        for code, paths in by_office.items():
            with database.session() as session:
                office = find_office(session, code).id
            with database.for_office(office).session() as session:
                writer = Writer(session, Actor("bench", office_id=office), now=datetime.now(UTC), preset=PRESET)
                for path in paths:
                    add_feed(writer, site.url(path), name=f"{code} {path}")
        started = time.perf_counter()
        result = run_workers(as_app(owner_url), PRESET, WORKERS)
        wall = time.perf_counter() - started
        with database.session(write=False) as session:
            polls = Counter(session.scalars(select(Feed.etag).where(Feed.kind == "feed")))
            never = session.scalar(select(func.count()).select_from(Feed).where(Feed.last_fetch_at.is_(None)))
            items = session.scalar(select(func.count()).select_from(Item))
            sightings = session.scalar(select(func.count()).select_from(ItemSighting))
            offices = session.scalar(select(func.count(func.distinct(Item.office_id))))
    finally:
        database.dispose()
        site.close()
    once = polls.get('"poll-1"', 0)
    print(f"{feeds} feeds of {len(by_office)} offices, {WORKERS} workers: wall {wall:.1f} s; {result.feeds} polls reported, "
          f"{len(result.errors)} errors, {result.died} workers died; {items} items stored ({sightings} sightings, "
          f"items in {offices} offices); polls per feed from the database: {dict(polls)}, never fetched: {never}; "
          f"server requests per feed: {dict(Counter(site.hits.values()))}")
    ok = once == feeds and never == 0 and not result.errors and result.died == 0 and len(site.hits) == feeds \
        and set(site.hits.values()) == {1}
    report(f"ingest, {WORKERS} workers: feeds polled exactly once (of {feeds})", f"= {feeds}", float(once), ok,
           detail=f"wall {wall:.1f} s, {items} items, {feeds * ITEMS_PER_FEED / wall:.0f} feed entries/s")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", default=os.environ.get(URL_ENV), help=f"PostgreSQL URL (or {URL_ENV})")
    parser.add_argument("--cities", type=int, default=len(CITIES), help="cities (9 offices each), default 18")
    parser.add_argument("--office", help="the office timed (default: the fifth county of the middle city)")
    parser.add_argument("--samples", type=int, default=5, help="samples per side (default 5; at least 3)")
    parser.add_argument("--feeds", type=int, default=FEEDS)
    parser.add_argument("--keep", action="store_true", help="keep the two databases")
    parser.add_argument("--explain", action="store_true", help="print the plans of the office's queries")
    args = parser.parse_args()
    if not args.url:
        return refuse(f"这个基准需要 PostgreSQL：请用参数或 {URL_ENV} 给出 postgresql+psycopg:// 数据库地址。")
    if make_url(args.url).get_backend_name() != "postgresql":
        return refuse(f"这个基准只在 PostgreSQL 上运行，给出的是 {make_url(args.url).get_backend_name()}。")
    if not 1 <= args.cities <= len(CITIES):
        print(f"--cities 须在 1 到 {len(CITIES)} 之间。", file=sys.stderr)
        return 2
    specs = province(args.cities)
    code = args.office or f"c{args.cities // 2:02d}k4"
    timed = next((s for s in specs if s.code == code), None)
    if timed is None:
        print(f"没有考核办 {code}（--office 取 c00、c00k0 … 这样的代码）。", file=sys.stderr)
        return 2
    chain = [s for s in specs if s.code in (timed.code, timed.parent)]
    province_url, alone_url = scratch(args.url, "province"), scratch(args.url, "alone")
    titles = load_titles()
    recreate(args.url, [province_url, alone_url])
    try:
        seconds, total = build(province_url, specs, {s.code for s in specs}, titles)
        print(f"province: {len(specs)} offices, {len(specs) * UNITS_PER_OFFICE} units, {total} incidents, built in {seconds:.1f} s")
        seconds, alone = build(alone_url, chain, {timed.code}, titles)
        print(f"alone: office {timed.code} ({timed.name}) and its parent's registry, {alone} incidents, built in {seconds:.1f} s")
        met = compare(province_url, alone_url, timed.code, args.samples)
        if args.explain or not met:
            print("plans of the office's queries in the province:")
            explain(province_url, timed.code)
        ingest(province_url, specs, args.feeds)
    finally:
        if not args.keep:
            recreate(args.url, [province_url, alone_url], drop_only=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
