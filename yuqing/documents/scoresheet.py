"""The 考核组's score sheet: one row per unit × manual indicator (Chinese names, maximum points, an
empty points column, a note column), a sheet per tree; `manual-score import` takes it back."""
from __future__ import annotations

from collections.abc import Sequence

from classify.units import UnitRef
from scoring.scheme import Scheme
from yuqing.exports import KIND_NAMES, new_workbook, workbook_bytes, write_table

SHEET_HEADER = ("单位", "指标", "满分", "得分", "说明")


def score_sheet(scheme: Scheme, units: Sequence[UnitRef]) -> bytes:
    book = new_workbook()
    active = [u for u in units if u.active]
    # A sheet for each kind the office's registry holds (towns and enterprises only where it has them);
    # an office with no units yet still gets the two trees of the scheme as empty forms.
    kinds = [k for k in KIND_NAMES if any(u.kind == k for u in active)] or ["department", "county"]
    for kind in kinds:
        title = KIND_NAMES[kind]
        group = [u for u in active if u.kind == kind]
        manual = [i for i in scheme.tree(kind).indicators if not i.computed]
        rows = [[u.name, i.name, i.points, None, None] for u in group for i in manual]
        write_table(book, title, SHEET_HEADER, rows, widths={1: 34, 2: 40, 3: 8, 4: 8, 5: 40})
    return workbook_bytes(book)
