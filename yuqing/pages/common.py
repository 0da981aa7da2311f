"""What every page shares: the cached database, short-lived cached reads, and the one way to write.

Reads are cached per argument for a few seconds (`st.cache_data`) and dropped after any write made
through `write()`; the engine is the only cached resource. Pages never open sessions themselves.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import streamlit as st

from timeline.clock import BEIJING, to_beijing
from yuqing.db import audit, incidents, triage
from yuqing.db.accounts import UserView, list_users
from yuqing.db.audit import AuditView
from yuqing.db.feeds import FeedView, list_feeds
from yuqing.db.incidents import BoardPage, IncidentView, board_page, get_incident
from yuqing.db.service import Actor, Writer
from yuqing.db.session import Database
from yuqing.db.units import UnitView, list_units
from yuqing.errors import YuqingError
from yuqing.messages import plain as plain  # re-exported: pages call common.plain
from yuqing.settings import Config, load_config
from yuqing.vocabulary import render

T = TypeVar("T")

_opened: list[Database] = []

PAGE_BOARD = "yuqing/pages/board.py"
PAGE_NEW = "yuqing/pages/new_incident.py"
PAGE_INCIDENT = "yuqing/pages/incident.py"
PAGE_TRIAGE = "yuqing/pages/triage.py"
PAGE_SCORES = "yuqing/pages/scores.py"
PAGE_FEEDS = "yuqing/pages/feeds.py"
PAGE_REFERRALS = "yuqing/pages/referrals.py"
PAGE_RULES = "yuqing/pages/rules.py"


def text(code: str, **params: Any) -> str:
    """A user-facing sentence from messages.py."""
    return render(code, **params)


def config() -> Config:
    return load_config()


@st.cache_resource
def _database() -> Database:
    db = Database(load_config().database_url)
    _opened.append(db)
    db.require_current_schema()
    return db


SCREEN_OFFICE = "screen_office"  # the office of the wall display a `display=` URL opened


def office_key() -> tuple[int | None, bool]:
    """(office, read-only) of this browser session: the signed-in account's office, or the office
    under it that its administrator chose to read (`office_view`); (None, False) before sign-in."""
    who = st.session_state.get("actor")
    if who is None:
        return st.session_state.get(SCREEN_OFFICE), False
    viewing = st.session_state.get("office_view")
    if viewing is not None and viewing != who.office_id and who.role == "admin":
        return int(viewing), True
    return who.office_id, False


def database() -> Database:
    """The database as the signed-in account's office sees it (yuqing.db.offices)."""
    office, read_only = office_key()
    base = _database()
    return base if office is None else base.for_office(office, read_only=read_only)


def office_cached(**options: Any) -> Callable[[Callable[..., T]], Any]:
    """`st.cache_data` keyed by the session's office as well as the arguments, so that one office's
    cached page is never served to another."""

    def wrap(fn: Callable[..., T]) -> Any:
        def keyed(office: tuple[int | None, bool], *args: Any, **kwargs: Any) -> T:
            return fn(*args, **kwargs)

        keyed.__qualname__ = keyed.__name__ = fn.__qualname__  # one cache per wrapped function
        keyed.__module__ = fn.__module__
        cached = st.cache_data(**options)(keyed)

        def call(*args: Any, **kwargs: Any) -> T:
            return cached(office_key(), *args, **kwargs)

        call.clear = cached.clear  # type: ignore[attr-defined]
        call.__doc__ = fn.__doc__
        return call

    return wrap


def now() -> datetime:
    return datetime.now(UTC)


def wall_now() -> datetime:
    """Beijing wall time now, naive: the default of date-time inputs (which carry no zone)."""
    return to_beijing(now()).replace(tzinfo=None, second=0, microsecond=0)


def from_wall(value: datetime | None) -> datetime | None:
    """A date-time input's naive value read as Beijing time, converted to UTC (DESIGN.md §5)."""
    if value is None:
        return None
    return value.replace(tzinfo=BEIJING).astimezone(UTC)


def guard() -> bool:
    """Show a Chinese sentence instead of a traceback when the database is not usable."""
    try:
        database()
    except YuqingError as exc:
        st.error(refusal(exc))
        st.caption(text("DASH_INIT_HINT"))
        return False
    return True


def actor() -> Actor:
    return st.session_state["actor"]


# --- what the signed-in role is offered (the write service refuses the rest anyway) -------------
def is_admin(who: Actor) -> bool:
    return who.role == "admin"


def may_write(who: Actor) -> bool:
    return who.role in ("admin", "staff")


def may_act_on(who: Actor, unit_codes: set[str] | frozenset[str]) -> bool:
    """Admins act on every unit's records, staff only on their own unit's, viewers on none."""
    if who.role == "admin":
        return True
    return who.role == "staff" and who.unit_code in unit_codes


# --- cached reads --------------------------------------------------------------------------------
@office_cached(ttl=5, max_entries=32, show_spinner=False)
def open_incidents(
    unit_code: str | None, levels: tuple[str, ...] = (), tones: tuple[str, ...] = (), *, limit: int = 20,
    page: int = 1, wrap: bool = False,
) -> BoardPage:
    """One page of the board (what it shows, not every open incident), keyed by its filters. A page
    past the last is the last one, or with `wrap` (the wall display) counts round again."""

    def offset(total: int) -> int:
        pages = max(1, -(-total // limit))
        number = (page - 1) % pages + 1 if wrap else min(max(1, page), pages)
        return (number - 1) * limit

    return database().read(
        board_page, now(), unit_code=unit_code, levels=levels, tones=tones, limit=limit, offset=offset)


@office_cached(ttl=5, max_entries=32, show_spinner=False)
def incident(incident_id: int) -> IncidentView | None:
    return database().read(get_incident, incident_id)


@office_cached(ttl=5, max_entries=32, show_spinner=False)
def history(incident_id: int) -> list[AuditView]:
    return database().read(audit.incident_history, incident_id)


CHOICES_SHOWN = 50


@office_cached(ttl=10, max_entries=32, show_spinner=False)
def incident_choices(search: str = "", open_only: bool = False) -> incidents.ChoicePage:
    """The newest CHOICES_SHOWN incidents matching a search, with the count of all matches."""
    return database().read(incidents.incident_choices, search, open_only=open_only, limit=CHOICES_SHOWN)


def incident_search(key: str, *, open_only: bool = False, keep: int | None = None) -> dict[int, incidents.IncidentChoice]:
    """A search box for an incident pick list: the choices it finds (the chosen one `keep` stays among
    them), and below it how many match when that is more than the list holds."""
    search = st.text_input(text("DASH_CHOICES_SEARCH"), key=f"{key}_search", placeholder=text("DASH_CHOICES_SEARCH_HINT"),
                           label_visibility="collapsed")
    found = incident_choices(search or "", open_only)
    choices = {c.id: c for c in found.choices}
    if keep is not None and keep not in choices:
        kept = incident_choices(str(keep), open_only)
        choices.update({c.id: c for c in kept.choices if c.id == keep})
    if found.more_than:
        st.caption(text("DASH_CHOICES_MORE_THAN", total=found.total, shown=len(found.choices)))
    elif found.total > len(found.choices):
        st.caption(text("DASH_CHOICES_MORE", total=found.total, shown=len(found.choices)))
    elif search and not found.total:
        st.caption(text("DASH_CHOICES_NONE", search=search))
    return choices


@office_cached(ttl=300, show_spinner=False)
def preset_title(name: str) -> str:
    """A window preset's title (三门峡市…), as the office's database resolves it; its name if the
    preset is gone (an office's own file removed since the incident was logged). Kept like the
    units: an office's own preset is read from the database and parsed, not on every view."""
    from timeline.presets import load_preset

    try:
        return database().read(lambda _session: load_preset(name).title)
    except YuqingError:
        return name


@office_cached(ttl=300, show_spinner=False)
def units() -> list[UnitView]:
    return database().read(list_units)


@office_cached(ttl=10, show_spinner=False)
def feeds() -> list[FeedView]:
    return database().read(list_feeds, now=now())


# Groups on one page of 待研判: each card is a dozen widgets, so a page costs what it shows.
TRIAGE_PAGE_GROUPS = 20


@office_cached(ttl=5, max_entries=16, show_spinner=False)
def triage_groups(state: str = "pending", *, limit: int = 50, page: int = 1) -> triage.GroupPage:
    """One page of the queue's groups (what the page shows, not the whole queue), keyed by state and
    page; a page past the last is the last one."""

    def offset(total: int) -> int:
        return (min(max(1, page), max(1, -(-total // limit))) - 1) * limit

    counts = triage_counts()[state]  # the tabs' counts (one aggregate query), not counted again per tab
    return database().read(triage.group_page, state=state, limit=limit, offset=offset, now=now(), counts=counts)


@office_cached(ttl=5, max_entries=4, show_spinner=False)
def triage_counts() -> dict[str, triage.QueueCount]:
    """Items and groups in each state, over the whole queue (one aggregate query, kept for later
    views of an unchanged queue: yuqing.db.triage.queue_counts)."""
    return database().read(triage.queue_counts, now=now())


@office_cached(ttl=30, show_spinner=False)
def users() -> list[UserView]:
    return database().read(list_users)


@office_cached(ttl=600, show_spinner=False, max_entries=500)
def suggestion(title: str, summary: str) -> dict[str, Any]:
    """What the classifier would fill in for this text (same call the write service makes)."""
    from yuqing.db.classifying import classifier_for, classify_text
    from yuqing.db.service import unit_refs

    refs = database().read(unit_refs)
    return classify_text(classifier_for(refs), load_config().preset, title, summary)


CACHED_READS: tuple[Any, ...] = (
    open_incidents, incident, history, incident_choices, units, feeds, triage_groups, triage_counts, users,
    preset_title,
)
EXTRA_READS: list[Any] = []  # cached reads registered by other modules (scoring), dropped with the rest


def refresh() -> None:
    """Drop every cached read (after a write: a new incident changes the board, triage, scores …)."""
    for cached in (*CACHED_READS, *EXTRA_READS):
        cached.clear()


def reset() -> None:
    """Drop cached reads and close every engine this process opened (tests, settings changes)."""
    refresh()
    suggestion.clear()
    _database.clear()
    while _opened:
        _opened.pop().dispose()


# --- the one way pages write ----------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None = None
    error: str | None = None
    code: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def make_writer(session: Any, who: Actor, *, classify: bool = False) -> Writer:
    """The writer the CLI builds (cli.Context.writer), for the signed-in account."""
    cfg = load_config()
    suggest = None
    if classify:
        from yuqing.db.classifying import classifier_for, suggester
        from yuqing.db.service import unit_refs

        suggest = suggester(classifier_for(unit_refs(session)), cfg.preset)
    return Writer(session, who, now=now(), preset=cfg.preset, evidence_dir=cfg.evidence_dir, classify=suggest)


def refusal(exc: YuqingError) -> str:
    """A refusal's sentence as a page shows it: where the command line's names an option (--reason,
    --unit …), the page's names the field to fill or the choice to make (vocabulary.SCREEN)."""
    from yuqing.vocabulary import for_people

    return for_people(exc.code, exc.params, exc.message)


def write(change: Callable[[Writer], T], *, classify: bool = False) -> Outcome[T]:
    """Run one change in one transaction as the signed-in account. A refusal comes back as its
    sentence (never a traceback); on success every cached read is dropped."""
    try:
        value = database().run(lambda session: change(make_writer(session, actor(), classify=classify)))
    except YuqingError as exc:
        return Outcome(error=refusal(exc), code=exc.code)
    refresh()
    return Outcome(value=value)


def write_batches(work: Callable[[Callable[[Callable[[Writer], Any]], Any]], T]) -> Outcome[T]:
    """Run a change made of several transactions (a batched import): `work` gets a runner that
    runs one step in its own transaction as the signed-in account. A refusal comes back as its
    sentence; the caches are dropped afterwards either way (earlier steps are committed)."""
    def run(change: Callable[[Writer], Any]) -> Any:
        return database().run(lambda session: change(make_writer(session, actor())))

    try:
        value = work(run)
    except YuqingError as exc:
        refresh()
        return Outcome(error=refusal(exc), code=exc.code)
    refresh()
    return Outcome(value=value)


@contextmanager
def uploaded_file(upload: Any) -> Iterator[Path | None]:
    """An upload written to a temporary file under its own name (the services read paths)."""
    if upload is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="yuqing-upload-") as folder:
        name = Path(upload.name).name or "upload"
        path = Path(folder) / name
        path.write_bytes(upload.getvalue())
        yield path


def show_outcome(key: str) -> None:
    """Show (once) the result a write callback left under `key` in the session state."""
    result = st.session_state.pop(key, None)
    if result is None:
        return
    kind, message = result
    (st.success if kind == "ok" else st.error)(message)
