"""How the engines speak without holding words: a refusal is a code with parameters.

The engines (timeline, classify, scoring, ingest) import nothing of the application, so they keep
no sentences. Every sentence lives in the application's vocabulary (yuqing/vocabulary.py), keyed
by code; the application installs its renderer once at import (`install`), and from then on a
refusal's `message` and `say(...)` come out in Chinese. Without an installed renderer (an engine
used on its own) they come out as the bare code, so nothing is ever invented here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

Renderer = Callable[..., str]

_renderer: list[Renderer] = []


def install(render: Renderer) -> None:
    """Make `render(code, **params)` the one way codes become sentences (called by yuqing.vocabulary)."""
    _renderer[:] = [render]


def say(code: str, **params: Any) -> str:
    """The sentence for `code`, or the bare code when no vocabulary is installed."""
    return _renderer[0](code, **params) if _renderer else code


class YuqingError(Exception):
    """A refusal or failure the user can act on. `str()` is the sentence ending in [CODE]."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        return say(self.code, **self.params)

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


class Labels(Mapping[str, str]):
    """The names of one family of codes (windows, states, channels, action kinds …), read from the
    installed vocabulary as `FAMILY_code`: the engine keeps the codes, the application the words."""

    def __init__(self, family: str, codes: tuple[str, ...]) -> None:
        self.family = family
        self.codes = codes

    def __getitem__(self, code: str) -> str:
        if code not in self.codes:
            raise KeyError(code)
        return say(f"{self.family}_{code}")

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)
