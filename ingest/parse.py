"""Feed bytes → items: feedparser reads the structure; dates, plain text and dedup keys are ours. Pure.

feedparser's own dates are not used (it misreads 年月日, takes zone-less times as UTC and CST as
US Central): each item keeps its raw date string and ingest.dates reads it (DESIGN.md §5).
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import urllib.parse
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from ingest.dates import DEFAULT_TZ, clamp_future, read_date
from timeline.clock import require_aware
from timeline.words import YuqingError

CONTENT_LIMIT = 20_000  # characters of plain text kept per item; the hash covers the full text
BOZO_MESSAGE_LIMIT = 300
# Query parameters that only say where a click came from; two links differing in these are one page.
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "yclid", "msclkid", "mc_cid", "mc_eid", "spm", "isappinstalled"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class FeedItem:
    guid: str  # the entry's id, else its link, else a hash of its text
    title: str
    link: str
    normalized_link: str
    summary: str  # plain text, whitespace collapsed
    content_text: str  # plain text of the fullest body, at most CONTENT_LIMIT characters
    author: str
    published_raw: str | None  # exactly what the feed says
    published_at: datetime | None  # aware UTC
    published_clamped: bool  # dated after the fetch; published_at was set to the fetch time
    content_hash: str  # sha256 of the normalised body, title excluded: an edited title is not news
    # Only the day was written (2009年8月8日下午): published_at is the start of that day, not a time.
    published_date_only: bool = False


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str
    bozo: bool
    bozo_message: str | None
    items: tuple[FeedItem, ...]
    encoding: str | None
    version: str  # feedparser's name for the format (rss20, atom10, ...)


def parse_feed(
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    fetched_at: datetime,
    feed_tz: str = DEFAULT_TZ,
) -> ParsedFeed:
    """Read a feed document. Ill-formed feeds are accepted when they yield entries (bozo=True).

    `headers` are the HTTP response headers (their charset decides the encoding; a
    `content-location` header sets the base for relative links). Zone-less item dates are wall
    time in `feed_tz`; items dated after `fetched_at` (beyond a tolerance) are clamped to it.
    Raises YuqingError E_FEED_EMPTY / E_FEED_IS_HTML / E_FEED_UNREADABLE when no feed is there.
    """
    require_aware(fetched_at, "fetched_at")
    if not body or not body.strip(b" \t\r\n\x00\xef\xbb\xbf\xfe\xff"):
        raise YuqingError("E_FEED_EMPTY")
    result = _feedparser(body, headers)
    entries = result.get("entries") or []
    version = result.get("version") or ""
    bozo = bool(result.get("bozo"))
    bozo_message = _bozo_message(result) if bozo else None
    if not entries and not version:
        if _looks_like_html(body):
            raise YuqingError("E_FEED_IS_HTML")
        raise YuqingError("E_FEED_UNREADABLE", detail=bozo_message or "没有找到 RSS/Atom 结构")
    feed = result.get("feed") or {}
    items = tuple(_item(entry, fetched_at=fetched_at, feed_tz=feed_tz) for entry in entries)
    return ParsedFeed(
        title=_plain(feed.get("title_detail") or feed.get("title")),
        link=str(feed.get("link") or ""),
        bozo=bozo,
        bozo_message=bozo_message,
        items=items,
        encoding=result.get("encoding"),
        version=version,
    )


def _feedparser(body: bytes, headers: Mapping[str, str] | None) -> Any:
    response_headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    with warnings.catch_warnings():
        # feedparser and its sgmllib fallback warn about some ill-formed input; bozo reports it.
        warnings.simplefilter("ignore")
        try:
            # A BytesIO, never the bytes themselves: feedparser opens a str/bytes that looks like
            # a path or URL, so a body of b"/etc/passwd" would be read from disk.
            # No sanitising or URI resolution of entry HTML: we keep only its plain text (html_to_text),
            # never display feed HTML, and those two passes are most of feedparser's time.
            return feedparser.parse(io.BytesIO(body), response_headers=response_headers,
                                    sanitize_html=False, resolve_relative_uris=False)
        except Exception as exc:  # hostile bytes crashing the third-party parser: not a feed
            raise YuqingError("E_FEED_UNREADABLE", detail=f"{type(exc).__name__}: {exc}"[:200]) from exc


def _bozo_message(result: Any) -> str:
    exc = result.get("bozo_exception")
    text = f"{type(exc).__name__}: {exc}" if exc is not None else "ill-formed"
    return text[:BOZO_MESSAGE_LIMIT]


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip(b" \t\r\n\xef\xbb\xbf").lower()
    return head.startswith(b"<!doctype html") or b"<html" in head


def _item(entry: Mapping[str, Any], *, fetched_at: datetime, feed_tz: str) -> FeedItem:
    title = _plain(entry.get("title_detail") or entry.get("title"))
    link = str(entry.get("link") or "").strip()
    normalized = normalize_link(link)
    summary_full = _plain(entry.get("summary_detail") or entry.get("summary"))
    content_full = _best_content(entry) or summary_full
    raw = _raw_date(entry)
    published_at, clamped, date_only = None, False, False
    if raw is not None:
        parsed = read_date(raw, now=fetched_at, tz=feed_tz)
        if parsed is not None:
            published_at, clamped = clamp_future(parsed.at, fetched_at)
            date_only = parsed.date_only and not clamped
    content_hash = _content_hash(content_full, normalized, str(entry.get("id") or ""), title)
    guid = str(entry.get("id") or "").strip() or link or content_hash
    return FeedItem(
        guid=guid,
        title=title,
        link=link,
        normalized_link=normalized,
        summary=summary_full[:CONTENT_LIMIT],
        content_text=content_full[:CONTENT_LIMIT],
        author=_author(entry),
        published_raw=raw,
        published_at=published_at,
        published_clamped=clamped,
        content_hash=content_hash,
        published_date_only=date_only,
    )


def _author(entry: Mapping[str, Any]) -> str:
    detail = entry.get("author_detail")
    return _plain(detail.get("name") if isinstance(detail, Mapping) else entry.get("author"))


def _raw_date(entry: Mapping[str, Any]) -> str | None:
    # pubDate / atom:published / dcterms:issued land in `published`; dc:date and atom:updated in
    # `updated`. First publication is what starts the clock, so `published` wins.
    for key in ("published", "updated", "created"):
        # dict.get: FeedParserDict maps a missing `updated` to `published` with a DeprecationWarning.
        value = dict.get(entry, key)  # type: ignore[call-overload]  # FeedParserDict is a dict; its Mapping type hides that
        if isinstance(value, str) and value.strip():
            return value
    return None


def _best_content(entry: Mapping[str, Any]) -> str:
    texts = [_plain(part) for part in entry.get("content") or () if isinstance(part, Mapping)]
    return max(texts, key=len, default="")


# A body this long identifies its item by itself: boilerplate ("点击查看原文", "详见附件", "本文来源：
# 某某日报客户端") is shorter, while the lead of a real report (who, where, how many) is longer.
IDENTIFYING_BODY = 30


def _content_hash(text: str, normalized_link: str, entry_id: str, title: str = "") -> str:
    """sha256 of the body text (NFKC, case-folded, whitespace collapsed), and of the title too when
    the body is short.

    The content key must never merge items that differ. A body of IDENTIFYING_BODY characters or
    more identifies the item (an edited title over the same long body is the same news, so the title
    stays out); a shorter body — many government and media feeds carry none or the boilerplate
    "点击查看原文" — identifies nothing, so the title is part of the key. An item with neither body
    nor title is identified by its link (or id), so that such feeds do not collapse into one item.
    """
    body = _fold(text)
    if len(body) >= IDENTIFYING_BODY:
        key = f"text:{body}"
    elif body or title.strip():
        key = f"short:{_fold(title)}\n{body}"
    else:
        key = f"link:{normalized_link}" if normalized_link else f"id:{entry_id}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# --- plain text ---------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "head"})
    _BREAK = frozenset({
        "p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5",
        "h6", "blockquote", "pre", "section", "article", "header", "footer", "figure", "figcaption", "hr",
    })

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BREAK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed to single spaces."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


def _plain(value: Any) -> str:
    """A feedparser text construct (or plain string) as plain text."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        text = str(value.get("value") or "")
        kind = str(value.get("type") or "text/html")
    else:
        text, kind = str(value), "text/html"
    if kind in _HTML_TYPES:
        return html_to_text(text)
    return " ".join(text.split())


# --- links --------------------------------------------------------------------------------------


def normalize_link(url: str | None) -> str:
    """One spelling per page: lower-case scheme and host, no default port, no fragment, no
    tracking parameters (utm_*, spm, fbclid, ...), sorted query, no trailing slash.

    Used to recognise the same article under two spellings; the original link is kept for display.
    """
    text = (url or "").strip()
    if not text:
        return ""
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if parts.hostname is not None:
        host = parts.hostname.lower()
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        try:
            port = parts.port
        except ValueError:
            port = None
        userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
        netloc = (f"{userinfo}@" if userinfo else "") + host
        if port is not None and port != _DEFAULT_PORTS.get(scheme):
            netloc += f":{port}"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    kept = sorted(
        (key, value) for key, value in query
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMS
    )
    path = re.sub(r"/+$", "", parts.path)
    # Strip again: removing a trailing slash can expose whitespace, and a second pass must not change it.
    return urllib.parse.urlunsplit((scheme, netloc, path, urllib.parse.urlencode(kept), "")).strip()
