"""Models of the scoring layer (filled by the scoring work)."""
from __future__ import annotations
