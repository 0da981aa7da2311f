"""Streamlit entry: page config, login, navigation. Run with `yuqing serve` (or `make run`)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages import auth

HERE = Path(__file__).resolve().parent
PAGES = HERE / "app_pages"

st.set_page_config(page_title="政务舆情回应时效", page_icon=str(PAGES / "icon.png"), layout="wide")

actor = auth.current_actor()
if actor is None:
    st.navigation([st.Page(auth.login_page, title="登录", url_path="login")], position="hidden").run()
else:
    auth.touch()
    auth.sidebar(actor)
    st.session_state["actor"] = actor
    pages = [
        st.Page(str(PAGES / "board.py"), title="倒计时看板", url_path="board", default=True),
    ]
    st.navigation(pages).run()
