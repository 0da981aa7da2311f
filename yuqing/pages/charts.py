"""Altair charts of the dashboard: an incident's timeline (windows as bands, actions as marks) and
per-indicator score bars. Times are drawn as naive Beijing wall time so every browser shows 北京时间."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd

from timeline.clock import BEIJING, naive_beijing
from timeline.engine import Verdict
from timeline.model import ACTION_KIND_NAMES, CHANNELS, WINDOW_NAMES
from yuqing.board import TONE_NAMES, TONES
from yuqing.db.incidents import IncidentView
from yuqing.pages import countdown

ACTIONS_ROW = "处置记录"
TIME_FORMAT = "%m-%d %H:%M"


def _span(view: IncidentView, verdict: Verdict, now: datetime) -> tuple[datetime, datetime]:
    ends = [w.due_at for w in verdict.windows if w.due_at is not None]
    ends += [a.at for a in view.actions]
    ends += [t for t in (view.closed_at, view.voided_at) if t is not None]
    if view.status == "open":
        ends.append(now)
    end = max(ends, default=view.started_at + timedelta(hours=24))
    pad = max((end - view.started_at) * 0.04, timedelta(minutes=20))
    return view.started_at - pad, end + pad


def timeline_chart(view: IncidentView, verdict: Verdict, now: datetime) -> alt.LayerChart | alt.FacetChart:
    """Each applicable window as a band from the start to its deadline, coloured by its state; each
    action as a mark on its own row; a red rule at `now` while the incident is open."""
    rows = [WINDOW_NAMES[w.key] for w in verdict.windows if w.applicable] + [ACTIONS_ROW]
    bands = pd.DataFrame(
        [
            {
                "行": WINDOW_NAMES[w.key],
                "开始": naive_beijing(view.started_at),
                "时限": naive_beijing(w.due_at),
                "状态": TONE_NAMES[countdown.cell(w).tone],
                "说明": countdown.cell(w).text,
            }
            for w in verdict.windows
            if w.applicable and w.due_at is not None
        ],
        columns=["行", "开始", "时限", "状态", "说明"],
    )
    marks = pd.DataFrame(
        [
            {
                "行": ACTIONS_ROW,
                "时间": naive_beijing(a.at),
                "类型": ACTION_KIND_NAMES.get(a.kind, a.kind),
                "渠道": "、".join(CHANNELS.get(c, c) for c in a.channels) or "—",
                "主要负责人": "是" if a.by_principal else "否",
            }
            for a in view.actions
        ],
        columns=["行", "时间", "类型", "渠道", "主要负责人"],
    )
    events = [{"时间": naive_beijing(view.started_at), "事件": "开始计时"}]
    events += [{"时间": naive_beijing(r.at), "事件": "调整分级"} for r in view.regrades]
    events += [{"时间": naive_beijing(t.at), "事件": "转办"} for t in view.transfers]
    if view.closed_at is not None:
        events.append({"时间": naive_beijing(view.closed_at), "事件": "办结"})
    start, end = _span(view, verdict, now)
    x_scale = alt.Scale(domain=[start.astimezone(BEIJING).replace(tzinfo=None).isoformat(), end.astimezone(BEIJING).replace(tzinfo=None).isoformat()])
    y = alt.Y("行:N", sort=rows, title=None, scale=alt.Scale(domain=rows))
    colour = alt.Color(
        "状态:N",
        scale=alt.Scale(domain=list(TONE_NAMES.values()), range=[TONES[k] for k in TONE_NAMES]),
        legend=alt.Legend(title="状态", orient="bottom"),
    )
    layers: list[Any] = [
        alt.Chart(bands)
        .mark_bar(opacity=0.55, cornerRadius=3, height=22)
        .encode(
            x=alt.X("开始:T", scale=x_scale, title="北京时间", axis=alt.Axis(format=TIME_FORMAT, labelAngle=0)),
            x2="时限:T",
            y=y,
            color=colour,
            tooltip=[alt.Tooltip("行:N", title="时限"), alt.Tooltip("时限:T", format="%Y-%m-%d %H:%M"), "说明:N"],
        ),
        alt.Chart(bands).mark_tick(thickness=3, size=26, color="#333").encode(x=alt.X("时限:T", scale=x_scale), y=y),
        alt.Chart(pd.DataFrame(events))
        .mark_rule(strokeDash=[3, 3], color="#555")
        .encode(x=alt.X("时间:T", scale=x_scale), tooltip=["事件:N", alt.Tooltip("时间:T", format="%Y-%m-%d %H:%M")]),
    ]
    if not marks.empty:
        layers.append(
            alt.Chart(marks)
            .mark_point(filled=True, size=160, color="#1565c0")
            .encode(
                x=alt.X("时间:T", scale=x_scale),
                y=y,
                shape=alt.Shape("类型:N", legend=alt.Legend(title="处置", orient="bottom")),
                tooltip=["类型:N", alt.Tooltip("时间:T", format="%Y-%m-%d %H:%M"), "渠道:N", "主要负责人:N"],
            )
        )
    if view.status == "open":
        layers.append(
            alt.Chart(pd.DataFrame([{"时间": naive_beijing(now), "事件": "现在"}]))
            .mark_rule(color="#c62828", strokeWidth=2)
            .encode(x=alt.X("时间:T", scale=x_scale), tooltip=["事件:N", alt.Tooltip("时间:T", format="%H:%M:%S")])
        )
    return alt.layer(*layers).properties(height=timeline_height(view, verdict))


def timeline_height(view: IncidentView, verdict: Verdict) -> int:
    return 40 * (sum(1 for w in verdict.windows if w.applicable) + 1)


INDICATOR_ROW = 24


def indicator_chart(rows: list[dict[str, Any]], *, name: str, maximum: float) -> alt.LayerChart | alt.FacetChart:
    """One indicator: each unit's points as a bar against the indicator's maximum, lowest first; bars
    of units that lost points are amber, full marks blue."""
    frame = pd.DataFrame(rows, columns=["单位", "得分"])
    frame["满分"] = frame["得分"] >= maximum
    y = alt.Y("单位:N", sort=alt.EncodingSortField("得分", order="ascending"), title=None,
              axis=alt.Axis(labelLimit=320))
    bars = alt.Chart(frame).mark_bar(height=16).encode(
        x=alt.X("得分:Q", scale=alt.Scale(domain=[0, maximum * 1.08]), title=f"{name}（满分 {maximum:g}）"),
        y=y,
        color=alt.condition("datum.满分", alt.value("#1565c0"), alt.value("#e08e0b")),
        tooltip=["单位:N", "得分:Q"],
    )
    labels = bars.mark_text(align="left", dx=4, color="#333").encode(text=alt.Text("得分:Q", format=".3~f"),
                                                                      color=alt.value("#333"))
    return alt.layer(bars, labels).properties(height=indicator_height(len(frame)))


def indicator_height(units: int) -> int:
    return max(120, INDICATOR_ROW * units)
