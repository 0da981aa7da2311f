"""What each robot receives: payload shapes and signing for WeCom, DingTalk, Feishu and a JSON webhook.

Pure: `build_request` turns a channel's settings and an alert into URL, headers and body bytes; `now`
is passed in because DingTalk and Feishu sign a timestamp (both refuse one more than an hour off).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from timeline.clock import iso_beijing, require_aware
from yuqing.alerts.rules import Alert
from yuqing.vocabulary import render

KINDS: tuple[str, ...] = ("wecom", "dingtalk", "feishu", "webhook")
KIND_NAMES: dict[str, str] = {
    "wecom": "企业微信群机器人",
    "dingtalk": "钉钉群机器人",
    "feishu": "飞书群机器人",
    "webhook": "通用 JSON Webhook",
}
FEISHU_FORMATS: tuple[str, ...] = ("card", "text")

# The public hosts are only defaults: 政务微信 / 政务钉钉 and other private deployments set `base_url`
# (or the whole `url`) in the routes file.
DEFAULT_BASE_URLS: dict[str, str] = {
    "wecom": "https://qyapi.weixin.qq.com",
    "dingtalk": "https://oapi.dingtalk.com",
    "feishu": "https://open.feishu.cn",
}
TOKEN_PATHS: dict[str, str] = {
    "wecom": "/cgi-bin/webhook/send?key={token}",
    "dingtalk": "/robot/send?access_token={token}",
    "feishu": "/open-apis/bot/v2/hook/{token}",
}

# Vendor size limits (bytes of UTF-8): WeCom markdown content ≤ 4096; Feishu bodies ≤ 20 KB;
# DingTalk documents none for robots, so it gets Feishu's margin.
TEXT_LIMITS: dict[str, int] = {"wecom": 4000, "dingtalk": 18000, "feishu": 18000, "webhook": 60000}
CARD_TEMPLATES: dict[str, str] = {"overdue": "red", "at_risk": "orange", "feed_failing": "grey", "feed_stale": "grey"}
USER_AGENT = "yuqing/0.1 (government public-opinion response tracker; alerts)"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ChannelConfig:
    """One robot or webhook from the routes file. `url` is complete (token included), so it is a secret
    like `secret` and `headers`: none of them appears in repr()."""

    name: str
    kind: str  # one of KINDS
    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)  # DingTalk / Feishu signing secret; webhook HMAC key
    format: str = "card"  # Feishu only: "card" (interactive) or "text"
    keyword: str | None = None  # the robot's security keyword, added to messages that lack it
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # webhook only, e.g. Authorization
    timeout: float = 10.0


@dataclass(frozen=True)
class HttpRequest:
    """One POST ready to go. `channel` and `kind` travel along so delivery can read the vendor's answer
    and name the channel in errors without printing the secret URL."""

    url: str = field(repr=False)
    headers: tuple[tuple[str, str], ...]
    body: bytes
    channel: str = ""
    kind: str = "webhook"
    timeout: float = 10.0


def token_url(kind: str, token: str, base_url: str | None = None) -> str:
    """The webhook URL from a robot token and an optional base (scheme://host[/prefix])."""
    base = (base_url or DEFAULT_BASE_URLS[kind]).rstrip("/")
    return base + TOKEN_PATHS[kind].format(token=urllib.parse.quote(token, safe=""))


def build_request(channel: ChannelConfig, alert_or_text: Alert | str, *, now: datetime) -> HttpRequest:
    """The HTTP request that delivers `alert_or_text` on `channel`, signed where the channel has a secret.

    A plain string (e.g. `yuqing alerts test`) goes out as an untyped message with a generic title.
    """
    require_aware(now, "now")
    if isinstance(alert_or_text, Alert):
        alert: Alert | None = alert_or_text
        title, text = alert_or_text.title, alert_or_text.text
    else:
        alert = None
        title, text = render("AL_TITLE_PLAIN"), str(alert_or_text)
    if channel.keyword and channel.keyword not in text:
        text = f"【{channel.keyword}】{text}"
    text = _truncate_utf8(text, TEXT_LIMITS.get(channel.kind, 18000))
    url = channel.url
    headers = [("Content-Type", "application/json; charset=utf-8"), ("User-Agent", USER_AGENT)]
    if channel.kind == "wecom":
        payload: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": text}}
    elif channel.kind == "dingtalk":
        # DingTalk markdown needs two trailing spaces for a line break inside a paragraph.
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": text.replace("\n", "  \n")}}
        if channel.secret:
            url = _dingtalk_signed_url(url, channel.secret, now)
    elif channel.kind == "feishu":
        payload = _feishu_payload(channel, alert, title, text)
        if channel.secret:
            timestamp = _epoch_seconds(now)
            payload = {"timestamp": str(timestamp), "sign": feishu_sign(channel.secret, timestamp), **payload}
    elif channel.kind == "webhook":
        payload = _webhook_payload(alert, title, text, now)
    else:
        raise ValueError(f"unknown channel kind {channel.kind!r}")
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if channel.kind == "webhook":
        headers.extend(channel.headers)
        if channel.secret:
            timestamp = _epoch_seconds(now)
            headers.append(("X-Yuqing-Timestamp", str(timestamp)))
            headers.append(("X-Yuqing-Signature", webhook_signature(channel.secret, timestamp, body)))
    return HttpRequest(url, tuple(headers), body, channel.name, channel.kind, channel.timeout)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: HMAC-SHA256 keyed by the secret over "timestamp\\nsecret", base64 (not yet URL-encoded)."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: "timestamp\\nsecret" is the HMAC-SHA256 *key* over an empty message, base64."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """Our own scheme for the generic webhook: hex HMAC-SHA256 over "timestamp." + body, so a receiver
    can check both origin and freshness (replay a day later fails its timestamp check)."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_s}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def redacted_url(url: str) -> str:
    """scheme://host only: webhook paths and queries carry the robot's token."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "…"


def _dingtalk_signed_url(url: str, secret: str, now: datetime) -> str:
    timestamp = _epoch_millis(now)
    parts = urllib.parse.urlsplit(url)
    # A pasted URL may already carry an old signature: replace it rather than send two.
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k not in ("timestamp", "sign")]
    query += [("timestamp", str(timestamp)), ("sign", dingtalk_sign(secret, timestamp))]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _feishu_payload(channel: ChannelConfig, alert: Alert | None, title: str, text: str) -> dict[str, Any]:
    if channel.format == "text":
        return {"msg_type": "text", "content": {"text": f"{title}\n{_plain(text)}"}}
    template = CARD_TEMPLATES.get(alert.kind, "blue") if alert is not None else "blue"
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": title}, "template": template},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": text}}],
        },
    }


def _webhook_payload(alert: Alert | None, title: str, text: str, now: datetime) -> dict[str, Any]:
    # DESIGN.md §4: unknown values are null, never omitted; times ISO 8601 with +08:00.
    return {
        "source": "yuqing",
        "key": alert.key if alert else None,
        "kind": alert.kind if alert else "message",
        "title": title,
        "text": text,
        "unit_code": alert.unit_code if alert else None,
        "unit_name": alert.unit_name if alert else None,
        "flagged": alert.flagged if alert else False,
        "incident_id": alert.incident_id if alert else None,
        "window": alert.window if alert else None,
        "due_at": iso_beijing(alert.due_at) if alert else None,
        "feed_id": alert.feed_id if alert else None,
        "sent_at": iso_beijing(now),
    }


def _plain(text: str) -> str:
    return text.replace("**", "")


def _truncate_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - len("…".encode())].decode("utf-8", errors="ignore") + "…"


def _epoch_millis(now: datetime) -> int:
    return (now - _EPOCH) // timedelta(milliseconds=1)


def _epoch_seconds(now: datetime) -> int:
    return (now - _EPOCH) // timedelta(seconds=1)
