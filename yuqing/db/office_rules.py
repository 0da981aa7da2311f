"""Each office's rules: the window preset its new incidents are stamped with, and its own scoring
schemes (第十七条: each county writes its own method modelled on the city's; 第八条: points change
yearly). An office without its own keeps the installation's (YUQING_PRESET, scoring/schemes/)."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.scheme import Scheme, available_schemes, load_scheme, parse_scheme, pick_scheme
from timeline.presets import load_preset
from yuqing.db.models import Office
from yuqing.db.models_scoring import OfficeScheme
from yuqing.errors import YuqingError

# An office's scheme files are small TOML texts; anything larger is not one.
SCHEME_FILE_LIMIT = 1_000_000


def office_preset(session: Session, default: str) -> str:
    """The preset the session's office stamps new incidents with: its own choice, else `default`."""
    from yuqing.db.offices import current_office_id

    office = session.get(Office, current_office_id(session))
    return office.preset if office is not None and office.preset else default


def set_office_preset(writer: Any, name: str) -> str:
    """The acting office's administrator chooses its preset (one of the preset files); incidents
    already logged keep the preset they were stamped with."""
    from yuqing.db.offices import current_office_id

    writer.require_admin("设置时限规则预设")
    name = (name or "").strip()
    load_preset(name)  # refuses a name no preset file has (E_PRESET_UNKNOWN) and a file that does not parse
    office = writer.session.get(Office, current_office_id(writer.session))
    before = office.preset
    office.preset = name
    writer.session.flush()
    writer.audit("office", office.code, "preset", {"preset": before}, {"preset": name})
    return name


@lru_cache(maxsize=128)
def _parsed(office_code: str, name: str, body: str, _digest: str) -> Scheme:
    return parse_scheme(Path(office_code) / f"{name}.toml", body.encode("utf-8"))


def office_schemes(session: Session) -> list[Scheme]:
    """The session's office's own schemes, by name."""
    from yuqing.db.offices import current_office_id

    office = session.get(Office, current_office_id(session))
    assert office is not None
    rows = session.execute(select(OfficeScheme.name, OfficeScheme.body, OfficeScheme.sha256)
                           .where(OfficeScheme.office_id == office.id).order_by(OfficeScheme.name)).all()
    return [_parsed(office.code, name, body, digest) for name, body, digest in rows]


def office_scheme(session: Session, year: int) -> Scheme:
    """The scheme the session's office scores `year` in: its own scheme for that year when it has
    one, else the installation's (scoring/schemes/)."""
    own = [s for s in office_schemes(session) if s.applies_to(year)]
    if own:
        return pick_scheme(year, own, "office_schemes")
    return load_scheme(year)


def add_office_scheme(writer: Any, path: Path) -> tuple[Scheme, bool]:
    """Load a scheme file into the acting office (validated as the shipped ones are; the file's
    name is the scheme's). Replaces the office's scheme of that name; True when it replaced one."""
    from yuqing.db.offices import current_office_id

    writer.require_admin("载入考核方案")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YuqingError("E_DATA_FILE", path=str(path), problem=exc.strerror or str(exc)) from exc
    if len(raw) > SCHEME_FILE_LIMIT:
        raise YuqingError("E_DATA_FILE", path=str(path), problem=f"文件超过 {SCHEME_FILE_LIMIT // 1000} KB")
    scheme = parse_scheme(path, raw)
    if scheme.name in available_schemes():
        raise YuqingError("E_SCHEME_NAME_TAKEN", name=scheme.name)
    session = writer.session
    office_id = current_office_id(session)
    row = session.scalar(select(OfficeScheme).where(OfficeScheme.office_id == office_id, OfficeScheme.name == scheme.name))
    digest = hashlib.sha256(raw).hexdigest()
    replaced = row is not None
    before = {"sha256": row.sha256} if row is not None else None
    if row is None:
        row = OfficeScheme(office_id=office_id, name=scheme.name, created_at=writer.now, created_by=writer.actor.name)
        session.add(row)
    row.body = raw.decode("utf-8")
    row.sha256 = digest
    row.created_at = writer.now
    row.created_by = writer.actor.name
    session.flush()
    # Two of the office's schemes starting the same year would leave a year without an answer. Another
    # scheme can clash with this one only by starting in its first year too and applying then, so that
    # one year is the one to check.
    first = scheme.first_year
    pick_scheme(first, [s for s in office_schemes(session) if s.applies_to(first)], str(path))
    writer.audit("office_scheme", scheme.name, "replace" if replaced else "create", before,
                 {"sha256": digest, "first_year": scheme.first_year, "last_year": scheme.last_year})
    return scheme, replaced
