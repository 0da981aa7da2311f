"""The one exception type users see: a message code plus parameters, rendered from messages.py."""
from __future__ import annotations

from typing import Any

from messages import render


class YuqingError(Exception):
    """A refusal or failure the user can act on. `str()` is the Chinese sentence ending in [CODE]."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        return render(self.code, **self.params)

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"
