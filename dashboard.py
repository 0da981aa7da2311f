"""Streamlit entry: page config and navigation. Run with `yuqing serve` (or `make run`)."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
ICON = HERE / "app_pages" / "icon.png"

st.set_page_config(page_title="政务舆情回应时效", page_icon=str(ICON), layout="wide")

pages = [
    st.Page(str(HERE / "app_pages" / "board.py"), title="倒计时看板", url_path="board", default=True),
]
st.navigation(pages).run()
