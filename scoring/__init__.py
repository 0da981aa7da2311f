"""Scoring: schemes as data, the pure yearly assessment of units, working days.

Pure: no database, no clock (`now` is an argument), no environment. The public API is re-exported here.
"""
from scoring.assessment import rank, score_year
from scoring.facts import (
    ActionFact,
    AppealDecision,
    DailyRecord,
    ManualScore,
    Referral,
    ScoredIncident,
    SpecialItem,
    Zeroing,
)
from scoring.results import Deduction, IndicatorScore, SpecialScore, StateCounts, UnitScore, as_json
from scoring.scheme import DEFAULT_SCHEME, Scheme, available_schemes, load_scheme, parse_scheme
from scoring.snapshots import diff_scores, scored_data_hash
from scoring.workdays import WorkdayCalendar, load_calendar, referral_due_at

__all__ = [
    "ActionFact", "AppealDecision", "DEFAULT_SCHEME", "DailyRecord", "Deduction",
    "IndicatorScore", "ManualScore", "Referral", "Scheme", "ScoredIncident", "SpecialItem",
    "SpecialScore", "StateCounts", "UnitScore", "WorkdayCalendar", "Zeroing", "as_json",
    "available_schemes", "diff_scores", "load_calendar", "load_scheme",
    "parse_scheme", "rank", "referral_due_at", "score_year", "scored_data_hash",
]
