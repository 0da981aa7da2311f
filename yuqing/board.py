"""How a window reads, everywhere: the one renderer used by the CLI, the board, the detail page,
the alerts and the exports, with an explicit precision (minutes for lists and alerts, seconds for
a live countdown). Display only: verdicts come from the timeline engine."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from timeline.clock import display_beijing, format_duration
from timeline.engine import Verdict, WindowVerdict
from timeline.model import WINDOW_NAMES
from timeline.words import Labels
from yuqing.vocabulary import label, render

Precision = Literal["minutes", "seconds"]

# Board colours by display state: on track / at risk / overdue / met / late / not applicable.
TONES: dict[str, str] = {
    "on_track": "#1b7f3b",
    "at_risk": "#b26a00",
    "overdue": "#c62828",
    "met": "#1565c0",
    "late": "#8d6e63",
    "not_applicable": "#9e9e9e",
}
TONE_CODES: tuple[str, ...] = tuple(TONES)
TONE_NAMES = Labels("TONE", TONE_CODES)


def tone_name(tone: str) -> str:
    return label("TONE", tone)


def duration(seconds: int, precision: Precision = "minutes") -> str:
    return format_duration(seconds, precision)


def window_status(window: WindowVerdict, precision: Precision = "minutes") -> str:
    """`剩余 3 小时 05 分` before the deadline, `已超时 6 小时 00 分` after it, `按时完成（…）` once done,
    with the reclassification note when the window was already past due then."""
    if window.state == "open":
        text = render("WINDOW_REMAINING", duration=duration(window.remaining_seconds or 0, precision))
    elif window.state == "overdue":
        text = render("WINDOW_OVERDUE", duration=duration(window.overdue_seconds or 0, precision))
    elif window.state in ("met", "late"):
        text = render("WINDOW_DONE", state=tone_name(tone(window)), at=display_beijing(window.satisfied_at))
    else:
        text = tone_name("not_applicable")
    if window.state in ("open", "overdue") and window.past_due_at_reclassification:
        text += render("WINDOW_PAST_DUE_SUFFIX")
    return text


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


def window_cell(window: WindowVerdict, precision: Precision = "minutes") -> WindowCell:
    due = display_beijing(window.due_at) if window.due_at else "—"
    return WindowCell(window.key, WINDOW_NAMES[window.key], tone(window), due, window_status(window, precision))


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
