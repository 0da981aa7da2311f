"""An incident's history as people read it: audit records in Chinese, and the verdicts that stood
before each reclassification (they stay visible, DESIGN.md §2.1)."""
from __future__ import annotations

from typing import Any

import streamlit as st

from timeline.clock import display_beijing
from timeline.model import STATE_NAMES, WINDOW_NAMES
from yuqing.db.audit import AuditView
from yuqing.history import action_name, change_text, entity_name, value_text
from yuqing.messages import plain


def audit_table(entries: list[AuditView]) -> None:
    if not entries:
        st.info("没有历史记录")
        return
    rows = [
        {
            "时间": display_beijing(e.at),
            "操作人": e.actor,
            "对象": f"{entity_name(e.entity)} #{e.entity_id}",
            "操作": action_name(e.action),
            "原因": e.reason or "",
            "内容": change_text(e.before, e.after),
        }
        for e in entries
    ]
    st.dataframe(rows, hide_index=True, key="history_table")
    st.caption(f"共 {len(rows)} 条审计记录（审计链可用 `yuqing audit verify` 校验）")


def regrades(detail: dict[str, Any]) -> None:
    """Each reclassification with the window states that stood just before it."""
    for r in detail.get("reclassifications") or []:
        before = "、".join(value_text(r["before"].get(k)) for k in ("level", "category"))
        after = "、".join(value_text(r["after"].get(k)) for k in ("level", "category"))
        states = "；".join(
            f"{WINDOW_NAMES[w['key']]}：{STATE_NAMES[w['state']]}" for w in r["windows_before"] if w["applicable"]
        )
        st.markdown(
            f"**{r['at'][:16].replace('T', ' ')} 调整分级**（{plain(r['actor'])}）：{before}"
            f"{'·突发' if r['before'].get('sudden') else ''} → {after}{'·突发' if r['after'].get('sudden') else ''}  \n"
            f"原因：{plain(r['reason'])}  \n调整前的判定：{states or '—'}"
        )
