"""`audit verify` on a year written through the write service: the chain alone (what verify did before
issue 16's state check) against the chain plus every incident and action row compared with its trail.

    python bench/audit_verify_speed.py [N]      # N incidents (default 10 000), 2 actions each, SQLite

Built with Writer.add_incident / record_action (so every row has its audit trail and verify is clean),
signed with a fresh key. Prints min/median/max of ≥3 interleaved samples per side, the ratio of medians,
and the peak Python memory (tracemalloc) of the state check alone, which is bounded by the page size.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ratio, report, sample, show  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

from classify.units import load_units_file  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db import audit, auditkey, migrate  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.auditstate import verify_state  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.service import Actor, NewAction, NewIncident, Writer  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.db.session import Database  # noqa: E402 - imported after the sys.path line so the script runs from a checkout
from yuqing.settings import UNITS_FILE  # noqa: E402 - imported after the sys.path line so the script runs from a checkout

UNITS = ["灵宝市", "渑池县", "卢氏县", "陕州区", "市教育局", "市城管局"]
NOW = datetime(2026, 11, 30, 4, tzinfo=UTC)


def build(database: Database, n: int) -> None:
    migrate.upgrade(database.engine)
    _, refs = load_units_file(UNITS_FILE)
    with database.session() as session:
        Writer(session, Actor("bench"), now=NOW, preset="sanmenxia-2017").sync_units(refs)
    done = 0
    while done < n:
        with database.session() as session:
            writer = Writer(session, Actor("bench"), now=NOW, preset="sanmenxia-2017")
            for i in range(done, min(n, done + 500)):
                first = NOW - timedelta(hours=40, minutes=i % 300)
                incident = writer.add_incident(NewIncident(
                    title=f"模拟舆情 {i}", unit=UNITS[i % len(UNITS)], first_post_at=first,
                    level="一般", sudden=bool(i % 2), category="事故灾难", classify=False))
                writer.record_action(incident.id, NewAction(kind="response", at=first + timedelta(hours=1),
                                                            channels=("微博",), note="已回应"))
                writer.record_action(incident.id, NewAction(kind="release", at=first + timedelta(hours=3),
                                                            channels=("政府网站",)))
                if i % 5 == 0:
                    writer.close(incident.id, at=first + timedelta(hours=20))
            done = min(n, done + 500)


def main(n: int = 10_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "audit.key"
        os.environ["YUQING_AUDIT_KEY_FILE"] = str(key_file)
        auditkey.create_key(key_file)
        key = auditkey.load_key(key_file)
        database = Database(f"sqlite:///{tmp}/bench.sqlite3")
        try:
            t0 = time.perf_counter()
            build(database, n)
            print(f"built {n} incidents, {2 * n} actions through the write service in {time.perf_counter() - t0:.1f} s")

            def chain() -> None:
                with database.session() as session:
                    assert audit.verify(session, [], key=key).ok

            def chain_and_state() -> None:
                with database.session() as session:
                    assert audit.verify(session, [], key=key).ok
                    assert verify_state(session).ok

            samples = sample({"chain and rows": chain_and_state, "chain only (before)": chain}, n=3)
            show(samples)
            r = ratio(samples, "chain and rows", "chain only (before)")
            tracemalloc.start()
            with database.session() as session:
                checked = verify_state(session).checked
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(f"  state check: {checked} rows, peak Python memory {peak:.1f} MiB")
            report(f"audit verify on {n} incidents: with row check / chain only", "≤ 3", r, r <= 3,
                   detail=f"state-check peak {peak:.1f} MiB")
        finally:
            database.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
