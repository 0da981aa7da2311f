"""The vocabulary is the one home of the product's words: walk every call site against the table.

Every code the code names exists; every placeholder of a literal code is filled by each caller; no
entry is unused; and the same window reads the same in the CLI, on the board and in an alert.
"""
from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from yuqing import vocabulary
from yuqing.vocabulary import LABELS, TABLE, MissingWord, render

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("yuqing", "timeline", "classify", "scoring", "ingest")
# Calls whose first argument is a vocabulary code.
SPEAKERS = {"render", "say", "YuqingError", "text", "MissingWord"}


def sources() -> list[Path]:
    files = [ROOT / "dashboard.py"]
    for package in PACKAGES:
        files += [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    return files


def call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def walk() -> tuple[list[tuple[Path, int, str, set[str] | None]], set[str], set[str]]:
    """(literal calls: path, line, code, keyword names or None when **kwargs), dynamic prefixes,
    every string constant in the code."""
    calls: list[tuple[Path, int, str, set[str] | None]] = []
    prefixes: set[str] = set()
    constants: set[str] = set()
    for path in sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            if not isinstance(node, ast.Call) or call_name(node) not in SPEAKERS or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names: set[str] | None = {k.arg for k in node.keywords if k.arg is not None}
                if any(k.arg is None for k in node.keywords):
                    names = None
                calls.append((path, node.lineno, first.value, names))
            elif isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
                prefixes.add(str(first.values[0].value))
    return calls, prefixes, constants


CALLS, PREFIXES, CONSTANTS = walk()


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def test_the_walk_finds_the_call_sites():
    # A walk that found nothing would pass every check below.
    assert len(CALLS) > 250
    assert {"E_INCIDENT_MISSING", "AL_AT_RISK", "WINDOW_OVERDUE"} <= {code for _, _, code, _ in CALLS}


def test_every_code_used_exists():
    missing = [f"{p.relative_to(ROOT)}:{line} {code}" for p, line, code, _ in CALLS
               if code not in TABLE and code.isupper()]
    assert missing == []


def test_every_placeholder_is_filled_by_every_caller():
    unfilled = []
    for path, line, code, names in CALLS:
        if names is None or code not in TABLE:
            continue
        lacking = placeholders(TABLE[code]) - names
        if lacking:
            unfilled.append(f"{path.relative_to(ROOT)}:{line} {code} lacks {sorted(lacking)}")
    assert unfilled == []


def test_no_entry_is_unused():
    label_keys = {f"{family}_{code}" for family, names in LABELS.items() for code in names}
    unused = [
        key for key in TABLE
        if key not in label_keys and key not in CONSTANTS and not any(key.startswith(p) for p in PREFIXES if p)
    ]
    assert unused == []
    # Label families are named in the code (label("UNIT_KIND", …), LABELS["ROLE"], Labels("WINDOW", …)).
    assert [family for family in LABELS if family not in CONSTANTS] == []


def test_rendering_with_a_missing_parameter_fails_loudly():
    with pytest.raises(MissingWord):
        render("E_INCIDENT_MISSING")
    with pytest.raises(MissingWord):
        render("E_NO_SUCH_CODE")


def test_argparse_table_is_not_mixed_into_the_codes():
    assert not set(vocabulary.ARGPARSE) & set(TABLE)


def test_cli_board_and_alert_read_the_same_for_one_overdue_window(db_url):
    from cliutil import yq

    from yuqing.alerts.rules import IncidentClock, due_alerts
    from yuqing.db.incidents import get_incident
    from yuqing.db.session import Database
    from yuqing.pages.countdown import cell

    assert yq(db_url, "init").code == 0
    added = yq(db_url, "incident", "add", "--title", "某小区停水", "--unit", "灵宝", "--no-classify",
               "--first-post-at", "2026-06-09 08:00", "--detected-at", "2026-06-09 08:00", "--not-sudden")
    assert added.code == 0, added.err
    incident_id = int(added.out.split()[-1].lstrip("#")) if added.out.split()[-1].lstrip("#").isdigit() else None
    now = "2026-06-10 14:00:13"  # 24 h response window due 06-10 08:00 → 6 h 00 min 13 s overdue
    listed = yq(db_url, "incident", "list", "--open", "--now", now)
    assert listed.code == 0, listed.err
    expected = "已超时 6 小时 00 分"
    window_line = next(line for line in listed.out.splitlines() if line.strip().startswith("回应"))
    assert window_line.endswith("：" + expected)

    from timeline.clock import parse_user_time

    moment = parse_user_time(now)
    database = Database(db_url)
    try:
        view = database.run(get_incident, incident_id) if incident_id else None
        if view is None:
            from yuqing.db.incidents import list_incidents

            view = database.run(list_incidents, open_only=True)[0]
    finally:
        database.dispose()
    verdict = view.verdict(moment)
    window = next(w for w in verdict.windows if w.key == "response")
    assert cell(window).text == expected
    clock = IncidentClock(incident_id=view.id, title=view.title, unit_code=view.unit.code,
                          unit_name=view.unit.name, flagged=False, verdict=verdict)
    alerts = due_alerts([clock], [], already_sent=set(), now=moment, quiet=None)
    overdue = [a for a in alerts if a.kind == "overdue"]
    assert overdue and expected in overdue[0].text


def test_unit_kind_reads_the_same_in_units_list_and_score_csv():
    from yuqing.db.scoring_writes import _kind_name
    from yuqing.exports import KIND_NAMES

    assert _kind_name("department") == KIND_NAMES["department"] == LABELS["UNIT_KIND"]["department"]


def test_a_refusal_naming_a_command_line_option_has_the_page_s_wording():
    # The dashboard showed “排除信息必须说明原因（--reason）” and “请用 --unit 指定”: a page has fields and
    # choices, not options. Every refusal whose sentence names one has a screen wording, or only the
    # command line raises it.
    naming = {code for code, text in vocabulary.MESSAGES.items() if code.startswith("E_") and " --" in f" {text}"}
    assert naming, "the walk over the messages found no option at all"
    assert naming - set(vocabulary.SCREEN) - set(vocabulary.CLI_ONLY_OPTIONS) == set()
    for code, text in vocabulary.SCREEN.items():
        assert "--" not in text and placeholders(text) <= placeholders(vocabulary.MESSAGES[code]), code


def test_the_page_shows_the_screen_wording_and_the_command_line_keeps_its_own():
    from yuqing.errors import YuqingError
    from yuqing.pages.common import refusal

    refused = YuqingError("E_REASON_REQUIRED", what="排除信息")
    assert refusal(refused) == "排除信息必须填写原因" and "--reason" in refused.message
    other = YuqingError("E_INCIDENT_MISSING", id=3)
    assert refusal(other) == other.message
