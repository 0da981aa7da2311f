"""Streamlit entry: page config, login, navigation. Run with `yuqing serve` (or `make run`).

The page list is declared before login so that an address such as `/incident?id=12` survives the
login form: after signing in, the page that was asked for opens with its query parameters.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from yuqing.pages import auth, common

HERE = Path(__file__).resolve().parent
PAGES = HERE / "yuqing" / "pages"

st.set_page_config(page_title="政务舆情回应时效", page_icon=str(PAGES / "icon.png"), layout="wide")


def page(path: str, title: str, url: str, icon: str, **kw: object) -> st.Page:
    return st.Page(str(HERE / path), title=title, url_path=url, icon=icon, **kw)  # type: ignore[arg-type]  # st.Page keyword types are narrower than the values it accepts


SECTIONS = {
    "时效": [
        page(common.PAGE_BOARD, "倒计时看板", "board", ":material/timer:", default=True),
        page(common.PAGE_NEW, "登记舆情", "new", ":material/add_circle:"),
        page(common.PAGE_INCIDENT, "舆情详情", "incident", ":material/article:"),
        page(common.PAGE_TRIAGE, "待研判", "triage", ":material/inbox:"),
    ],
    "考核": [
        page(common.PAGE_SCORES, "单位考核", "scores", ":material/leaderboard:"),
        page(common.PAGE_REFERRALS, "舆情函件", "referrals", ":material/mail:"),
    ],
    "设置": [
        page(common.PAGE_FEEDS, "信息源", "feeds", ":material/rss_feed:"),
        page(common.PAGE_RULES, "规则与方案", "rules", ":material/gavel:"),
    ],
}

# Streamlit's own English widget texts, replaced by Chinese ones (all UI text is Simplified Chinese).
st.html(
    "<style>"
    "[data-testid='InputInstructions']{display:none}"
    "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p{font-size:0}"
    "[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p::after"
    "{content:'选择文件';font-size:0.875rem}"
    "[data-testid='stFileUploaderDropzoneInstructions'] span{font-size:0}"
    "[data-testid='stFileUploaderDropzoneInstructions'] span::after{content:'或拖放到此处（单个文件不超过 50MB）';"
    "font-size:0.8rem}"
    "</style>"
)

WALL_STYLE = (
    "<style>[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],"
    "[data-testid='stHeader'],[data-testid='stToolbar']{display:none}"
    "[data-testid='stMainBlockContainer']{padding-top:1rem;max-width:100%}</style>"
)

screen = st.query_params.get("screen") == "1"
display = st.query_params.get("display")
if display:
    # A wall display's URL: the board alone, read-only, no login and no idle timeout.
    if not common.guard():
        st.stop()
    if auth.screen_grant(display) is None:
        st.session_state.pop(auth.SCREEN_KEY, None)
        st.error(common.text("E_SCREEN_REVOKED"))
        st.stop()
    st.session_state[auth.SCREEN_KEY] = display
    st.html(WALL_STYLE)
    st.navigation([page(common.PAGE_BOARD, "倒计时看板", "board", ":material/timer:", default=True)],
                  position="hidden").run()
    st.stop()
st.session_state.pop(auth.SCREEN_KEY, None)
actor = auth.current_actor()
if actor is None:
    wanted = st.navigation(SECTIONS, position="hidden")  # the requested page, opened after login
    auth.login_page(wanted.url_path)
else:
    st.session_state["actor"] = actor
    if screen:
        # Wall display: no sidebar, no toolbar, the board alone.
        st.html(WALL_STYLE)
    else:
        # Long incident titles in page links wrap instead of being cut off.
        st.html("<style>[data-testid='stPageLink-NavLink'] *{white-space:normal!important;overflow:visible!important;"
                "text-overflow:clip!important}</style>")
        auth.sidebar(actor)
    st.navigation(SECTIONS, position="hidden" if screen else "sidebar").run()
