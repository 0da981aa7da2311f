"""Each office's rules: the window preset its new incidents are stamped with, and its own scoring
schemes (第十七条: each county writes its own method modelled on the city's; 第八条: points change
yearly). An office without its own keeps the installation's (YUQING_PRESET, scoring/schemes/)."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from scoring.scheme import Scheme, available_schemes, load_scheme, parse_scheme, pick_scheme
from timeline.presets import (
    OFFICE_MARK,
    Preset,
    available_presets,
    load_preset,
    office_preset_from_text,
    parse_preset_text,
)
from yuqing.db.models import Office
from yuqing.db.models_scoring import OfficePreset, OfficeScheme
from yuqing.errors import YuqingError

# An office's scheme files are small TOML texts; anything larger is not one.
SCHEME_FILE_LIMIT = 1_000_000
# A preset file is smaller still (the shipped ones are about 2 KB).
PRESET_FILE_LIMIT = 100_000
# incidents.preset and offices.preset hold a preset's full name, `<office code>:<file name>`.
PRESET_NAME_LIMIT = 40


def _read_bounded(path: Path, limit: int) -> bytes:
    """An office's rules file, refused (a sentence naming it) when unreadable or over `limit` bytes;
    never more than limit + 1 bytes are read."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise YuqingError("E_DATA_FILE", path=str(path), problem=exc.strerror or str(exc)) from exc
    if len(raw) > limit:
        raise YuqingError("E_DATA_FILE", path=str(path), problem=f"文件超过 {limit // 1000} KB")
    return raw


def office_preset(session: Session, default: str) -> str:
    """The preset the session's office stamps new incidents with: its own choice, else `default`."""
    from yuqing.db.offices import current_office_id

    office = session.get(Office, current_office_id(session))
    return office.preset if office is not None and office.preset else default


def set_office_preset(writer: Any, name: str) -> str:
    """The acting office's administrator chooses its preset (a shipped one, or one the office loaded);
    incidents already logged keep the preset they were stamped with."""
    from yuqing.db.offices import current_office_id

    writer.require_admin("设置时限规则预设")
    name = (name or "").strip()
    office = writer.session.get(Office, current_office_id(writer.session))
    if OFFICE_MARK in name:
        # One of the office's own (another office's rules are its own: a county does not clock its
        # incidents by another's), read in this transaction (it may have just been loaded).
        body = writer.session.scalar(select(OfficePreset.body).where(OfficePreset.name == name,
                                                                     OfficePreset.office_id == office.id))
        if body is None:
            raise YuqingError("E_PRESET_UNKNOWN", value=name, choices="、".join(preset_choices(writer.session)))
        office_preset_from_text(name, body)
    else:
        load_preset(name)  # refuses a name no preset file has (E_PRESET_UNKNOWN) and a file that does not parse
    before = office.preset
    office.preset = name
    writer.session.flush()
    writer.audit("office", office.code, "preset", {"preset": before}, {"preset": name})
    return name


def add_office_preset(writer: Any, path: Path) -> tuple[Preset, bool]:
    """Load a preset file into the acting office (validated as the shipped ones are) and choose it
    for the office's new incidents. Named `<office code>:<file name>`; a name once stored keeps its
    text (incidents are clocked by it): loading the same text again only chooses it, a different
    text under that name is refused. True when the preset was new."""
    from yuqing.db.offices import current_office_id

    writer.require_admin("载入时限规则预设")
    raw = _read_bounded(path, PRESET_FILE_LIMIT)
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YuqingError("E_DATA_FILE", path=str(path), problem="不是 UTF-8 编码的文本") from exc
    # Every problem names the file, the key and what is wrong; TOML admits no NUL or other control
    # character but tab anywhere (strings and comments included), so what is stored has none.
    parse_preset_text(path, body)
    session = writer.session
    office = session.get(Office, current_office_id(session))
    assert office is not None
    name = f"{office.code}{OFFICE_MARK}{path.stem}"
    if len(name) > PRESET_NAME_LIMIT:
        raise YuqingError("E_OFFICE_PRESET_NAME", name=name, limit=PRESET_NAME_LIMIT)
    digest = hashlib.sha256(raw).hexdigest()
    row = session.scalar(select(OfficePreset).where(OfficePreset.name == name))
    if row is not None and row.sha256 != digest:
        raise YuqingError("E_OFFICE_PRESET_FIXED", name=name)
    new = row is None
    if new:
        session.add(OfficePreset(office_id=office.id, name=name, body=body, sha256=digest, created_at=writer.now,
                                 created_by=writer.actor.name))
        session.flush()
        writer.audit("office_preset", name, "create", None, {"sha256": digest})
    set_office_preset(writer, name)
    return office_preset_from_text(name, body), new


def own_presets(session: Session) -> list[str]:
    """The full names of the presets the session's office loaded."""
    from yuqing.db.offices import current_office_id

    return list(session.scalars(select(OfficePreset.name).where(OfficePreset.office_id == current_office_id(session))
                                .order_by(OfficePreset.name)))


def preset_choices(session: Session) -> list[str]:
    """What the session's office may choose: the shipped presets and its own."""
    return available_presets() + own_presets(session)


def preset_lookup(engine: Engine, cache: dict[str, str]) -> Any:
    """The reader of office presets for timeline.presets.load_preset: the stored text by full name,
    read in a transaction of its own (every office's: an incident counted in a parent office's view
    keeps the clock of the office that logged it) and kept in `cache` — a stored preset never
    changes, so a name once read is never read again."""

    def lookup(name: str) -> str | None:
        if name in cache:
            return cache[name]
        with engine.connect().execution_options(yuqing_read_only=True) as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT set_config('yuqing.office', '*', true)"))
            body = connection.execute(select(OfficePreset.body).where(OfficePreset.name == name)).scalar()
            connection.rollback()
        if body is not None:
            cache[name] = body
        return body

    return lookup


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
    raw = _read_bounded(path, SCHEME_FILE_LIMIT)
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
