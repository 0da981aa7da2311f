"""Every command and subcommand explains itself (datasette's meta-test habit)."""
from __future__ import annotations

import argparse

import pytest

from yuqing import cli


def commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str | None, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                found.append(((*prefix, name), helps.get(name), sub))
                found.extend(commands(sub, (*prefix, name)))
    return found


ALL = commands(cli.build_parser())


def test_there_are_commands_to_check():
    assert len(ALL) > 40


@pytest.mark.parametrize("path, help_text, parser", ALL, ids=[" ".join(p) for p, _, _ in ALL])
def test_every_command_has_chinese_help(path, help_text, parser):
    assert help_text and help_text.strip(), f"yuqing {' '.join(path)} has no help"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in help_text)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--help"])
    assert exit_info.value.code == 0
