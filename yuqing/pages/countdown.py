"""What the countdown board and the detail page show for windows: rows, cells to the second, colours,
the big-screen pages. Display only: verdicts come from the timeline engine (IncidentView.verdict)."""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from timeline.clock import display_beijing, to_beijing
from timeline.engine import Verdict, WindowVerdict
from timeline.model import LEVELS, WINDOW_KEYS, WINDOW_NAMES
from yuqing.board import TONE_NAMES, TONES, board_tones, duration, window_cell
from yuqing.db.incidents import BoardPage, IncidentView
from yuqing.vocabulary import render

UNGRADED = "未定级"
LEVEL_CHOICES: tuple[str, ...] = (*LEVELS, UNGRADED)
SUMMARY_TONES = ("overdue", "at_risk", "on_track")


def clock_text(seconds: int) -> str:
    """`3 小时 05 分 12 秒`: the countdown to the second, so a reader sees it move."""
    return duration(seconds, "seconds")


@dataclass(frozen=True)
class Cell:
    key: str
    name: str
    hours: int
    tone: str
    text: str
    due: str

    @property
    def colour(self) -> str:
        return TONES[self.tone]


def cell(window: WindowVerdict) -> Cell:
    """`剩余 …` before the deadline, `已超时 …` after it, the completion time once done."""
    # The countdown ticks to the second; an overdue window reads as everywhere else (minutes).
    base = window_cell(window, "seconds" if window.state == "open" else "minutes")
    return Cell(window.key, WINDOW_NAMES[window.key], window.hours, base.tone, base.text, base.due)


def level_label(view: IncidentView) -> str:
    label = view.level or UNGRADED
    if view.sudden:
        label += "·突发"
    return label


@dataclass(frozen=True)
class BoardRow:
    view: IncidentView
    verdict: Verdict
    cells: tuple[Cell, ...]

    @property
    def tones(self) -> set[str]:
        return board_tones(self.verdict)


def board_rows(page: BoardPage, now: datetime) -> list[BoardRow]:
    """The rows of one board page (already most urgent first), judged again at `now` so the
    countdowns tick between two reads of the page."""
    rows = []
    for entry in page.entries:
        verdict = entry.view.verdict(now)
        rows.append(BoardRow(entry.view, verdict, tuple(cell(verdict.window(k)) for k in WINDOW_KEYS)))
    return rows


def wall_page(now: datetime, *, seconds_per_page: int) -> int:
    """The page a wall display shows at `now` (0: the caller wraps it by the page count)."""
    return int(now.timestamp() // seconds_per_page)


def row_html(row: BoardRow) -> str:
    """Everything of one board row but its link: the caption line and the three window cells."""
    v = row.view
    flag = '<span class="yq-flag">重点</span>' if row.verdict.flagged else ""
    caption = (
        f'<div class="yq-cap">{flag}{html.escape(v.unit.name)} · {html.escape(level_label(v))} · '
        f"开始 {clock_start(v)}</div>"
    )
    cells = "".join(cell_html(c) for c in row.cells)
    return f'{caption}<div class="yq-row">{cells}</div>'


def head_html() -> str:
    names = "".join(f"<b>{html.escape(name)}</b>" for name in WINDOW_NAMES.values())
    return f'<div class="yq-row yq-head">{names}</div>'


def clock(now: datetime) -> str:
    return to_beijing(now).strftime("%H:%M:%S")


def clock_start(view: IncidentView) -> str:
    return display_beijing(view.started_at)


def cell_html(c: Cell) -> str:
    if c.tone == "not_applicable":
        return '<div class="yq-cell yq-na">—</div>'
    return (
        f'<div class="yq-cell {c.tone}" style="border-left:5px solid {c.colour};color:{c.colour}">'
        f'<b class="yq-left">{html.escape(c.text)}</b>'
        f'<div class="yq-due">时限 {c.due}（{c.hours} 小时）</div></div>'
    )


def legend_html() -> str:
    parts = [
        f'<span style="color:{TONES[t]};border-left:5px solid {TONES[t]};padding-left:4px;margin-right:14px">'
        f"{TONE_NAMES[t]}</span>"
        for t in ("on_track", "at_risk", "overdue", "met", "late")
    ]
    return f'<div class="yq-legend">{"".join(parts)}</div>'


STYLE = """<style>
.yq-cell{padding:4px 8px;border-radius:3px;background:#fafafa;line-height:1.35}
.yq-cell.overdue{background:#fdecea}.yq-cell.at_risk{background:#fff4e5}
.yq-na{color:#9e9e9e}
.yq-due{font-size:0.8em;color:#555}
.yq-flag{background:#c62828;color:#fff;border-radius:3px;padding:0 5px;font-size:0.8em;margin-right:4px}
.yq-legend{font-size:0.85em;margin:4px 0}
.yq-row{display:grid;grid-template-columns:repeat(3,1fr);gap:8px}
.yq-head{margin:2px 0 4px 0}
.yq-cap{font-size:0.85em;color:#555;margin:-6px 0 4px 0}
[class*="st-key-board_row_"] [data-testid="stPageLink-NavLink"] p{font-weight:600;font-size:1.02rem}
</style>"""


def screen_html(rows: list[BoardRow], *, now: datetime, page: int, pages: int, total: int, counts: dict[str, int]) -> str:
    """The wall display: one large table, no controls."""
    head = "".join(f"<th>{name}</th>" for name in ("舆情", "牵头单位", "级别", *WINDOW_NAMES.values()))
    body = []
    for row in rows:
        v = row.view
        flag = '<span class="yq-flag">重点</span>' if row.verdict.flagged else ""
        cells = "".join(f"<td>{cell_html(c)}</td>" for c in row.cells)
        body.append(
            f"<tr><td>{flag}<b>#{v.id}</b> {html.escape(v.title)}</td><td>{html.escape(v.unit.name)}</td>"
            f"<td>{html.escape(level_label(v))}</td>{cells}</tr>"
        )
    if not body:
        body.append(f'<tr><td colspan="6">{render("DASH_BOARD_EMPTY")}</td></tr>')
    summary = (
        f'<span>处置中 <b>{total}</b></span>'
        f'<span style="color:{TONES["overdue"]}">已超时 <b>{counts["overdue"]}</b></span>'
        f'<span style="color:{TONES["at_risk"]}">临近时限 <b>{counts["at_risk"]}</b></span>'
        f'<span>第 {page}/{pages} 页</span><span class="yq-clock">{clock(now)}</span>'
    )
    return f"""<style>
.yq-screen{{font-size:1.55rem}}
.yq-screen h1{{font-size:2.6rem;margin:0 0 .3em 0}}
.yq-screen .yq-sum{{display:flex;gap:2em;font-size:1.7rem;margin-bottom:.5em}}
.yq-screen .yq-clock{{margin-left:auto;font-variant-numeric:tabular-nums}}
.yq-screen table{{width:100%;border-collapse:collapse}}
.yq-screen th{{text-align:left;border-bottom:3px solid #333;padding:.3em .4em}}
.yq-screen td{{border-bottom:1px solid #ccc;padding:.35em .4em;vertical-align:top}}
.yq-screen .yq-due{{font-size:.75em}}
</style>
<div class="yq-screen"><h1>{render("DASH_BOARD_TITLE")}</h1><div class="yq-sum">{summary}</div>
<table><colgroup><col style="width:30%"><col style="width:13%"><col style="width:9%"><col style="width:16%"><col style="width:16%"><col style="width:16%"></colgroup><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>"""
