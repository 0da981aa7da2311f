"""Cached reads of the scoring layer for the 单位考核 and 舆情函件 pages: the calls `yuqing score`,
`bulletin`, `referral list`, `rectify list` make (yuqing.db.scoring_reads), results kept as plain data."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scoring import as_json
from scoring.facts import ScoredIncident
from timeline.clock import display_beijing, to_beijing
from yuqing.bulletin import Bulletin
from yuqing.db import appeals as appeal_store
from yuqing.db import referrals as referral_store
from yuqing.db import scoring_reads
from yuqing.db.session import Database
from yuqing.exports import export_csv, export_xlsx
from yuqing.pages import common
from yuqing.vocabulary import LABELS

KIND_NAMES = LABELS["UNIT_KIND"]
# The opinion indicators the system computes, timeliness first; manual indicators come after them.
SOURCE_ORDER = ("timeliness", "authority", "coverage", "continuity", "referrals", "daily_monitoring")


@dataclass(frozen=True)
class YearScores:
    """One year's results as `score --format json` gives them (ranked), judged at `now`."""

    year: int
    scheme: str
    scheme_title: str
    proposed: bool
    now: datetime
    rows: list[dict[str, Any]]

    def csv(self) -> bytes:
        return export_csv(self.rows)

    def row(self, code: str) -> dict[str, Any] | None:
        for row in self.rows:
            if row["unit"]["code"] == code:
                return row
        return None


@common.office_cached(ttl=60, max_entries=2, show_spinner="正在计算考核得分…")
def year_scores(year: int) -> YearScores:
    now = common.now()
    data = common.database().read(scoring_reads.load_year, year, now=now)
    return YearScores(year, data.scheme.name, data.scheme.title, data.scheme.status == "proposed", now,
                      as_json(data.score()))


def deferred(build: Callable[..., bytes], *args: Any) -> Callable[[], bytes]:
    """A download's contents built when its button is clicked. Streamlit runs the callable on a thread
    of its own, outside the page's session, so the session's database (its office) is taken now."""
    database = common.database()
    return lambda: build(database, *args)


def year_xlsx(database: Database, year: int, now: datetime) -> bytes:
    """The workbook with its per-incident sheet, from a fresh read judged at the page's `now` (the
    cache keeps the ranking, not every incident of the year)."""
    data = database.read(scoring_reads.load_year, year, now=now)
    details: tuple[ScoredIncident, ...] = tuple(data.incidents)
    return export_xlsx(as_json(data.score()), details)


def _bulletin(database: Database, year: int, quarter: int) -> Bulletin:
    from yuqing.bulletin import quarter_bounds

    now = common.now()
    # The page offers a quarter still running as a draft (征求意见稿), never as the final bulletin.
    return database.read(scoring_reads.make_bulletin, year, quarter, now=now, draft=now < quarter_bounds(year, quarter)[1])


@common.office_cached(ttl=60, max_entries=4, show_spinner="正在生成季度通报…")
def bulletin(year: int, quarter: int) -> tuple[str, str]:
    """(title, Markdown) of the quarterly bulletin (第十条): what the page shows."""
    result = _bulletin(common.database(), year, quarter)
    return result.title, result.to_markdown()


def bulletin_xlsx(database: Database, year: int, quarter: int) -> bytes:
    """The bulletin's workbook (for `deferred`: built on click, not kept in the page cache)."""
    return _bulletin(database, year, quarter).to_xlsx()


def bulletin_docx(database: Database, year: int, quarter: int, office: str, doc_number: str) -> bytes:
    """The quarterly bulletin as a 公文 (docx), exactly as `yuqing bulletin --format docx` (for `deferred`)."""
    from yuqing.documents.bulletin_doc import bulletin_docx as render_docx

    return render_docx(_bulletin(database, year, quarter), office=office, doc_number=doc_number.strip() or None)


@common.office_cached(ttl=60, max_entries=2, show_spinner=False)
def public_html(year: int) -> bytes:
    """The public ranking page (`yuqing score --public --format html`)."""
    from timeline.clock import to_beijing
    from yuqing.documents.ranking import public_html as render_html

    rows = year_scores(year).rows
    return render_html(rows, year, office=common.config().office_name, day=to_beijing(common.now()).date())


@common.office_cached(ttl=10, max_entries=4, show_spinner=False)
def referrals(year: int | None) -> list[referral_store.ReferralView]:
    return common.database().read(referral_store.list_referrals, now=common.now(), year=year)


@common.office_cached(ttl=10, max_entries=4, show_spinner=False)
def rectifications(year: int) -> list[appeal_store.RectificationView]:
    return common.database().read(appeal_store.list_rectifications, year=year)


@common.office_cached(ttl=10, max_entries=4, show_spinner=False)
def appeals(year: int) -> list[appeal_store.AppealView]:
    return common.database().read(appeal_store.list_appeals, year=year)


common.EXTRA_READS[:] = [year_scores, bulletin, public_html, referrals, rectifications, appeals]


def this_year() -> int:
    return to_beijing(common.now()).year


def default_quarter(year: int) -> int:
    """The quarter in progress for this year (Beijing time), else the last one."""
    today = to_beijing(common.now())
    return (today.month - 1) // 3 + 1 if today.year == year else 4


def points(value: float | None) -> str:
    """87.0 → '87', 87.5 → '87.5', None → '—'."""
    if value is None:
        return "—"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def complete_ranking(rows: list[dict[str, Any]]) -> str:
    """`total` when every unit has a total (the manual indicators are in), else `opinion`: the 舆情回应
    ranking this product computes on its own."""
    return "total" if rows and all(r["total"] is not None for r in rows) else "opinion"


def ranking(rows: list[dict[str, Any]], by: str = "total") -> list[dict[str, Any]]:
    """The ranking table: one line per unit, departments then counties, each sorted by the chosen rank
    (`total` or `opinion`); units without that rank come last."""
    def key(r: dict[str, Any]) -> tuple:
        value = r["rank"] if by == "total" else (r.get("opinion") or {}).get("rank")
        return (list(KIND_NAMES).index(r["unit"]["kind"]) if r["unit"]["kind"] in KIND_NAMES else len(KIND_NAMES),
                value is None, value or 0)

    return [
        {
            "类别": KIND_NAMES.get(r["unit"]["kind"], r["unit"]["kind"]),
            "排名": "—" if r["rank"] is None else str(r["rank"]),
            "舆情回应排名": "—" if (r.get("opinion") or {}).get("rank") is None else str(r["opinion"]["rank"]),
            "单位": r["unit"]["name"],
            "舆情数": r["incidents"],
            "舆情处置得分": points(r["opinion_points"]),
            "舆情处置满分": points(r["opinion_max"]),
            "特别加分": points(r["special"]["bonus"]),
            "特别减分": points(r["special"]["penalty"]),
            "日常考核": points(r["daily"]["points"]),
            "总分": points(r["total"]),
            "等次": r["grade"] or "—",
            "说明": "直接归零" if r["zeroed"] else (f"{len(r['missing_manual'])} 项人工指标未录入" if r["missing_manual"] else ""),
        }
        for r in sorted(rows, key=key)
    ]


def indicators(rows: list[dict[str, Any]], kind: str) -> dict[str, tuple[str, float, list[dict[str, Any]]]]:
    """code → (name, max, [{单位, 得分}]) for every indicator of one kind of unit, computed ones first."""
    found: dict[str, tuple[str, float, list[dict[str, Any]]]] = {}
    order: dict[str, int] = {}
    for row in rows:
        if row["unit"]["kind"] != kind:
            continue
        for i in row["indicators"]:
            entry = found.setdefault(i["code"], (i["name"], i["max"], []))
            order.setdefault(i["code"], SOURCE_ORDER.index(i["source"]) if i["source"] in SOURCE_ORDER
                             else len(SOURCE_ORDER))
            if i["points"] is not None:
                entry[2].append({"单位": row["unit"]["name"], "得分": i["points"]})
    return {code: found[code] for code in sorted(found, key=lambda c: order[c])}  # stable: scheme order within


def deductions(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Every deduction of one unit, each with its indicator, key (for appeals) and incident."""
    out = []
    for i in row["indicators"]:
        for d in i["deductions"]:
            out.append({**d, "indicator": i["name"], "indicator_code": i["code"]})
    return out


def when(value: datetime | None) -> str:
    return display_beijing(value)
