"""Cached reads of the scoring layer for the 单位考核 and 舆情函件 pages: the calls `yuqing score`,
`bulletin`, `referral list`, `rectify list` make (yuqing.db.scoring_reads), results kept as plain data."""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scoring import as_json
from scoring.facts import ScoredIncident
from timeline.clock import display_beijing, to_beijing
from yuqing.bulletin import Bulletin
from yuqing.db import appeals as appeal_store
from yuqing.db import referrals as referral_store
from yuqing.db import scoring_reads, scoring_state
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


# A year's per-unit results are kept in the data directory under the key of the data they came from
# (yuqing.db.scoring_state): a view reads the key and the kept ranking; the year is scored again only
# after a write, once a deadline turns a verdict, or when the kept results are an hour old. The page
# (and its cache) holds the ranking without the deductions; a unit's deductions are read when it is
# picked, one line of the kept units file.
KEPT_FOLDER = "score-results"
KEPT_YEARS = 8
KEPT_AGE = timedelta(hours=1)


@common.office_cached(ttl=60, max_entries=2, show_spinner="正在计算考核得分…")
def year_scores(year: int) -> YearScores:
    """The year's ranking: every unit's totals and indicator points, each indicator's deductions left
    out (`unit_deductions` reads one unit's)."""
    now = common.now()
    database = common.database()
    key = database.read(scoring_state.data_state, year)  # read before the data: a write in between makes it stale
    path = _kept_path(year)
    kept = _read_kept(path, key, now)
    if kept is not None:
        return kept
    data = database.read(scoring_reads.load_year, year, now=now)
    result = YearScores(year, data.scheme.name, data.scheme.title, data.scheme.status == "proposed", now,
                        as_json(data.score()))
    _keep(path, key, scoring_state.settled_until(data), result)
    return _summary(result)


@common.office_cached(ttl=60, max_entries=8, show_spinner=False)
def unit_deductions(year: int, code: str, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """indicator code → deductions of one unit in the results judged at `now` (the ranking's)."""
    path = _kept_path(year)
    key = common.database().read(scoring_state.data_state, year)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("key") == key and meta.get("now") == now.isoformat():
            with path.with_suffix(".units").open(encoding="utf-8") as lines:
                for line in lines:
                    found, _, rest = line.partition("\t")
                    if found == code:
                        return dict(json.loads(rest))
                return {}
    except (OSError, ValueError):
        pass
    # Not kept (an unwritable data directory, or the data changed since): score the year again.
    data = common.database().read(scoring_reads.load_year, year, now=now)
    row = next((r for r in as_json(data.score()) if r["unit"]["code"] == code), None)
    return {} if row is None else {i["code"]: i["deductions"] for i in row["indicators"]}


def _summary(result: YearScores) -> YearScores:
    rows = [{**r, "indicators": [{**i, "deductions": [], "deduction_count": len(i["deductions"])} for i in r["indicators"]]}
            for r in result.rows]
    return YearScores(result.year, result.scheme, result.scheme_title, result.proposed, result.now, rows)


def _kept_path(year: int) -> Path:
    office, _ = common.office_key()
    return common.config().data_dir / KEPT_FOLDER / f"office-{'all' if office is None else office}-{year}.json"


def _read_kept(path: Path, key: str, now: datetime) -> YearScores | None:
    """The kept ranking, if it was computed from this data and still holds at `now`."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        judged = datetime.fromisoformat(kept["now"])
        until = datetime.fromisoformat(kept["until"]) if kept["until"] else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if kept.get("key") != key or not judged <= now < judged + KEPT_AGE or (until is not None and now >= until):
        return None
    return YearScores(kept["year"], kept["scheme"], kept["scheme_title"], kept["proposed"], judged, kept["rows"])


def _keep(path: Path, key: str, until: datetime | None, result: YearScores) -> None:
    """Write each unit's deductions (one line a unit), then the ranking with the key (both atomically),
    and remove the oldest kept years beyond KEPT_YEARS."""
    meta = {"key": key, "until": until.isoformat() if until else None, "year": result.year, "scheme": result.scheme,
            "scheme_title": result.scheme_title, "proposed": result.proposed, "now": result.now.isoformat(),
            "rows": _summary(result).rows}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path.with_suffix(".units"), "".join(
            r["unit"]["code"] + "\t" + json.dumps({i["code"]: i["deductions"] for i in r["indicators"]}, ensure_ascii=False) + "\n"
            for r in result.rows))
        _write(path, json.dumps(meta, ensure_ascii=False))
        kept = sorted(path.parent.glob("office-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[KEPT_YEARS:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".units").unlink(missing_ok=True)
    except OSError:
        return  # a data directory that cannot be written only means the next view scores again


def _write(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False) as out:
        out.write(text)
    os.replace(out.name, path)


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


common.EXTRA_READS[:] = [year_scores, unit_deductions, bulletin, public_html, referrals, rectifications, appeals]


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


def deductions(row: dict[str, Any], found: dict[str, list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """Every deduction of one unit, each with its indicator, key (for appeals) and incident; `found`
    (unit_deductions) gives them when the row is the ranking's, which leaves them out."""
    out = []
    for i in row["indicators"]:
        for d in (i["deductions"] if found is None else found.get(i["code"], [])):
            out.append({**d, "indicator": i["name"], "indicator_code": i["code"]})
    return out


def when(value: datetime | None) -> str:
    return display_beijing(value)
