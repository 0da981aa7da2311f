"""The routes file: validation that names file, key and problem; which channels an alert goes to."""
from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from classify.units import load_units_file
from yuqing.alerts.channels import token_url
from yuqing.alerts.routes import Routes, load_routes, parse_routes
from yuqing.alerts.rules import Alert
from yuqing.errors import YuqingError
from yuqing.settings import UNITS_FILE

EXAMPLE = Path(__file__).resolve().parents[1] / "yuqing" / "alerts" / "routes.example.toml"
UNIT_CODES = [unit.code for unit in load_units_file(UNITS_FILE)[1]]

CHANNELS = """
[channels.office]
kind = "wecom"
token = "office-key"

[channels.yjglj-ding]
kind = "dingtalk"
url = "https://oapi.dingtalk.com/robot/send?access_token=t1"
secret = "SEC1"

[channels.county-feishu]
kind = "feishu"
token = "hook-1"
format = "text"

[channels.ops]
kind = "webhook"
url = "https://ops.example.gov.cn/hook"
"""
OFFICE = """
[office]
channels = ["office"]
"""
ROUTES = """
[[route]]
units = ["yjglj"]
channels = ["yjglj-ding"]

[[route]]
units = ["lingbao", "shanzhou"]
channels = ["county-feishu", "office"]

[[route]]
units = ["*"]
channels = ["office"]
kinds = ["overdue"]

[[route]]
units = ["*"]
channels = ["ops"]
flagged_only = true
"""
VALID = CHANNELS + ROUTES + OFFICE + '\n[quiet]\nstart = "22:00"\nend = "07:00"\n'


def alert(kind: str = "at_risk", unit: str | None = "yjglj", flagged: bool = False) -> Alert:
    return Alert(key=f"test:{kind}", kind=kind, unit_code=unit, flagged=flagged, title="t", text="x")


def names(routes: Routes, a: Alert) -> list[str]:
    return [channel.name for channel in routes.channels_for(a)]


# --- loading ---------------------------------------------------------------------------------------


def test_example_file_loads_against_the_real_unit_registry():
    routes = load_routes(EXAMPLE, unit_codes=UNIT_CODES)
    assert routes.quiet is not None and (routes.quiet.start, routes.quiet.end) == (time(22, 0), time(7, 0))
    assert routes.office == ("office-wecom",)
    assert routes.channel("zwwx-yjglj").url == "https://zwwx.example.gov.cn/cgi-bin/webhook/send?key=11111111-1111-1111-1111-111111111111"


def test_valid_file_parses_channels_routes_office_and_quiet_hours():
    routes = parse_routes(VALID, path="routes.toml", unit_codes=UNIT_CODES)
    assert [c.name for c in routes.channels] == ["office", "yjglj-ding", "county-feishu", "ops"]
    assert routes.channel("county-feishu").format == "text"
    assert routes.channel("yjglj-ding").secret == "SEC1"
    assert routes.routes[2].kinds == ("overdue",) and routes.routes[3].flagged_only


def test_quiet_hours_are_optional():
    assert parse_routes(CHANNELS + OFFICE).quiet is None


def test_quiet_hours_accept_toml_local_times():
    routes = parse_routes(CHANNELS + OFFICE + "[quiet]\nstart = 22:30:00\nend = 06:45:00\n")
    assert routes.quiet is not None and (routes.quiet.start, routes.quiet.end) == (time(22, 30), time(6, 45))


@pytest.mark.parametrize(
    "kind, token, base_url, url",
    [
        ("wecom", "k-1", None, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1"),
        ("dingtalk", "abc", None, "https://oapi.dingtalk.com/robot/send?access_token=abc"),
        ("feishu", "h-2", None, "https://open.feishu.cn/open-apis/bot/v2/hook/h-2"),
        ("wecom", "k-1", "https://zwwx.example.gov.cn/gw/", "https://zwwx.example.gov.cn/gw/cgi-bin/webhook/send?key=k-1"),
        ("dingtalk", "a/b", "http://10.1.2.3:8080", "http://10.1.2.3:8080/robot/send?access_token=a%2Fb"),
        ("feishu", "h", "https://open.larksuite.com", "https://open.larksuite.com/open-apis/bot/v2/hook/h"),
    ],
)
def test_token_and_base_url_make_the_webhook_address(kind, token, base_url, url):
    assert token_url(kind, token, base_url) == url
    base = f'base_url = "{base_url}"\n' if base_url else ""
    routes = parse_routes(f'[channels.c]\nkind = "{kind}"\ntoken = "{token}"\n{base}\n[office]\nchannels = ["c"]\n')
    assert routes.channel("c").url == url


def test_channel_repr_does_not_show_tokens_or_secrets():
    text = repr(parse_routes(VALID).channels)
    assert "office-key" not in text and "SEC1" not in text and "access_token" not in text


# --- validation ------------------------------------------------------------------------------------


def replace(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


@pytest.mark.parametrize(
    "text, key",
    [
        pytest.param(ROUTES + OFFICE, "channels", id="no-channels"),
        pytest.param(CHANNELS + ROUTES, "office", id="no-office"),
        pytest.param(VALID + "\n[quite]\nstart = 1\n", "quite", id="unknown-top-level-table"),
        pytest.param(replace('kind = "wecom"', 'kind = "wechat"'), "channels.office.kind", id="unknown-kind"),
        pytest.param(replace('token = "office-key"', 'token = "office-key"\nsecret = "s"'), "channels.office.secret",
                     id="wecom-has-no-secret"),
        pytest.param(replace('token = "office-key"', 'token = "office-key"\nurl = "https://x.cn/h"'), "channels.office",
                     id="both-url-and-token"),
        pytest.param(replace('token = "office-key"', ''), "channels.office", id="neither-url-nor-token"),
        pytest.param(replace('url = "https://ops.example.gov.cn/hook"', 'url = "ftp://ops.example.gov.cn/hook"'),
                     "channels.ops.url", id="url-not-http"),
        pytest.param(replace('url = "https://ops.example.gov.cn/hook"', ''), "channels.ops.url", id="webhook-without-url"),
        pytest.param(replace('secret = "SEC1"', 'secret = "SEC1"\nbase_url = "https://x.cn"'), "channels.yjglj-ding.base_url",
                     id="base-url-beside-full-url"),
        pytest.param(replace('token = "office-key"', 'token = "office-key"\nbase_url = "https://x.cn/?a=1"'),
                     "channels.office.base_url", id="base-url-with-query"),
        pytest.param(replace('format = "text"', 'format = "html"'), "channels.county-feishu.format", id="feishu-format"),
        pytest.param(replace('secret = "SEC1"', 'secret = "SEC1"\nformat = "text"'), "channels.yjglj-ding.format",
                     id="format-only-for-feishu"),
        pytest.param(replace('secret = "SEC1"', 'secret = ""'), "channels.yjglj-ding.secret", id="empty-secret"),
        pytest.param(replace('token = "office-key"', 'token = "office-key"\ntimeout = 0'), "channels.office.timeout",
                     id="timeout-zero"),
        pytest.param(replace('token = "office-key"', 'token = "office-key"\ntimeout = true'), "channels.office.timeout",
                     id="timeout-bool"),
        pytest.param(replace('url = "https://ops.example.gov.cn/hook"',
                             'url = "https://ops.example.gov.cn/hook"\nheaders = { X-Test = "a\\r\\nX-Evil: 1" }'),
                     "channels.ops.headers.X-Test", id="header-with-newline"),
        pytest.param(replace('url = "https://ops.example.gov.cn/hook"',
                             'url = "https://ops.example.gov.cn/hook"\nheaders = { Host = "evil" }'),
                     "channels.ops.headers.Host", id="header-not-overridable"),
        pytest.param(replace('channels = ["yjglj-ding"]', 'channels = ["yjglj-dingding"]'), "route[0].channels",
                     id="route-to-undefined-channel"),
        pytest.param(replace('units = ["yjglj"]', 'units = []'), "route[0].units", id="route-without-units"),
        pytest.param(replace('units = ["yjglj"]', 'unit = ["yjglj"]'), "route[0].unit", id="route-key-typo"),
        pytest.param(replace('units = ["yjglj"]', 'units = ["yjglj", " lingbao"]'), "route[0].units",
                     id="unit-code-with-space"),
        pytest.param(replace('kinds = ["overdue"]', 'kinds = ["feed_failing"]'), "route[2].kinds",
                     id="feed-kinds-only-to-office"),
        pytest.param(replace('flagged_only = true', 'flagged_only = "yes"'), "route[3].flagged_only", id="flagged-only-bool"),
        pytest.param(replace('[office]\nchannels = ["office"]', '[office]\nchannels = ["nobody"]'), "office.channels",
                     id="office-to-undefined-channel"),
        pytest.param(replace('start = "22:00"', 'start = "24:00"'), "quiet.start", id="quiet-start-out-of-range"),
        pytest.param(replace('end = "07:00"', 'end = "7点"'), "quiet.end", id="quiet-end-not-a-time"),
        pytest.param(replace('end = "07:00"', 'end = "22:00"'), "quiet", id="quiet-start-equals-end"),
        pytest.param(replace('end = "07:00"', ''), "quiet.end", id="quiet-end-missing"),
    ],
)
def test_invalid_routes_file_names_the_key(text, key):
    with pytest.raises(YuqingError) as caught:
        parse_routes(text, path="/etc/yuqing/routes.toml")
    assert caught.value.code == "E_ROUTES_FILE"
    assert caught.value.params["key"] == key
    assert caught.value.params["path"] == "/etc/yuqing/routes.toml"
    assert str(caught.value).startswith("告警路由文件 /etc/yuqing/routes.toml 中")


def test_unknown_unit_code_is_refused_when_the_registry_is_given():
    text = replace('units = ["yjglj"]', 'units = ["yjj"]')
    parse_routes(text)  # without the registry nothing to check against
    with pytest.raises(YuqingError) as caught:
        parse_routes(text, unit_codes=UNIT_CODES)
    assert (caught.value.code, caught.value.params["key"]) == ("E_ROUTES_FILE", "route[0].units")
    assert "yjj" in caught.value.params["problem"]


def test_broken_toml_is_reported_with_the_file():
    with pytest.raises(YuqingError) as caught:
        parse_routes("[channels.office\nkind = 1", path="routes.toml")
    assert caught.value.code == "E_ROUTES_TOML" and caught.value.params["path"] == "routes.toml"


def test_missing_file_is_reported_with_its_path(tmp_path):
    with pytest.raises(YuqingError) as caught:
        load_routes(tmp_path / "nope.toml")
    assert caught.value.code == "E_FILE_READ" and caught.value.params["path"] == str(tmp_path / "nope.toml")


def test_load_routes_reads_a_file(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text(VALID, encoding="utf-8")
    assert load_routes(path).path == str(path)


# --- channels_for ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, expected",
    [
        pytest.param(alert("at_risk", "yjglj"), ["yjglj-ding"], id="unit-route-only-at-risk"),
        pytest.param(alert("overdue", "yjglj"), ["yjglj-ding", "office"], id="unit-route-plus-star-overdue"),
        pytest.param(alert("overdue", "yjglj", flagged=True), ["yjglj-ding", "office", "ops"], id="flagged-overdue"),
        pytest.param(alert("overdue", "lingbao"), ["county-feishu", "office"], id="office-named-twice-sent-once"),
        pytest.param(alert("at_risk", "jyj"), [], id="covered-by-star-but-filtered-out-no-fallback"),
        pytest.param(alert("at_risk", "jyj", flagged=True), ["ops"], id="star-flagged-only"),
        pytest.param(alert("feed_failing", None), ["office"], id="feed-to-office"),
        pytest.param(alert("feed_stale", None), ["office"], id="stale-feed-to-office"),
    ],
)
def test_channels_for_alert(a, expected):
    assert names(parse_routes(VALID), a) == expected


def test_unit_no_route_covers_falls_back_to_the_office():
    routes = parse_routes(CHANNELS + '[[route]]\nunits = ["yjglj"]\nchannels = ["yjglj-ding"]\n' + OFFICE)
    assert names(routes, alert("at_risk", "lingbao")) == ["office"]
    assert names(routes, alert("at_risk", "yjglj")) == ["yjglj-ding"]


def test_unknown_channel_name_lists_the_choices():
    with pytest.raises(YuqingError) as caught:
        parse_routes(VALID, path="r.toml").channel("offce")
    assert caught.value.code == "E_ROUTES_CHANNEL"
    assert caught.value.params["choices"] == "office、yjglj-ding、county-feishu、ops"
