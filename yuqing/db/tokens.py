"""API tokens and wall-display screens: random secrets shown once, only their SHA-256 stored.

Both live in the database so that every replica of `yuqing serve` honours them and a server restart
keeps them. A token acts as an account would (role and unit, checked by the write service); a
screen token opens the board read-only and nothing else.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.db.accounts import ROLES
from yuqing.db.models import ApiToken, Screen
from yuqing.db.service import Actor, Writer
from yuqing.errors import YuqingError

TOKEN_BYTES = 32  # 256 bits, url-safe base64 → 43 characters
API_PREFIX = "yq_"
SCREEN_PREFIX = "scr_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 60 or any(c.isspace() for c in name):
        raise YuqingError("E_TOKEN_NAME", name=name)
    return name


@dataclass(frozen=True)
class TokenView:
    name: str
    role: str | None  # None for a screen
    unit_code: str | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None


def _view(row: ApiToken | Screen) -> TokenView:
    return TokenView(row.name, getattr(row, "role", None), row.unit_code, row.created_at, row.created_by,
                     row.revoked_at, row.last_used_at)


def add_token(writer: Writer, name: str, *, role: str, unit: str | None) -> str:
    """Create an API token; returns the secret (shown once, never stored)."""
    writer.require_admin("管理接口令牌")
    name = _check_name(name)
    if role not in ROLES:
        raise YuqingError("E_ROLE", value=role)
    unit_code = None
    if role == "staff":
        if not unit:
            raise YuqingError("E_STAFF_NEEDS_UNIT")
        unit_code = writer.unit(unit).code
    elif unit:
        raise YuqingError("E_UNIT_ONLY_FOR_STAFF")
    if writer.session.scalar(select(ApiToken).where(ApiToken.name == name)) is not None:
        raise YuqingError("E_TOKEN_EXISTS", name=name)
    token = _new_token(API_PREFIX)
    writer.session.add(ApiToken(name=name, role=role, unit_code=unit_code, token_hash=digest(token),
                                created_at=writer.now, created_by=writer.actor.name))
    writer.session.flush()
    writer.audit("api_token", name, "create", None, {"role": role, "unit": unit_code})
    return token


def add_screen(writer: Writer, name: str, *, unit: str | None) -> str:
    """Create a wall display; returns the secret for its URL (shown once, never stored)."""
    writer.require_admin("管理大屏")
    name = _check_name(name)
    unit_code = writer.unit(unit).code if unit else None
    if writer.session.scalar(select(Screen).where(Screen.name == name)) is not None:
        raise YuqingError("E_SCREEN_EXISTS", name=name)
    token = _new_token(SCREEN_PREFIX)
    writer.session.add(Screen(name=name, unit_code=unit_code, token_hash=digest(token), created_at=writer.now,
                              created_by=writer.actor.name))
    writer.session.flush()
    writer.audit("screen", name, "create", None, {"unit": unit_code})
    return token


def _revoke(writer: Writer, model: type[ApiToken] | type[Screen], name: str, *, code: str, what: str) -> None:
    writer.require_admin(what)
    row: Any = writer.session.scalar(select(model).where(model.name == name))  # an ApiToken or a Screen
    if row is None:
        raise YuqingError(code, name=name)
    if row.revoked_at is None:
        row.revoked_at = writer.now
        writer.session.flush()
        writer.audit(model.__tablename__.rstrip("s"), name, "revoke", None, {"revoked_at": writer.now.isoformat()})


def revoke_token(writer: Writer, name: str) -> None:
    _revoke(writer, ApiToken, name, code="E_TOKEN_UNKNOWN", what="管理接口令牌")


def revoke_screen(writer: Writer, name: str) -> None:
    _revoke(writer, Screen, name, code="E_SCREEN_UNKNOWN", what="管理大屏")


def list_tokens(session: Session) -> list[TokenView]:
    return [_view(r) for r in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def list_screens(session: Session) -> list[TokenView]:
    return [_view(r) for r in session.scalars(select(Screen).order_by(Screen.id))]


def actor_for_token(session: Session, token: str, *, now: datetime) -> Actor | None:
    """The actor a bearer token stands for, or None when unknown or revoked."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token or "")))
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = now
    return Actor(f"token:{row.name}", row.role, row.unit_code, office_id=row.office_id)


@dataclass(frozen=True)
class ScreenGrant:
    name: str
    unit_code: str | None
    office_id: int | None = None


def screen_for_token(session: Session, token: str, *, now: datetime) -> ScreenGrant | None:
    """The screen a URL token opens, or None when unknown or revoked."""
    row = session.scalar(select(Screen).where(Screen.token_hash == digest(token or "")))
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = now
    return ScreenGrant(row.name, row.unit_code, row.office_id)
