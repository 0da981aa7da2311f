"""What user input and library errors look like inside a message.

Every parameter of a message is made safe to print (`visible`): control characters (newlines, ANSI
escapes) and bidirectional overrides are shown as escapes, so a typed value cannot forge a second
line, recolour a terminal or reverse the text around it. A `detail` from a library comes out in
Chinese (`explain`); the original goes to the log.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping

log = logging.getLogger("yuqing.messages")
# The originals belong in the log file (set up by the command's entry point), never on a user's terminal.
logging.getLogger("yuqing").addHandler(logging.NullHandler())

# Bidirectional embeddings, overrides and isolates, and the invisible direction marks.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control, format-override and bidirectional character shown as an escape."""
    return "".join(
        _escape(c) if c in BIDI or unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text
    )


# Markdown's (and Streamlit's) active characters: links, images, emphasis, code, headings, lists,
# tables, HTML and entities, LaTeX ($), colour and emoji shortcodes (:).
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=^&\"'])")


def plain(value: object) -> str:
    """Text people or feeds typed (titles, summaries, names, reasons), made to render literally in
    any Streamlit element that reads Markdown: no links, no images, no formatting, one line."""
    text = " ".join(str(value or "").split())
    return _MARKDOWN.sub(r"\\\1", text)


def quote(text: str) -> str:
    """User input inside a sentence: in Chinese quotes, with nothing that could act on the terminal."""
    return f"“{visible(text)}”"


# Common library errors (OSError strings, json, zipfile, ssl, socket, toml) → the vocabulary code of
# their Chinese sentence (the words are in yuqing/vocabulary.py LIBRARY, passed to `explain`).
_KNOWN: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), code)
    for pattern, code in (
        (r"\[Errno 111\][^\n]*|Connection refused", "LIB_REFUSED"),
        (r"\[Errno 2\][^\n]*|No such file or directory[^\n]*", "LIB_NO_FILE"),
        (r"\[Errno 13\][^\n]*|Permission denied[^\n]*", "LIB_NO_PERMISSION"),
        (r"\[Errno 21\][^\n]*|Is a directory[^\n]*", "LIB_IS_DIRECTORY"),
        (r"\[Errno 28\][^\n]*|No space left on device[^\n]*", "LIB_DISK_FULL"),
        (r"\[Errno 10[14]\][^\n]*|Network is unreachable|Connection reset by peer", "LIB_NETWORK_DOWN"),
        (r"\[Errno 113\][^\n]*|No route to host", "LIB_NO_ROUTE"),
        (r"\[Errno -[235]\][^\n]*|Name or service not known|Temporary failure in name resolution"
         r"|nodename nor servname[^\n]*|getaddrinfo failed", "LIB_DNS"),
        (r"database is locked", "LIB_DB_LOCKED"),
        (r"(?:Read |Connect )?timed? ?out[^\n]*", "LIB_TIMEOUT"),
        (r"(?:\[SSL: \w+\] )?certificate verify failed[^\n]*|CERTIFICATE_VERIFY_FAILED[^\n]*", "LIB_CERTIFICATE"),
        (r"(?:\w+\.)*BadZipFile[^\n]*|File is not a zip file", "LIB_NOT_XLSX"),
        (r"(?:JSONDecodeError: )?(?:Expecting [^\n]*|Extra data[^\n]*|Unterminated string[^\n]*"
         r"|Invalid control character[^\n]*|Invalid \\escape[^\n]*)", "LIB_NOT_JSON"),
        (r"(?:UnicodeDecodeError: )?'[\w-]+' codec can't decode[^\n]*", "LIB_ENCODING"),
        (r"(?:TOMLDecodeError: )?(?:Expected|Invalid|Unclosed|Illegal)[^\n]*\(at line \d+, column \d+\)", "LIB_TOML"),
        (r"not well-formed \(invalid token\)[^\n]*|(?:mismatched|unclosed) tag[^\n]*|syntax error[^\n]*",
         "LIB_XML"),
    )
)
# Two or more English words in a row: a library sentence we have no words for.
_ENGLISH = re.compile(r"[A-Za-z]{2,}[ ,:;]+[A-Za-z]{2,}")


def explain(detail: str, words: Mapping[str, str]) -> str:
    """A library's error detail in Chinese (`words`: code → sentence, from the vocabulary); anything
    we cannot translate is replaced by words["LIB_UNKNOWN"], not shown."""
    text = re.sub(r"<urlopen error (.*)>", r"\1", detail)
    for pattern, code in _KNOWN:
        text = pattern.sub(words[code], text)
    if text != detail or _ENGLISH.search(text):
        log.info("message detail (original): %s", detail)
    if _ENGLISH.search(text):
        return words["LIB_UNKNOWN"]
    return text


def log_to_data_dir() -> None:
    """Send the application's log to `yuqing.log` in the data folder (when that folder exists)."""
    from yuqing.settings import load_config

    try:
        folder = load_config().data_dir
    except Exception:  # noqa: BLE001 - a bad setting is reported by the command itself
        return
    if not folder.is_dir():
        return
    logger = logging.getLogger("yuqing")
    try:
        handler = logging.FileHandler(folder / "yuqing.log", encoding="utf-8")
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
