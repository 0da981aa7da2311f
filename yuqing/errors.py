"""The one exception type users see: a message code plus parameters, rendered from yuqing.vocabulary.

The class itself is the engines' (timeline.words), so a refusal raised in an engine and one raised
here are the same type; importing this module installs the vocabulary that gives it words.
"""
from __future__ import annotations

from timeline.words import YuqingError
from yuqing import vocabulary as _vocabulary  # noqa: F401 - installs the renderer

__all__ = ["YuqingError"]
