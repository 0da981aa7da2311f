"""Dashboard logins: sessions behind a cookie token (only its SHA-256 stored) and the growing delay
after repeated failures from one client address for one account name.

Both live in the database, so every replica of `yuqing serve` resolves the same sessions and
counts the same failures.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yuqing.db import accounts
from yuqing.db.models import LoginFailures, LoginSession, User
from yuqing.db.service import Actor
from yuqing.errors import YuqingError

TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 256 bits, 43 characters
# Failures from one address for one account name before the first delay; the delay then doubles
# from FIRST_DELAY with every further failure, up to MAX_DELAY. A success clears the pair.
FREE_FAILURES = 5
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
# A pair with no failure for this long is forgotten (its count starts again), so guesses at random
# names do not pile up rows.
FORGET_AFTER = timedelta(days=1)
# last_seen_at is written at most this often, so that every page run is not a write.
TOUCH_EVERY = timedelta(seconds=30)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _client(address: str | None) -> str:
    return (address or "unknown")[:64]


def _account(name: str | None) -> str:
    return (name or "").strip()[:60]


def delay_after(failures: int) -> timedelta | None:
    """The wait imposed after `failures` failures in a row: none for the first FREE_FAILURES - 1,
    then 1 s, 2 s, 4 s … capped at MAX_DELAY."""
    if failures < FREE_FAILURES:
        return None
    step = failures - FREE_FAILURES
    return MAX_DELAY if step >= 20 else min(FIRST_DELAY * (2 ** step), MAX_DELAY)


def _failures_row(session: Session, account: str, client: str) -> LoginFailures | None:
    return session.scalar(select(LoginFailures).where(LoginFailures.account == account,
                                                      LoginFailures.client == client))


def _record_failure(session: Session, account: str, client: str, now: datetime) -> None:
    session.execute(delete(LoginFailures).where(LoginFailures.last_failed_at < now - FORGET_AFTER,
                                                or_(LoginFailures.blocked_until.is_(None),
                                                    LoginFailures.blocked_until < now)))
    row = _failures_row(session, account, client)
    if row is None:
        try:
            with session.begin_nested():
                session.add(LoginFailures(account=account, client=client, failures=0, last_failed_at=now))
        except IntegrityError:
            pass  # another replica inserted the pair first: count on its row
        row = _failures_row(session, account, client)
        assert row is not None
    row.failures = (row.failures or 0) + 1
    row.last_failed_at = now
    wait = delay_after(row.failures)
    row.blocked_until = now + wait if wait is not None else None
    session.flush()


def check_login(session: Session, name: str, password: str, *, client: str | None, now: datetime) -> Actor | YuqingError:
    """Check one login attempt from `client` and record its outcome in `session`.

    Returns the refusal instead of raising it, so that the failure count is committed with it. A
    pair (account name, client address) that is waiting out its delay is refused before any password
    is checked; an unknown name is verified against a dummy hash and counted like a wrong password,
    so neither the time nor the answer tells which names exist.
    """
    account, address = _account(name), _client(client)
    row = _failures_row(session, account, address)
    if row is not None and row.blocked_until is not None and row.blocked_until > now:
        seconds = max(1, int((row.blocked_until - now).total_seconds() + 0.999))
        return YuqingError("E_LOGIN_WAIT", seconds=seconds)
    user = session.scalar(select(User).where(User.name == account)) if account else None
    try:
        accounts.verify_password(user.password_hash if user is not None else None, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        _record_failure(session, account, address, now)
        return YuqingError("E_LOGIN_FAILED")
    assert user is not None
    if not user.active:
        return YuqingError("E_ACCOUNT_DISABLED", name=user.name)
    if row is not None:
        session.delete(row)
    accounts.rehash_if_needed(user, password)
    user.failed_logins = 0
    user.last_login_at = now
    session.flush()
    return Actor(user.name, user.role, user.unit.code if user.unit else None, office_id=user.office_id)


def open_session(session: Session, name: str, *, client: str | None, now: datetime) -> str:
    """Start a session for account `name`; returns the token for the cookie (never stored)."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise YuqingError("E_ACCOUNT_UNKNOWN", name=name)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(LoginSession(user_id=user.id, token_hash=digest(token), created_at=now, last_seen_at=now,
                             client=_client(client)))
    session.flush()
    return token


def login(session: Session, name: str, password: str, *, client: str | None, now: datetime) -> str | YuqingError:
    """A login attempt: the new session's token, or the refusal (the failure is recorded either way)."""
    outcome = check_login(session, name, password, client=client, now=now)
    if isinstance(outcome, YuqingError):
        return outcome
    return open_session(session, outcome.name, client=client, now=now)


@dataclass(frozen=True)
class Resolved:
    """What a session token stands for: the actor, or None with the reason code."""

    actor: Actor | None
    reason: str | None = None


def resolve(session: Session, token: str, *, now: datetime, idle: timedelta, lifetime: timedelta,
            touch: bool) -> Resolved:
    """The actor behind a session token, checked against the idle timeout and absolute lifetime.

    `touch` counts this request as activity (a page run; the board's own refresh does not). A
    session past either limit is revoked here, so it cannot come back.
    """
    if not token:
        return Resolved(None)
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == digest(token)))
    if row is None or row.revoked_at is not None:
        return Resolved(None, "E_SESSION_ENDED" if row is not None else None)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        row.revoked_at = now
        return Resolved(None, "E_SESSION_ENDED")
    if now - row.last_seen_at > idle or now - row.created_at > lifetime:
        row.revoked_at = now
        return Resolved(None, "E_SESSION_EXPIRED")
    if touch and now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return Resolved(Actor(user.name, user.role, user.unit.code if user.unit else None, office_id=user.office_id))


def needs_write(session: Session, token: str, *, now: datetime, idle: timedelta, lifetime: timedelta,
                touch: bool) -> bool:
    """Whether resolving `token` would change its row (expire or touch it): the read path first,
    so that most page runs take no write lock."""
    row = session.scalar(select(LoginSession).where(LoginSession.token_hash == digest(token)))
    if row is None or row.revoked_at is not None:
        return False
    user = session.get(User, row.user_id)
    return (user is None or not user.active or now - row.last_seen_at > idle or now - row.created_at > lifetime
            or (touch and now - row.last_seen_at >= TOUCH_EVERY))


def end_session(session: Session, token: str, *, now: datetime) -> None:
    """Logout: the session behind `token` is revoked (nothing happens for an unknown token)."""
    session.execute(update(LoginSession).where(LoginSession.token_hash == digest(token or ""),
                                               LoginSession.revoked_at.is_(None)).values(revoked_at=now))


def end_sessions_of(session: Session, name: str, *, now: datetime, keep: str | None = None) -> int:
    """Revoke every open session of account `name` (password change, disable); `keep` spares the
    session of the token that made the change. Returns how many were revoked."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        return 0
    query = update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    if keep:
        query = query.where(LoginSession.token_hash != digest(keep))
    return int(session.execute(query.values(revoked_at=now)).rowcount or 0)  # type: ignore[attr-defined]  # CursorResult has rowcount
