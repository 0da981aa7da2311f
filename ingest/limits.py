"""What one imported file may hold: the limits the spreadsheet reader enforces (pure data; the
values come from the settings YUQING_IMPORT_*)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one imported file may hold (settings YUQING_IMPORT_*)."""

    max_rows: int = 200_000
    max_cell: int = 32_767  # Excel's own limit for one cell
    max_expanded_mb: int = 512  # the xlsx's members, uncompressed, together
    max_ratio: int = 200  # uncompressed ÷ compressed of one member (larger than RATIO_FLOOR)
    # Rows stored per transaction: a kill leaves whole batches, and a rerun adds only the rest (the
    # dedup keys recognise what the earlier run stored).
    batch_rows: int = 1000
