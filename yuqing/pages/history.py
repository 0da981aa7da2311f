"""An incident's history as people read it: audit records in Chinese, and the verdicts that stood
before each reclassification (they stay visible, DESIGN.md §2.1)."""
from __future__ import annotations

import json
from typing import Any

import streamlit as st

from timeline.clock import display_beijing
from timeline.model import STATE_NAMES, WINDOW_NAMES
from yuqing.db.audit import AuditView
from yuqing.messages import plain

ENTITY_NAMES = {"incident": "舆情", "action": "处置", "item": "信息", "feed": "信息源", "user": "账号", "unit": "单位",
                "referral": "函件"}
ACTION_NAMES = {
    "create": "登记", "reclassify": "调整分级", "transfer": "转办", "void": "作废", "close": "办结",
    "earlier_start": "提前开始时间", "accepted": "立为舆情", "merged": "并入舆情", "dismissed": "排除",
    "enable": "启用", "disable": "停用", "remove": "删除", "update": "修改", "password": "修改密码",
}
FIELD_NAMES = {
    "title": "标题", "unit": "牵头单位", "co_units": "协办单位", "parent_id": "上级舆情", "level": "级别",
    "sudden": "突发", "category": "类别", "status": "状态", "preset": "时限规则", "first_post_at": "首发",
    "detected_at": "发现", "started_at": "开始计时", "closed_at": "办结", "voided_at": "作废",
    "kind": "类型", "at": "时间", "channels": "渠道", "by_principal": "主要负责人", "evidence_url": "证据链接",
    "evidence_sha256": "证据文件", "note": "说明", "incident_id": "舆情", "triage_status": "研判",
}


def _value(value: Any) -> str:
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:12] + "…"
    return str(value)


def change_text(before: str | None, after: str | None) -> str:
    """`级别：一般 → 重大；突发：否 → 是` for changes, `键：值` for creations."""
    old: dict[str, Any] = json.loads(before) if before else {}
    new: dict[str, Any] = json.loads(after) if after else {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return ""
    parts = []
    for key in dict.fromkeys([*old, *new]):
        if key == "suggested_fields":
            continue
        name = FIELD_NAMES.get(key, key)
        if key in old and key in new:
            if old[key] != new[key]:
                parts.append(f"{name}：{_value(old[key])} → {_value(new[key])}")
        elif key in new:
            if new[key] not in (None, [], ""):
                parts.append(f"{name}：{_value(new[key])}")
        else:
            parts.append(f"{name}：{_value(old[key])} →（删除）")
    return "；".join(parts)


def audit_table(entries: list[AuditView]) -> None:
    if not entries:
        st.info("没有历史记录")
        return
    rows = [
        {
            "时间": display_beijing(e.at),
            "操作人": e.actor,
            "对象": f"{ENTITY_NAMES.get(e.entity, e.entity)} #{e.entity_id}",
            "操作": ACTION_NAMES.get(e.action, e.action),
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
        before = "、".join(_value(r["before"].get(k)) for k in ("level", "category"))
        after = "、".join(_value(r["after"].get(k)) for k in ("level", "category"))
        states = "；".join(
            f"{WINDOW_NAMES[w['key']]}：{STATE_NAMES[w['state']]}" for w in r["windows_before"] if w["applicable"]
        )
        st.markdown(
            f"**{r['at'][:16].replace('T', ' ')} 调整分级**（{plain(r['actor'])}）：{before}"
            f"{'·突发' if r['before'].get('sudden') else ''} → {after}{'·突发' if r['after'].get('sudden') else ''}  \n"
            f"原因：{plain(r['reason'])}  \n调整前的判定：{states or '—'}"
        )
