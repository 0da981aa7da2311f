"""Feed bytes → items: real Chinese feeds, feedparser's 915 test feeds, plain text, dedup keys, links."""
from __future__ import annotations

import importlib.util
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.parse import CONTENT_LIMIT, FeedItem, ParsedFeed, html_to_text, normalize_link, parse_feed
from yuqing.errors import YuqingError

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "feeds"
UTC = UTC
FETCHED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 Beijing
PARSE_ERRORS = {"E_FEED_EMPTY", "E_FEED_IS_HTML", "E_FEED_UNREADABLE"}


def feed_file(*parts: str) -> bytes:
    path = FEEDS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared feed file missing: {path}")
    return path.read_bytes()


def rss(*items: str, channel: str = "<title>市政府网站</title><link>http://www.smx.gov.cn/</link>") -> bytes:
    """A small RSS 2.0 document around the given <item> bodies."""
    body = "".join(f"<item>{item}</item>" for item in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}{body}</channel></rss>'.encode()


def only_item(document: bytes, **kwargs: object) -> FeedItem:
    feed = parse_feed(document, fetched_at=FETCHED, **kwargs)  # type: ignore[arg-type]  # tests pass options by keyword
    assert len(feed.items) == 1
    return feed.items[0]


# --- real Chinese feeds ---------------------------------------------------------------------------

ZH_FEEDS = [
    ("feeder_rss_geekpark.xml", 30, "rss20"),
    ("rodel-reader_rss_meituan.xml", 10, "rss20"),
    ("rodel-reader_rss_ruanyifeng.xml", 6, "rss20"),
    ("rodel-reader_atom_ruanyifeng.xml", 3, "atom10"),
    ("rodel-reader_atom_v2ex.xml", 50, "atom10"),
]


@pytest.mark.parametrize(("name", "count", "version"), ZH_FEEDS)
def test_chinese_feed_yields_every_entry_with_a_date(name: str, count: int, version: str) -> None:
    feed = parse_feed(feed_file("zh", name), fetched_at=FETCHED)
    assert (len(feed.items), feed.version) == (count, version)
    assert all(item.published_at is not None and item.published_at.tzinfo is UTC for item in feed.items)
    assert not any(item.published_clamped for item in feed.items)
    assert all(item.title and item.guid and item.link for item in feed.items)
    assert len({item.guid for item in feed.items}) == count
    assert len({item.content_hash for item in feed.items}) == count


def test_geekpark_item_keeps_raw_date_and_reads_plus_eight() -> None:
    feed = parse_feed(feed_file("zh", "feeder_rss_geekpark.xml"), fetched_at=FETCHED)
    first = feed.items[0]
    assert feed.title == "极客公园（！）"
    assert first.title == "充电桩 2020：大火一年，它依然没赚到钱（！）"
    assert first.published_raw == "Thu, 17 Dec 2020 22:00:09 +0800"
    assert first.published_at == datetime(2020, 12, 17, 14, 0, 9, tzinfo=UTC)
    assert first.link == first.guid == "http://www.geekpark.net/news/271342"
    # CDATA HTML bodies come out as plain text
    assert "<" not in first.content_text and "特斯拉" in first.content_text
    assert "  " not in first.summary


def test_bozo_feed_with_entries_is_accepted() -> None:
    # meituan starts with a newline before <?xml ...?>: not well-formed, still all entries.
    feed = parse_feed(feed_file("zh", "rodel-reader_rss_meituan.xml"), fetched_at=FETCHED)
    assert feed.bozo and feed.bozo_message
    assert len(feed.items) == 10


def test_same_post_as_rss_and_atom_has_the_same_content_hash() -> None:
    as_rss = parse_feed(feed_file("zh", "rodel-reader_rss_ruanyifeng.xml"), fetched_at=FETCHED)
    as_atom = parse_feed(feed_file("zh", "rodel-reader_atom_ruanyifeng.xml"), fetched_at=FETCHED)
    rss_by_link = {item.normalized_link: item for item in as_rss.items}
    for item in as_atom.items:
        twin = rss_by_link[item.normalized_link]
        assert twin.published_at == item.published_at  # +0800 and Z spellings of one instant
        assert twin.content_hash == item.content_hash


@pytest.mark.parametrize(
    ("name", "title"),
    [("gb2312.xml", "不归移民漫画系列：专业工作"), ("big5.xml", None)],
)
def test_undeclared_gb2312_and_big5_decode_to_chinese(name: str, title: str | None) -> None:
    # feedparser guesses undeclared encodings only with chardet installed (a yuqing dependency).
    assert importlib.util.find_spec("chardet") is not None, "chardet is not installed"
    feed = parse_feed(feed_file("feedparser-tests", "tests", "illformed", "chardet", name), fetched_at=FETCHED)
    text = feed.items[0].title if feed.items else feed.title
    if title is not None:
        assert text == title
    assert feed.encoding is not None and feed.encoding.lower() in {"gb18030", "gb2312", "gbk", "big5"}
    assert "我希望" in text or "移民" in text


# --- feedparser's test corpus ---------------------------------------------------------------------

HEADER_LINE = re.compile(rb"^Header:\s*([^:\r\n]+):\s*(.*?)\s*$", re.MULTILINE)
EXPECT_ENCODING = re.compile(rb"^Expect:\s*(not )?bozo and encoding == '([^']+)'\s*$", re.MULTILINE)


def declared_headers(document: bytes) -> dict[str, str]:
    """The `Header:` lines of a test file's comment (UTF-16/32 files: drop the NULs to read them)."""
    ascii_view = document.replace(b"\x00", b"")
    return {
        name.decode("latin-1").strip().lower(): value.decode("latin-1")
        for name, value in HEADER_LINE.findall(ascii_view)
    }


def corpus_files() -> list[Path]:
    root = FEEDS / "feedparser-tests"
    if not root.exists():
        pytest.skip(f"shared feed corpus missing: {root}")
    return sorted(path for path in root.rglob("*") if path.is_file() and path.name != "README.md")


def test_whole_feedparser_corpus_gives_feeds_or_yuqing_errors_only() -> None:
    files = corpus_files()
    assert len(files) == 915
    outcomes: Counter[str] = Counter()
    crashes: list[str] = []
    for path in files:
        document = path.read_bytes()
        for headers in ({}, declared_headers(document)):
            try:
                feed = parse_feed(document, headers=headers or None, fetched_at=FETCHED)
            except YuqingError as exc:
                outcomes[exc.code] += 1
                assert exc.code in PARSE_ERRORS
                continue
            except Exception as exc:  # noqa: BLE001 - the point of the test is to list these
                crashes.append(f"{path.relative_to(FEEDS)}: {type(exc).__name__}: {exc}")
                continue
            outcomes["items" if feed.items else "no_items"] += 1
            for item in feed.items:
                assert item.published_at is None or item.published_at <= FETCHED + timedelta(minutes=10)
                assert len(item.content_text) <= CONTENT_LIMIT
    print(f"feedparser corpus, {len(files)} files × (no headers, declared headers): {dict(outcomes)}")
    assert crashes == []
    # Measured with feedparser 6.0.14: 392 of 915 files yield items without their headers.
    assert outcomes["items"] >= 2 * 380


def _encoding_cases() -> list:
    root = FEEDS / "feedparser-tests" / "tests" / "encoding"
    if not root.exists():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=f"missing {root}"))]
    cases = []
    for path in sorted(root.iterdir()):
        document = path.read_bytes()
        found = EXPECT_ENCODING.search(document.replace(b"\x00", b""))
        if found:
            cases.append(pytest.param(path, found[1] is not None, found[2].decode(), id=path.name))
    return cases


@pytest.mark.parametrize(("path", "well_formed", "encoding"), _encoding_cases())
def test_declared_charset_in_response_headers_decides_the_encoding(
    path: Path, well_formed: bool, encoding: str
) -> None:
    document = path.read_bytes()
    feed = parse_feed(document, headers=declared_headers(document), fetched_at=FETCHED)
    assert feed.encoding == encoding
    assert feed.bozo is not well_formed


# --- not a feed -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("document", "code"),
    [
        (b"", "E_FEED_EMPTY"),
        (b"  \r\n\t ", "E_FEED_EMPTY"),
        (b"\xef\xbb\xbf\n", "E_FEED_EMPTY"),
        (b"<!DOCTYPE html><html><head><title>x</title></head><body><p>hi</p></body></html>", "E_FEED_IS_HTML"),
        ("<html><body>三门峡市人民政府</body></html>".encode(), "E_FEED_IS_HTML"),
        (b"hello world", "E_FEED_UNREADABLE"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": []}', "E_FEED_UNREADABLE"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "E_FEED_UNREADABLE"),
    ],
)
def test_document_that_is_not_a_feed_is_refused_with_a_code(document: bytes, code: str) -> None:
    with pytest.raises(YuqingError) as caught:
        parse_feed(document, fetched_at=FETCHED)
    assert caught.value.code == code


def test_body_that_looks_like_a_path_is_not_read_from_disk() -> None:
    with pytest.raises(YuqingError) as caught:
        parse_feed(str(FEEDS / "zh" / "rodel-reader_rss_meituan.xml").encode(), fetched_at=FETCHED)
    assert caught.value.code == "E_FEED_UNREADABLE"


def test_valid_feed_without_items_gives_no_items() -> None:
    feed = parse_feed(rss(), fetched_at=FETCHED)
    assert isinstance(feed, ParsedFeed)
    assert (feed.title, feed.items, feed.bozo) == ("市政府网站", (), False)


# --- items ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("pub_date", "expected"),
    [
        ("2026年11月24日 09:15", datetime(2026, 11, 24, 1, 15, tzinfo=UTC)),  # feedparser: 1 Nov 00:00
        ("2026-11-24 09:15:00", datetime(2026, 11, 24, 1, 15, tzinfo=UTC)),  # feedparser: UTC
        ("Tue, 24 Nov 2026 09:15:00 CST", datetime(2026, 11, 24, 1, 15, tzinfo=UTC)),  # feedparser: US
        ("Tue, 24 Nov 2026 09:15:00 +0800", datetime(2026, 11, 24, 1, 15, tzinfo=UTC)),
        ("11月24日 09:15", datetime(2026, 11, 24, 1, 15, tzinfo=UTC)),
        ("2小时前", FETCHED - timedelta(hours=2)),
        ("2026年2月30日", None),
        ("", None),
    ],
)
def test_item_date_is_read_from_the_raw_string_in_beijing_time(pub_date: str, expected: datetime | None) -> None:
    item = only_item(rss(f"<title>t</title><link>http://a.cn/1</link><pubDate>{pub_date}</pubDate>"))
    assert item.published_at == expected
    assert item.published_raw == (pub_date or None)


def test_dc_date_is_used_when_there_is_no_pubdate() -> None:
    document = (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b'<channel rdf:about="http://a.cn/"><title>c</title><link>http://a.cn/</link></channel>'
        b'<item rdf:about="http://a.cn/1"><title>t</title><link>http://a.cn/1</link>'
        b"<dc:date>2026-11-24T09:15:00+08:00</dc:date></item></rdf:RDF>"
    )
    item = only_item(document)
    assert item.published_raw == "2026-11-24T09:15:00+08:00"
    assert item.published_at == datetime(2026, 11, 24, 1, 15, tzinfo=UTC)


def test_zone_less_date_uses_the_feed_zone() -> None:
    document = rss("<title>t</title><pubDate>2026-11-23 09:15</pubDate>")
    assert only_item(document, feed_tz="UTC").published_at == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert only_item(document).published_at == datetime(2026, 11, 23, 1, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pub_date", "expected", "clamped"),
    [
        ("2026-11-24 10:10:00", datetime(2026, 11, 24, 2, 10, tzinfo=UTC), False),
        ("2026-11-24 10:10:01", FETCHED, True),
        ("2027-01-01 00:00:00", FETCHED, True),
    ],
)
def test_item_dated_after_the_fetch_is_clamped(pub_date: str, expected: datetime, clamped: bool) -> None:
    item = only_item(rss(f"<title>t</title><pubDate>{pub_date}</pubDate>"))
    assert (item.published_at, item.published_clamped) == (expected, clamped)
    assert item.published_raw == pub_date


def test_guid_falls_back_to_link_then_to_a_hash() -> None:
    with_guid = only_item(rss("<guid>abc-1</guid><link>http://a.cn/1</link><title>t</title>"))
    with_link = only_item(rss("<link>http://a.cn/1</link><title>t</title>"))
    bare = only_item(rss("<title>t</title><description>正文</description>"))
    assert (with_guid.guid, with_link.guid) == ("abc-1", "http://a.cn/1")
    assert bare.guid == bare.content_hash and len(bare.guid) == 64


def test_summary_is_plain_text_with_collapsed_whitespace() -> None:
    item = only_item(rss(
        "<title>t</title><description><![CDATA[<p>市应急管理局  通报</p>\n<script>x()</script>"
        "<p>三门峡&nbsp;&amp;<b>灵宝</b></p><br/>结束]]></description>"
    ))
    assert item.summary == "市应急管理局 通报 三门峡 &灵宝 结束"
    assert item.content_text == item.summary  # no separate body: the summary is the body


def test_content_text_is_capped() -> None:
    long_body = "字" * (CONTENT_LIMIT + 500)
    item = only_item(rss(f"<title>t</title><description>{long_body}</description>"))
    assert len(item.content_text) == CONTENT_LIMIT


def test_atom_html_title_and_content_become_plain_text() -> None:
    document = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>f</title>'
        '<entry><id>urn:x:1</id><title type="html">&lt;b&gt;关于&lt;/b&gt;停水的通知</title>'
        '<author><name>市水务局</name></author><updated>2026-11-24T01:15:00Z</updated>'
        '<summary>摘要</summary><content type="html">&lt;p&gt;全文&lt;/p&gt;&lt;p&gt;第二段&lt;/p&gt;</content>'
        "</entry></feed>"
    ).encode()
    item = only_item(document)
    assert (item.title, item.author) == ("关于停水的通知", "市水务局")
    assert (item.summary, item.content_text) == ("摘要", "全文 第二段")
    assert item.published_at == datetime(2026, 11, 24, 1, 15, tzinfo=UTC)


LEAD = "城区一小区今晨发生火灾，消防部门已到场扑救，暂无人员伤亡报告，起火原因正在调查"


def test_edited_title_keeps_the_content_hash_and_edited_body_changes_it() -> None:
    link = "<link>http://a.cn/1</link>"
    first = only_item(rss(f"<title>某地发生火灾</title>{link}<description>{LEAD} 一</description>"))
    retitled = only_item(rss(f"<title>某地发生火灾（更新）</title>{link}<description>{LEAD}  一</description>"))
    edited = only_item(rss(f"<title>某地发生火灾</title>{link}<description>{LEAD} 二</description>"))
    assert first.content_hash == retitled.content_hash
    assert first.content_hash != edited.content_hash


def test_a_boilerplate_body_does_not_make_different_items_one() -> None:
    # Government and media feeds often carry no body, or the same short one for every entry.
    feed = parse_feed(rss(*(f"<title>{t}</title><link>http://a.cn/{n}</link><description>点击查看原文</description>"
                            for n, t in enumerate(("某化工厂发生爆炸", "某村发生山体滑坡", "某学校发生食物中毒")))),
                      fetched_at=FETCHED)
    assert len({item.content_hash for item in feed.items}) == 3
    same = only_item(rss("<title>某化工厂发生爆炸</title><link>http://b.cn/9</link><description>点击查看原文</description>"))
    assert same.content_hash == feed.items[0].content_hash  # same title, same body: the same item


def test_items_without_text_are_told_apart_by_link() -> None:
    feed = parse_feed(rss("<title>a</title><link>http://a.cn/1</link>", "<title>b</title><link>http://a.cn/2</link>"),
                      fetched_at=FETCHED)
    assert feed.items[0].content_hash != feed.items[1].content_hash


def test_feed_items_are_frozen() -> None:
    item = only_item(rss("<title>t</title>"))
    with pytest.raises(AttributeError):
        item.title = "x"  # type: ignore[misc]  # the test checks that the frozen dataclass refuses it
    assert replace(item, title="x").title == "x"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_give_a_feed_or_a_yuqing_error(document: bytes) -> None:
    try:
        parse_feed(document, fetched_at=FETCHED)
    except YuqingError as exc:
        assert exc.code in PARSE_ERRORS


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=400), junk=st.binary(max_size=20))
def test_damaged_feed_gives_a_feed_or_a_yuqing_error(cut: int, junk: bytes) -> None:
    document = rss("<title>标题</title><link>http://a.cn/1</link><pubDate>2026年11月24日 09:15</pubDate>")
    try:
        parse_feed(document[:cut] + junk + document[cut:], fetched_at=FETCHED)
    except YuqingError as exc:
        assert exc.code in PARSE_ERRORS


def test_naive_fetch_time_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_feed(rss(), fetched_at=datetime(2026, 11, 24))


# --- plain text and links -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("plain  text\n here", "plain text here"),
        ("<p>a</p><p>b</p>", "a b"),
        ("a<br>b", "a b"),
        ("<b>粗</b>体", "粗体"),
        ("&lt;not a tag&gt; &amp; &#20013;", "<not a tag> & 中"),
        ("<style>p{}</style><script>alert(1)</script>正文", "正文"),
        ("<img src='x.png' alt='图'>", ""),
        ("　全角空格　", "全角空格"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("HTTP://WWW.SMX.GOV.CN/News/1.html", "http://www.smx.gov.cn/News/1.html"),
        ("http://www.smx.gov.cn:80/a", "http://www.smx.gov.cn/a"),
        ("https://www.smx.gov.cn:443/a", "https://www.smx.gov.cn/a"),
        ("https://www.smx.gov.cn:8443/a", "https://www.smx.gov.cn:8443/a"),
        ("http://www.smx.gov.cn/a/#comments", "http://www.smx.gov.cn/a"),
        ("http://www.smx.gov.cn/", "http://www.smx.gov.cn"),
        ("http://a.cn/x?b=2&a=1", "http://a.cn/x?a=1&b=2"),
        ("http://a.cn/x?utm_source=wx&id=7&utm_medium=share&UTM_campaign=z", "http://a.cn/x?id=7"),
        ("http://a.cn/x?spm=a.b.c&fbclid=1&id=7", "http://a.cn/x?id=7"),
        ("http://a.cn/x?id=%E4%B8%AD", "http://a.cn/x?id=%E4%B8%AD"),
        ("https://www.v2ex.com/t/1176092#reply0", "https://www.v2ex.com/t/1176092"),
        ("  http://a.cn/x  ", "http://a.cn/x"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_link(url: str | None, normalized: str) -> None:
    assert normalize_link(url) == normalized


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_normalize_link_is_idempotent(url: str) -> None:
    once = normalize_link(url)
    assert normalize_link(once) == once
