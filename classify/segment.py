"""Word segmentation: one private jieba tokenizer per process, with the rule words as its user dictionary.

A rule word counts only where it is whole tokens of the text (一起/火锅 does not contain 起火; 爆炸式 is
not 爆炸). Only the runs of text that may hold a rule word are segmented, so ordinary news costs a regex.
"""
from __future__ import annotations

import bisect
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Iterable
from typing import Any

with warnings.catch_warnings():
    # Some jieba/setuptools combinations warn about pkg_resources or old escape sequences on import.
    warnings.simplefilter("ignore")
    import jieba

# The same character class jieba uses to cut text into independently segmented blocks, so that a run
# segmented alone gives exactly the tokens it gets inside the whole text.
RUN = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+")

_lock = threading.Lock()
_tokenizers: dict[tuple[str, ...], Any] = {}


def _cache_dir() -> str:
    path = os.path.join(tempfile.gettempdir(), "yuqing-jieba")
    os.makedirs(path, exist_ok=True)
    return path


def add_user_words(tokenizer: Any, words: Iterable[str]) -> None:
    """Add rule words so each is cut as one token; jieba's own frequency is kept when it is higher.

    The frequency jieba suggests is just enough to keep the word whole, which disturbs the segmentation
    of the surrounding text as little as possible. The speed benchmark loads the same words this way.
    """
    for word in words:
        tokenizer.add_word(word, tokenizer.suggest_freq(word, False))


def tokenizer_for(words: tuple[str, ...]) -> Any:
    """The process-wide tokenizer for this user dictionary (built once; later calls share it)."""
    found = _tokenizers.get(words)
    if found is not None:
        return found
    with _lock:
        found = _tokenizers.get(words)
        if found is None:
            jieba.setLogLevel(logging.WARNING)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = jieba.Tokenizer()
                found.tmp_dir = _cache_dir()
                found.initialize()
                add_user_words(found, words)
            _tokenizers[words] = found
    return found


class Segmenter:
    """Token boundaries of the runs of one text, computed on demand and remembered for that text."""

    __slots__ = ("text", "_tokenizer", "_starts", "_ends", "_tokens", "_scanned")

    def __init__(self, text: str, tokenizer: Any) -> None:
        self.text = text
        self._tokenizer = tokenizer
        self._starts: list[int] | None = None
        self._ends: list[int] = []
        self._tokens: dict[int, list[str]] = {}
        self._scanned: set[int] = set()

    def run_at(self, pos: int) -> tuple[int, int]:
        """Start and end of the segmentation run holding position `pos` (an empty span if none)."""
        if self._starts is None:
            spans = [m.span() for m in RUN.finditer(self.text)]
            self._starts = [s for s, _ in spans]
            self._ends = [e for _, e in spans]
        i = bisect.bisect_right(self._starts, pos) - 1
        if i < 0 or pos >= self._ends[i]:
            return pos, pos
        return self._starts[i], self._ends[i]

    def tokens(self, run_start: int, run_end: int) -> list[str]:
        cached = self._tokens.get(run_start)
        if cached is None:
            cached = self._tokenizer.lcut(self.text[run_start:run_end], HMM=False)
            self._tokens[run_start] = cached
        return cached

    def words_in_run(
        self, pos: int, vocabulary: dict[str, Any], longest: int
    ) -> list[tuple[int, int, str, str | None, int]]:
        """Vocabulary words in the run holding `pos`: (start, end, word, token, token_start).

        `token` is None when the word is a sequence of whole tokens, else the single longer token the
        word sits inside (发生爆炸 holds 爆炸), which starts at `token_start`. Words straddling a token
        boundary are not returned. Each run is scanned once; a second call for the same run returns [].
        """
        run_start, run_end = self.run_at(pos)
        if run_start in self._scanned or run_start == run_end:
            return []
        self._scanned.add(run_start)
        tokens = self.tokens(run_start, run_end)
        found: list[tuple[int, int, str, str | None, int]] = []
        offset = run_start
        for i, token in enumerate(tokens):
            joined = ""
            for nxt in tokens[i:]:
                joined += nxt
                if len(joined) > longest:
                    break
                if joined in vocabulary:
                    found.append((offset, offset + len(joined), joined, None, offset))
            size = len(token)
            if size > 2:
                for a in range(size - 1):
                    for b in range(a + 2, min(size, a + longest) + 1):
                        if (a, b) != (0, size) and token[a:b] in vocabulary:
                            found.append((offset + a, offset + b, token[a:b], token, offset))
            offset += size
        return found

    def is_whole(self, start: int, end: int) -> bool:
        """True when text[start:end] begins and ends on token boundaries."""
        run_start, run_end = self.run_at(start)
        if end > run_end or run_start == run_end:
            return False
        tokens = self.tokens(run_start, run_end)
        offset = run_start
        starts_ok = False
        for token in tokens:
            if offset == start:
                starts_ok = True
            offset += len(token)
            if offset == end:
                return starts_ok
            if offset > end:
                return False
        return False
