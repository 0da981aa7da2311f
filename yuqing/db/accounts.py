"""Accounts: argon2 password hashes, roles scoped to a unit. Audited writes (logins: yuqing.db.logins)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.db.models import User
from yuqing.db.service import Actor, Writer
from yuqing.errors import YuqingError
from yuqing.vocabulary import LABELS

ROLES = ("admin", "staff", "viewer")
ROLE_NAMES = LABELS["ROLE"]
MIN_PASSWORD = 8

_hasher = PasswordHasher()
# Verified against when the name is unknown, so that a wrong name costs the same argon2 work as a wrong
# password and the answer's timing does not tell which account names exist.
_DUMMY_HASH = _hasher.hash("no such account")


@dataclass(frozen=True)
class UserView:
    name: str
    role: str
    unit_code: str | None
    unit_name: str | None
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None


def _view(user: User) -> UserView:
    return UserView(
        user.name,
        user.role,
        user.unit.code if user.unit else None,
        user.unit.name if user.unit else None,
        user.active,
        user.locked_until,
        user.last_login_at,
    )


def check_password(password: str) -> str:
    if password is None or len(password) < MIN_PASSWORD:
        raise YuqingError("E_PASSWORD_WEAK", minimum=MIN_PASSWORD)
    return password


def actor_for(session: Session, name: str) -> Actor:
    """The account behind `--as NAME` or a proxy header: refused if unknown or disabled."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise YuqingError("E_ACCOUNT_UNKNOWN", name=name)
    if not user.active:
        raise YuqingError("E_ACCOUNT_DISABLED", name=name)
    return Actor(user.name, user.role, user.unit.code if user.unit else None, office_id=user.office_id)


def require_admin_account(actor: Actor, what: str) -> None:
    """Refuse anyone but an administrator (for commands that do not go through the write service)."""
    if actor.role != "admin":
        from yuqing.db.service import ROLE_LABELS

        raise YuqingError("E_FORBIDDEN", role=ROLE_LABELS.get(actor.role, actor.role), what=what)


def add_user(writer: Writer, name: str, *, role: str, unit: str | None, password: str,
             office: str | None = None) -> UserView:
    """A new account of `office` (the session's office when None); an administrator adds accounts to
    their own office and the offices under it, and a staff account's unit is one of that office's."""
    from yuqing.db.offices import current_office_id, find_office

    writer.require_admin("管理账号")
    office_id = find_office(writer.session, office).id if office is not None else current_office_id(writer.session)
    writer.require_office(office_id, "管理账号")
    name = (name or "").strip()
    if not name or len(name) > 60 or any(c.isspace() for c in name):
        raise YuqingError("E_ACCOUNT_NAME", name=name)
    if role not in ROLES:
        raise YuqingError("E_ROLE", value=role)
    session = writer.session
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise YuqingError("E_ACCOUNT_EXISTS", name=name)
    unit_row = None
    if role == "staff":
        if not unit:
            raise YuqingError("E_STAFF_NEEDS_UNIT")
        unit_row = writer.unit_in_office(unit, office_id)
    elif unit:
        raise YuqingError("E_UNIT_ONLY_FOR_STAFF")
    user = User(
        name=name,
        role=role,
        office_id=office_id,
        unit=unit_row,
        password_hash=_hasher.hash(check_password(password)),
        active=True,
        failed_logins=0,
        created_at=writer.now,
    )
    session.add(user)
    session.flush()
    writer.audit("user", name, "create", None, {"role": role, "unit": unit_row.code if unit_row else None})
    return _view(user)


def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise YuqingError("E_ACCOUNT_UNKNOWN", name=name)
    return user


def set_password(writer: Writer, name: str, password: str, *, keep_session: str | None = None) -> int:
    """Change a password and revoke the account's sessions (all but `keep_session`, the token of the
    session that made the change). Returns how many sessions were revoked."""
    from yuqing.db.logins import end_sessions_of

    if writer.actor.name != name:
        writer.require_admin("修改他人密码")
    user = _user(writer.session, name)
    user.password_hash = _hasher.hash(check_password(password))
    user.failed_logins = 0
    user.locked_until = None
    writer.session.flush()
    writer.audit("user", name, "password", None, {"password": "changed"})
    return end_sessions_of(writer.session, name, now=writer.now, keep=keep_session)


def change_own_password(writer: Writer, current: str, password: str, *, keep_session: str | None) -> int:
    """The signed-in account changes its own password, proving the current one first; every other
    session of the account ends (the one making the change, `keep_session`, stays)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    user = _user(writer.session, writer.actor.name)
    try:
        verify_password(user.password_hash, current or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise YuqingError("E_PASSWORD_CURRENT") from None
    return set_password(writer, user.name, password, keep_session=keep_session)


def disable_user(writer: Writer, name: str) -> None:
    writer.require_admin("停用账号")
    user = _user(writer.session, name)
    if not user.active:
        raise YuqingError("E_ACCOUNT_DISABLED", name=name)
    user.active = False
    writer.session.flush()
    writer.audit("user", name, "disable", {"active": True}, {"active": False})
    from yuqing.db.logins import end_sessions_of

    end_sessions_of(writer.session, name, now=writer.now)


def list_users(session: Session) -> list[UserView]:
    """The accounts of the session's office."""
    from yuqing.db.offices import users_of

    return [_view(u) for u in session.scalars(select(User).where(users_of(session)).order_by(User.id))]


def verify_password(password_hash: str | None, password: str) -> None:
    """Raise argon2's mismatch unless `password` matches; with no hash (an unknown name) a dummy hash
    is verified, so that a wrong name costs the same argon2 work as a wrong password."""
    if password_hash is None:
        _hasher.verify(_DUMMY_HASH, password)
        raise VerifyMismatchError
    _hasher.verify(password_hash, password)


def rehash_if_needed(user: User, password: str) -> None:
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
