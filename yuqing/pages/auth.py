"""Who is looking at the dashboard: a session cookie resolved from the database, or a trusted proxy header.

The login form is plain HTML posting to the server's `/auth/login` (yuqing.login_routes), which sets
an HttpOnly cookie; every script run reads it through `st.context.cookies` and asks the database, so
a reload, a second tab, another replica or a server restart keeps the login, and logout, a password
change or disabling the account ends it everywhere at the next run.
"""
from __future__ import annotations

from datetime import timedelta
from html import escape
from urllib.parse import urlencode

import streamlit as st

from yuqing.db.accounts import ROLE_NAMES, actor_for
from yuqing.db.logins import Resolved, needs_write, resolve
from yuqing.db.service import Actor
from yuqing.errors import YuqingError
from yuqing.login_routes import COOKIE, LOGIN_ERRORS, NOTICE_PARAMS
from yuqing.pages import common
from yuqing.settings import load_config

# In-process runs (AppTest) have no browser and so no cookie: a session token placed here by the
# server-side caller is resolved exactly as the cookie would be. No browser can write session state.
TOKEN_KEY = "yq_session"


def session_token() -> str | None:
    # Only strings count: AppTest's stand-in client answers any cookie with a placeholder object.
    for value in (st.context.cookies.get(COOKIE), st.session_state.get(TOKEN_KEY)):
        if isinstance(value, str) and value:
            return value
    return None


def _resolve(token: str, *, touch: bool) -> Resolved:
    config = load_config()
    limits = {"now": common.now(), "idle": timedelta(minutes=config.session_minutes),
              "lifetime": timedelta(hours=config.session_max_hours), "touch": touch}
    database = common.database()
    # Most runs only read; the write lock is taken when the session must be touched or expired.
    if database.read(needs_write, token, **limits):
        return database.run(resolve, token, **limits)
    return database.read(resolve, token, **limits)


def current_actor() -> Actor | None:
    """The logged-in actor, or None (then the login page is shown). A page run counts as activity."""
    config = load_config()
    if config.auth_header:
        name = st.context.headers.get(config.auth_header)
        if not name:
            st.error(YuqingError("E_AUTH_HEADER", header=config.auth_header).message)
            st.stop()
        try:
            return common.database().run(actor_for, name)
        except YuqingError as exc:
            st.error(common.refusal(exc))
            st.stop()
    token = session_token()
    if not token:
        return None
    try:
        found = _resolve(token, touch=True)
    except YuqingError:
        return None  # the login page's guard says what is wrong with the database
    if found.actor is None and found.reason:
        st.session_state["yq_notice"] = common.text(found.reason)
    return found.actor


SCREEN_KEY = "yq_screen"


def screen_grant(token: str) -> object | None:
    """The wall display a `display=` token opens (checked against the database on every call, so a
    revoke takes effect at the next refresh), or None."""
    from yuqing.db.tokens import screen_for_token

    with common._database().session() as session:  # before the screen's office is known
        grant = screen_for_token(session, token, now=common.now())
    if grant is not None:
        st.session_state[common.SCREEN_OFFICE] = grant.office_id
    return grant


def still_logged_in() -> bool:
    """For the board's own refresh, which is not activity: the session is still valid."""
    if SCREEN_KEY in st.session_state:
        return screen_grant(st.session_state[SCREEN_KEY]) is not None
    if load_config().auth_header:
        return True
    token = session_token()
    return token is not None and _resolve(token, touch=False).actor is not None


LOGIN_STYLE = (
    "<style>.yq-login{max-width:28rem;display:flex;flex-direction:column;gap:.4rem;margin:.5rem 0 1rem}"
    ".yq-login label{font-size:.875rem}"
    ".yq-login input{font:inherit;padding:.45rem .6rem;border:1px solid rgba(49,51,63,.3);border-radius:.5rem}"
    ".yq-login button,.yq-logout button{font:inherit;cursor:pointer;border-radius:.5rem;padding:.4rem .9rem}"
    ".yq-login button{margin-top:.6rem;align-self:flex-start;background:#ff4b4b;color:#fff;border:1px solid #ff4b4b}"
    ".yq-logout button{background:transparent;border:1px solid rgba(49,51,63,.3)}</style>"
)


def _notice() -> tuple[str | None, str]:
    """The refusal the server sent back with the form (query parameters), removed from the address."""
    params = st.query_params
    code, name = params.get("login_error"), params.get("login_name") or ""
    wait = params.get("login_wait") or ""
    for key in NOTICE_PARAMS:
        if key in params:
            del params[key]
    if code not in LOGIN_ERRORS:
        return None, name
    if code == "E_LOGIN_WAIT":
        return common.text("E_LOGIN_WAIT", seconds=int(wait) if wait.isdigit() else 1), name
    if code == "E_ACCOUNT_DISABLED":
        return common.text("E_ACCOUNT_DISABLED", name=name), name
    return common.text(str(code)), name


def login_page(requested: str) -> None:
    """The login form for the page `requested` (its url path): after signing in, that page opens
    with its query parameters, so `/incident?id=12` survives the form."""
    st.title("政务舆情回应时效追踪")
    st.subheader("登录")
    notice = st.session_state.pop("yq_notice", None)
    refusal, name = _notice()
    if notice and not refusal:
        st.warning(notice)
    if refusal:
        st.error(refusal)
    if not common.guard():
        return
    query = {k: v for k, v in st.query_params.to_dict().items() if k not in NOTICE_PARAMS}
    target = "/" + requested + (f"?{urlencode(query)}" if query else "")
    st.html(
        LOGIN_STYLE
        + '<form class="yq-login" method="post" action="/auth/login">'
        f'<input type="hidden" name="next" value="{escape(target)}">'
        f'<label for="yq-account">账号</label><input id="yq-account" name="account" value="{escape(name)}" '
        'autocomplete="username" required>'
        '<label for="yq-secret">密码</label><input id="yq-secret" name="secret" type="password" '
        'autocomplete="current-password" required>'
        '<button type="submit">登录</button></form>'
    )
    st.caption("账号由市政务公开办管理员用 `yuqing users add` 创建。")


def change_password() -> None:
    from yuqing.db.accounts import change_own_password

    s = st.session_state
    if s.get("pw_new") != s.get("pw_new2"):
        s["pw_outcome"] = ("error", common.text("E_PASSWORD_MISMATCH"))
        return
    token = session_token()
    outcome = common.write(lambda w: change_own_password(w, s.get("pw_current") or "", s.get("pw_new") or "",
                                                         keep_session=token))
    if outcome.ok:
        s["pw_outcome"] = ("ok", common.text("DASH_PASSWORD_CHANGED", count=outcome.value))
        s["pw_current"] = s["pw_new"] = s["pw_new2"] = ""
    else:
        s["pw_outcome"] = ("error", outcome.error)


def office_selector(actor: Actor) -> None:
    """A parent office's administrator reads an office under it (read-only): the pages follow
    `office_view` (common.office_key); the write service refuses writes there."""
    from yuqing.db.offices import visible_offices

    if actor.role != "admin" or actor.office_id is None:
        return
    offices = common._database().read(visible_offices, actor.office_id)
    if len(offices) < 2:
        return
    names = {o.id: o.name for o in offices}
    chosen = st.selectbox("查看考核办", list(names), format_func=names.__getitem__, key="office_view_pick",
                          index=list(names).index(st.session_state.get("office_view") or actor.office_id))
    if chosen != st.session_state.get("office_view", actor.office_id):
        st.session_state["office_view"] = chosen
        common.refresh()
    if chosen != actor.office_id:
        st.caption("只读：正在查看下级考核办的记录")


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        st.markdown(f"**{common.plain(actor.name)}**  \n{ROLE_NAMES.get(actor.role, actor.role)}")
        office_selector(actor)
        if load_config().auth_header:
            return
        st.html(LOGIN_STYLE + '<form class="yq-logout" method="post" action="/auth/logout">'
                '<button type="submit">退出登录</button></form>')
        outcome = st.session_state.pop("pw_outcome", None)
        with st.expander("修改密码", expanded=outcome is not None):
            if outcome is not None:
                (st.success if outcome[0] == "ok" else st.error)(outcome[1])
            with st.form("password", clear_on_submit=False):
                st.text_input("当前密码", type="password", key="pw_current")
                st.text_input("新密码（至少 8 个字符）", type="password", key="pw_new")
                st.text_input("再输入一次", type="password", key="pw_new2")
                st.form_submit_button("修改密码", on_click=change_password, key="pw_submit")
