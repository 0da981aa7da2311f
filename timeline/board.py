"""What the countdown board shows for one window: pure display logic over verdicts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from timeline.clock import display_beijing, format_duration
from timeline.engine import Verdict, WindowVerdict
from timeline.model import WINDOW_NAMES

# Board colours by display state: on track / at risk / overdue / met / late / not applicable.
TONES: dict[str, str] = {
    "on_track": "#1b7f3b",
    "at_risk": "#b26a00",
    "overdue": "#c62828",
    "met": "#1565c0",
    "late": "#8d6e63",
    "not_applicable": "#9e9e9e",
}
TONE_NAMES: dict[str, str] = {
    "on_track": "正常",
    "at_risk": "临近时限",
    "overdue": "已超时",
    "met": "按时完成",
    "late": "逾期完成",
    "not_applicable": "不适用",
}


@dataclass(frozen=True)
class WindowCell:
    key: str
    name: str
    tone: str
    due: str
    text: str


def tone(window: WindowVerdict) -> str:
    if window.state == "open":
        return "at_risk" if window.at_risk else "on_track"
    return window.state


def window_cell(window: WindowVerdict) -> WindowCell:
    """`剩余 3 小时 05 分` before the deadline, `已超时 X 小时 Y 分` after it, the completion time once done."""
    kind = tone(window)
    if window.state == "open":
        text = f"剩余 {format_duration(window.remaining_seconds or 0)}"
    elif window.state == "overdue":
        text = f"已超时 {format_duration(window.overdue_seconds or 0)}"
    elif window.state in ("met", "late"):
        text = f"{TONE_NAMES[kind]}（{display_beijing(window.satisfied_at)}）"
    else:
        text = "不适用"
    if window.past_due_at_reclassification:
        text += "（调整分级时已过时限）"
    due = display_beijing(window.due_at) if window.due_at else "—"
    return WindowCell(window.key, WINDOW_NAMES[window.key], kind, due, text)


def urgency(verdict: Verdict) -> float:
    """Sort key for the board: overdue first (longest overdue first), then least time left."""
    best = float("inf")
    for w in verdict.windows:
        if w.state == "overdue":
            best = min(best, -float(w.overdue_seconds or 0))
        elif w.state == "open":
            best = min(best, float(w.remaining_seconds or 0))
    return best


def board_tones(verdict: Verdict) -> set[str]:
    return {tone(w) for w in verdict.windows if w.applicable}


def as_of(now: datetime) -> str:
    return display_beijing(now)
