"""Channels and action kinds are accepted by their Chinese names; 短视频 is one channel kind."""
from __future__ import annotations

import pytest

from tests.cliutil import ago, error_code, yq
from timeline.model import CHANNELS, parse_action_kind, parse_channel
from timeline.words import YuqingError


@pytest.mark.parametrize(("text", "code"), [
    ("抖音", "short_video"), ("快手", "short_video"), ("视频号", "short_video"), ("短视频", "short_video"),
    ("short_video", "short_video"), ("微信", "wechat"), ("微博", "weibo"), ("website", "website"),
])
def test_channel_names_and_aliases_resolve_to_one_code(text, code):
    assert parse_channel(text) == code


@pytest.mark.parametrize(("text", "code"), [
    ("回应", "response"), ("发布权威信息", "release"), ("新闻发布会", "press_conference"),
    ("后续跟进", "follow_up"), ("后续发布", "follow_up"), ("response", "response"),
])
def test_kind_chinese_names_resolve(text, code):
    assert parse_action_kind(text) == code


def test_unknown_kind_is_refused():
    with pytest.raises(YuqingError) as caught:
        parse_action_kind("传真")
    assert caught.value.code == "E_ACTION_KIND"


def test_channel_list_is_data_with_short_video():
    assert CHANNELS["short_video"] == "短视频" and list(CHANNELS)[-1] == "other"


def test_act_with_chinese_kind_and_douyin_channel(db_url: str):
    assert yq(db_url, "init").code == 0
    added = yq(db_url, "incident", "add", "--title", "网民反映某小区停水", "--unit", "灵宝市", "--no-classify",
               "--first-post-at", ago(3))
    incident = added.out.strip()
    result = yq(db_url, "incident", "act", incident, "--kind", "回应", "--at", ago(1), "--channel", "抖音",
                "--channel", "快手", "--channel", "微信")
    assert result.code == 0, result.err
    shown = yq(db_url, "incident", "show", incident, "--json").json()
    assert shown["actions"][0]["kind"] == "response"
    assert shown["actions"][0]["channels"] == ["short_video", "wechat"]
    refused = yq(db_url, "incident", "act", incident, "--kind", "回应", "--at", ago(1), "--channel", "传真")
    assert refused.code == 1 and error_code(refused) == "E_CHANNEL" and "短视频" in refused.err
