"""Evidence files belong to their write: one that does not commit leaves no file behind."""

from pathlib import Path

import pytest

from tests.conftest import T0, hours
from yuqing.db.service import Actor, NewAction, NewIncident, Writer
from yuqing.db.session import Database


def admin_incident(database: Database, unit: str) -> int:
    with database.session() as s:
        return Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017").add_incident(
            NewIncident(title="某舆情", unit=unit, first_post_at=T0 - hours(1))).id


def test_evidence_file_is_removed_when_the_write_does_not_commit(database: Database, tmp_path: Path):
    incident = admin_incident(database, "灵宝市")
    evidence = tmp_path / "截图.png"
    evidence.write_bytes(b"unique evidence bytes 42")
    store = tmp_path / "evidence"
    with pytest.raises(RuntimeError), database.session() as s:
        w = Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017", evidence_dir=store)
        w.record_action(incident, NewAction(kind="response", at=T0, evidence_file=evidence))
        raise RuntimeError("the transaction fails after the file was copied")
    assert not any(p.is_file() for p in store.rglob("*"))
    with database.session() as s:
        w = Writer(s, Actor("office"), now=T0, preset="sanmenxia-2017", evidence_dir=store)
        sha = w.record_action(incident, NewAction(kind="response", at=T0, evidence_file=evidence)).evidence_sha256
    assert (store / sha[:2] / sha).read_bytes() == b"unique evidence bytes 42"
