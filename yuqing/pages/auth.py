"""Who is looking at the dashboard: a login with lockout and idle timeout, or a trusted proxy header."""
from __future__ import annotations

from datetime import timedelta

import streamlit as st

from yuqing.db.accounts import ROLE_NAMES, actor_for, login
from yuqing.db.service import Actor
from yuqing.errors import YuqingError
from yuqing.pages import common
from yuqing.settings import load_config

KEY = "yq_auth"


def current_actor() -> Actor | None:
    """The logged-in actor, or None (then the login page is shown). Expired sessions are dropped."""
    config = load_config()
    if config.auth_header:
        name = st.context.headers.get(config.auth_header)
        if not name:
            st.error(YuqingError("E_AUTH_HEADER", header=config.auth_header).message)
            st.stop()
        try:
            return common.database().run(actor_for, name)
        except YuqingError as exc:
            st.error(exc.message)
            st.stop()
    state = st.session_state.get(KEY)
    if state is None:
        return None
    if common.now() - state["seen"] > timedelta(minutes=config.session_minutes):
        del st.session_state[KEY]
        st.session_state["yq_notice"] = YuqingError("E_SESSION_EXPIRED").message
        return None
    return state["actor"]


def touch() -> None:
    """Count a full page run as activity (the board's 10-second refresh does not)."""
    if KEY in st.session_state:
        st.session_state[KEY]["seen"] = common.now()


SCREEN_KEY = "yq_screen"


def screen_grant(token: str) -> object | None:
    """The wall display a `display=` token opens (checked against the database on every call, so a
    revoke takes effect at the next refresh), or None."""
    from yuqing.db.tokens import screen_for_token

    with common.database().session() as session:
        return screen_for_token(session, token, now=common.now())


def still_logged_in() -> bool:
    if SCREEN_KEY in st.session_state:
        return screen_grant(st.session_state[SCREEN_KEY]) is not None
    state = st.session_state.get(KEY)
    if load_config().auth_header:
        return True
    if state is None:
        return False
    return common.now() - state["seen"] <= timedelta(minutes=load_config().session_minutes)


def login_page() -> None:
    st.title("政务舆情回应时效追踪")
    st.subheader("登录")
    notice = st.session_state.pop("yq_notice", None)
    if notice:
        st.warning(notice)
    if not common.guard():
        return
    with st.form("login", clear_on_submit=False):
        name = st.text_input("账号", key="login_name")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", type="primary", key="login_submit")
    if submitted:
        try:
            actor = login(common.database(), name, password, now=common.now())
        except YuqingError as exc:
            st.error(exc.message)
            return
        st.session_state[KEY] = {"actor": actor, "seen": common.now()}
        st.rerun()
    st.caption("账号由市政务公开办管理员用 `yuqing users add` 创建。")


def sidebar(actor: Actor) -> None:
    with st.sidebar:
        st.markdown(f"**{common.plain(actor.name)}**  \n{ROLE_NAMES.get(actor.role, actor.role)}")
        if not load_config().auth_header and st.button("退出登录", key="logout"):
            st.session_state.pop(KEY, None)
            st.rerun()
