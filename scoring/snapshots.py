"""Comparing stored score snapshots (`score --diff`) and fingerprinting the data a score came from."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from classify.units import UnitRef
from scoring.facts import AppealDecision, DailyRecord, ManualScore, Referral, ScoredIncident, SpecialItem, Zeroing
from scoring.indicators import within, year_bounds
from scoring.results import round2
from scoring.scheme import Scheme
from timeline.words import YuqingError


def _index(rows: Any, which: str) -> dict[str, dict[str, Any]]:
    if not isinstance(rows, list):
        raise YuqingError("E_SCORE_SNAPSHOT", problem=f"{which}不是列表")
    index: dict[str, dict[str, Any]] = {}
    for position, row in enumerate(rows):
        try:
            code = row["unit"]["code"]
            row["indicators"], row["total"]
        except (TypeError, KeyError):
            raise YuqingError("E_SCORE_SNAPSHOT", problem=f"{which}第 {position + 1} 项缺少 unit.code、indicators 或 total") from None
        index[code] = row
    return index


def _deductions(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["key"]: d for i in row.get("indicators", []) for d in i.get("deductions", [])}


def _delta(old: float | None, new: float | None) -> float | None:
    return None if old is None or new is None else round2(new - old)


def diff_scores(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-unit changes between two `as_json` lists (old snapshot → new run), units with no change left
    out. Each change: unit, change (added | removed | changed), total/grade/rank old→new, indicators
    whose points moved, and deductions added, removed, overturned or reinstated (by key)."""
    before, after = _index(old, "旧快照"), _index(new, "新结果")
    changes: list[dict[str, Any]] = []
    for code in list(after) + [c for c in before if c not in after]:
        a, b = before.get(code), after.get(code)
        unit = (b or a)["unit"]  # type: ignore[index]  # at least one of the two rows exists
        if a is None or b is None:
            changes.append({
                "unit": unit,
                "change": "added" if a is None else "removed",
                "total": {"old": a and a["total"], "new": b and b["total"], "delta": None},
                "grade": {"old": a and a.get("grade"), "new": b and b.get("grade")},
                "rank": {"old": a and a.get("rank"), "new": b and b.get("rank")},
                "indicators": [],
                "deductions": {"added": [], "removed": [], "overturned": [], "reinstated": []},
            })
            continue
        old_points = {i["code"]: i for i in a["indicators"]}
        indicators = []
        for indicator in b["indicators"]:
            previous = old_points.get(indicator["code"])
            was = previous["points"] if previous else None
            if previous is None or was != indicator["points"]:
                indicators.append({"code": indicator["code"], "name": indicator["name"], "old": was,
                                   "new": indicator["points"], "delta": _delta(was, indicator["points"])})
        for code_old, previous in old_points.items():
            if code_old not in {i["code"] for i in b["indicators"]}:
                indicators.append({"code": code_old, "name": previous["name"], "old": previous["points"], "new": None, "delta": None})
        da, db = _deductions(a), _deductions(b)
        deductions = {
            "added": [db[k] for k in db if k not in da],
            "removed": [da[k] for k in da if k not in db],
            "overturned": [k for k in db if k in da and db[k].get("overturned") and not da[k].get("overturned")],
            "reinstated": [k for k in db if k in da and da[k].get("overturned") and not db[k].get("overturned")],
        }
        moved = (a["total"] != b["total"] or a.get("grade") != b.get("grade") or a.get("rank") != b.get("rank")
                 or indicators or any(deductions.values()))
        if moved:
            changes.append({
                "unit": unit,
                "change": "changed",
                "total": {"old": a["total"], "new": b["total"], "delta": _delta(a["total"], b["total"])},
                "grade": {"old": a.get("grade"), "new": b.get("grade")},
                "rank": {"old": a.get("rank"), "new": b.get("rank")},
                "indicators": indicators,
                "deductions": deductions,
            })
    return changes


# -- fingerprint ----------------------------------------------------------------------------------
def _t(value: datetime | date | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()
    return value.isoformat()


def _incident_line(i: ScoredIncident) -> str:
    windows = ";".join(
        f"{w.key},{int(w.applicable)},{w.state},{_t(w.due_at)},{_t(w.satisfied_at)},{int(w.past_due_at_reclassification)}"
        for w in i.verdict.windows
    )
    actions = ";".join(
        f"{a.kind},{_t(a.at)},{'+'.join(sorted(a.channels))},{int(a.by_principal)}"
        for a in sorted(i.actions, key=lambda a: (a.at, a.kind))
    )
    return "\x1f".join((
        "I", str(i.id), i.title, i.unit_code, ",".join(sorted(i.co_unit_codes)), str(i.parent_id), _t(i.started_at),
        str(int(i.voided)), str(int(i.verdict.flagged)), i.verdict.preset, windows, actions,
    ))


def scored_data_hash(
    scheme: Scheme,
    year: int,
    units: Sequence[UnitRef],
    incidents: Sequence[ScoredIncident] = (),
    referrals: Sequence[Referral] = (),
    manual: Sequence[ManualScore] = (),
    specials: Sequence[SpecialItem] = (),
    zeroings: Sequence[Zeroing] = (),
    daily: Sequence[DailyRecord] = (),
    appeals: Sequence[AppealDecision] = (),
) -> str:
    """SHA-256 over what a `score_year` run for `year` reads: the scheme file, the units, the year's
    incidents (with their verdict states, not the seconds counted down) and their parents, referrals,
    manual scores, special items, zeroings, daily records and appeal decisions. Input order does not
    matter; records of other years do not change it."""
    bounds = year_bounds(year)
    by_id = {i.id: i for i in incidents}
    counted = {i.id: i for i in incidents if within(i.started_at, bounds)}
    for i in list(counted.values()):
        if i.parent_id is not None and i.parent_id in by_id:
            counted.setdefault(i.parent_id, by_id[i.parent_id])
    lines: list[str] = [f"S\x1f{scheme.name}\x1f{scheme.digest}\x1f{year}"]
    lines += sorted(f"U\x1f{u.code}\x1f{u.name}\x1f{u.kind}\x1f{int(u.active)}" for u in units)
    lines += sorted(_incident_line(i) for i in counted.values())
    lines += sorted(
        f"R\x1f{r.id}\x1f{r.incident_id}\x1f{r.unit_code}\x1f{_t(r.sent_at)}\x1f{_t(r.due_at)}\x1f{_t(r.replied_at)}"
        for r in referrals if within(r.sent_at, bounds)
    )
    lines += sorted(f"M\x1f{m.unit_code}\x1f{m.indicator}\x1f{m.points!r}\x1f{m.note}" for m in manual)
    lines += sorted(
        f"P\x1f{s.unit_code}\x1f{s.item}\x1f{s.points!r}\x1f{s.evidence}\x1f{_t(s.on)}\x1f{s.id}" for s in specials if s.year == year
    )
    lines += sorted(f"Z\x1f{z.unit_code}\x1f{z.evidence}\x1f{_t(z.on)}" for z in zeroings if z.year == year)
    lines += sorted(
        f"D\x1f{d.unit_code}\x1f{_t(d.on)}\x1f{d.points!r}\x1f{d.reason}\x1f{d.indicator}\x1f{d.id}" for d in daily if d.on.year == year
    )
    lines += sorted(
        f"A\x1f{a.unit_code}\x1f{a.deduction_key}\x1f{int(a.overturned)}\x1f{_t(a.decided_at)}\x1f{a.reason}" for a in appeals
    )
    return _digest(lines)


def _digest(lines: Iterable[str]) -> str:
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8"))
        h.update(b"\x1e")
    return h.hexdigest()
