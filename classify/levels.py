"""Event level from figures with the national grading tables (DESIGN.md §2.3, tables in rules.toml).

The highest level any criterion reaches wins. With no figure at all the level is unknown (None), never
一般; with known figures below every criterion (an explicit 无人员伤亡 included) it is the table's floor.
"""
from __future__ import annotations

from classify.numbers import Amount
from classify.ruleset import Criterion, Table


def _table_figures(table: Table, figures: dict[str, Amount | None]) -> dict[str, Amount | None]:
    """The figures as the table counts them: 死亡（含失踪）, 重伤（包括急性工业中毒）."""
    view = dict(figures)
    deaths, missing = figures.get("deaths"), figures.get("missing")
    if table.deaths_include_missing and missing is not None:
        view["deaths"] = missing if deaths is None else deaths.plus(missing)
    serious, poisoned = figures.get("seriously_injured"), figures.get("affected")
    if table.poisoned_as_serious and poisoned is not None:
        if serious is None or poisoned.effective > serious.effective:
            view["seriously_injured"] = poisoned
    return view


def _meets(criterion: Criterion, figures: dict[str, Amount | None]) -> bool:
    amount = figures.get(criterion.figure)
    if amount is None:
        return False
    if criterion.op == "at_least":  # "N以上" includes N
        return amount.effective >= criterion.value
    return amount.effective > criterion.value  # "超过N" excludes N


def grade(table: Table, figures: dict[str, Amount | None]) -> str | None:
    """The level `table` gives these figures; None when the text states no figure at all."""
    if all(amount is None for amount in figures.values()):
        return None
    view = _table_figures(table, figures)
    for rule in table.levels:  # most severe first
        if any(all(_meets(c, view) for c in group) for group in rule.any):
            return rule.level
    return table.floor
