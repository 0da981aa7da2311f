"""Scoring commands of the `yuqing` CLI (referrals, manual scores, specials, appeals, score, bulletin)."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the scoring subcommands to the main parser."""
