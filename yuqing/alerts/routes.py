"""The routes file: which robots exist, which units' alerts each receives, the office, quiet hours.

One TOML file (see routes.example.toml), validated on load; every error names the file, the key and
the problem. Nothing outside this file is consulted: hosts, tokens and secrets are all data here.
"""
from __future__ import annotations

import re
import tomllib
import urllib.parse
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from yuqing.alerts.channels import FEISHU_FORMATS, KINDS, ChannelConfig, token_url
from yuqing.alerts.rules import INCIDENT_KINDS, Alert, QuietHours
from yuqing.errors import YuqingError

TOP_KEYS = ("quiet", "channels", "route", "office")
# Which settings each channel kind understands; anything else is a typo worth refusing.
CHANNEL_KEYS: dict[str, tuple[str, ...]] = {
    "wecom": ("kind", "url", "base_url", "token", "keyword", "timeout"),
    "dingtalk": ("kind", "url", "base_url", "token", "secret", "keyword", "timeout"),
    "feishu": ("kind", "url", "base_url", "token", "secret", "format", "keyword", "timeout"),
    "webhook": ("kind", "url", "secret", "headers", "timeout"),
}
ROUTE_KEYS = ("units", "channels", "kinds", "flagged_only")
ALL_UNITS = "*"
TIMEOUT_RANGE = (1.0, 60.0)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


@dataclass(frozen=True)
class Route:
    """Alerts of `units` (codes, or "*") go to `channels`, optionally only some kinds or flagged ones."""

    units: tuple[str, ...]
    channels: tuple[str, ...]
    kinds: tuple[str, ...] = INCIDENT_KINDS
    flagged_only: bool = False

    def covers(self, unit_code: str) -> bool:
        return ALL_UNITS in self.units or unit_code in self.units

    def takes(self, alert: Alert) -> bool:
        return alert.kind in self.kinds and (alert.flagged or not self.flagged_only)


@dataclass(frozen=True)
class Routes:
    path: str
    channels: tuple[ChannelConfig, ...]
    routes: tuple[Route, ...]
    office: tuple[str, ...]
    quiet: QuietHours | None

    def channel(self, name: str) -> ChannelConfig:
        for channel in self.channels:
            if channel.name == name:
                return channel
        choices = "、".join(c.name for c in self.channels) or "（无）"
        raise YuqingError("E_ROUTES_CHANNEL", value=name, path=self.path, choices=choices)

    def channels_for(self, alert: Alert) -> list[ChannelConfig]:
        """The channels `alert` goes to, each once, in file order.

        Feed alerts (no unit) go to the office. An incident alert goes to every route that covers its
        unit and takes its kind; a unit that no route covers falls back to the office, so no alert is
        dropped because a unit was left out of the file. A route that covers the unit but filters
        the alert out (kinds, flagged_only) is a choice, not an omission: no fallback then.
        """
        if alert.unit_code is None:
            names: list[str] = list(self.office)
        else:
            covering = [route for route in self.routes if route.covers(alert.unit_code)]
            if covering:
                names = [name for route in covering if route.takes(alert) for name in route.channels]
            else:
                names = list(self.office)
        return [self.channel(name) for name in dict.fromkeys(names)]


def load_routes(path: str | Path, *, unit_codes: Collection[str] | None = None) -> Routes:
    """Read and validate a routes file. With `unit_codes` (the unit registry), unknown codes are refused."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YuqingError("E_FILE_READ", path=str(path), detail=str(exc)) from exc
    return parse_routes(text, path=str(path), unit_codes=unit_codes)


def parse_routes(text: str, *, path: str = "<routes>", unit_codes: Collection[str] | None = None) -> Routes:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise YuqingError("E_ROUTES_TOML", path=path, detail=str(exc)) from exc
    return _Parser(path, unit_codes).routes(data)


class _Parser:
    def __init__(self, path: str, unit_codes: Collection[str] | None) -> None:
        self.path = path
        self.unit_codes = set(unit_codes) if unit_codes is not None else None

    def error(self, key: str, problem: str) -> YuqingError:
        return YuqingError("E_ROUTES_FILE", path=self.path, key=key, problem=problem)

    def table(self, value: Any, key: str, allowed: Collection[str]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.error(key, "应为表（[...] 或 {...}）")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise self.error(f"{key}.{unknown[0]}" if key else unknown[0], f"不认识的设置项，可用：{', '.join(allowed)}")
        return value

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.error(key, "应为非空的字符串列表")
        if not all(isinstance(item, str) and item.strip() == item and item for item in value):
            raise self.error(key, "列表中每一项都应为不含空白的非空字符串")
        return tuple(value)

    def routes(self, data: Mapping[str, Any]) -> Routes:
        self.table(data, "", TOP_KEYS)
        if "channels" not in data:
            raise self.error("channels", "缺少渠道定义（[channels.名称]）")
        channels_data = data["channels"]
        if not isinstance(channels_data, dict) or not channels_data:
            raise self.error("channels", "至少要定义一个渠道（[channels.名称]）")
        channels = tuple(self.channel(name, value) for name, value in channels_data.items())
        defined = {c.name for c in channels}
        routes = tuple(self.route(index, item, defined) for index, item in enumerate(self.route_list(data)))
        if "office" not in data:
            raise self.error("office", "缺少 [office]：订阅源故障和未配置路由的单位的告警发给谁")
        office = self.table(data["office"], "office", ("channels",))
        if "channels" not in office:
            raise self.error("office.channels", "缺少")
        office_channels = self.channel_refs(office["channels"], "office.channels", defined)
        quiet = self.quiet(data["quiet"]) if "quiet" in data else None
        return Routes(self.path, channels, routes, office_channels, quiet)

    def route_list(self, data: Mapping[str, Any]) -> list[Any]:
        value = data.get("route", [])
        if not isinstance(value, list):
            raise self.error("route", "应写成 [[route]] 表数组")
        return value

    def channel(self, name: str, value: Any) -> ChannelConfig:
        key = f"channels.{name}"
        if not name or name.strip() != name or any(ch.isspace() for ch in name):
            raise self.error(key, "渠道名称不能为空或含空白")
        if not isinstance(value, dict):
            raise self.error(key, "应为表（[channels.名称]）")
        kind = value.get("kind")
        if kind not in KINDS:
            raise self.error(f"{key}.kind", f"必须是 {', '.join(KINDS)} 之一")
        self.table(value, key, CHANNEL_KEYS[kind])
        url = self.url(value, key, kind)
        secret = self.optional_text(value, key, "secret")
        keyword = self.optional_text(value, key, "keyword")
        fmt = value.get("format", "card")
        if fmt not in FEISHU_FORMATS:
            raise self.error(f"{key}.format", f"必须是 {', '.join(FEISHU_FORMATS)} 之一")
        timeout = value.get("timeout", 10.0)
        low, high = TIMEOUT_RANGE
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not low <= timeout <= high:
            raise self.error(f"{key}.timeout", f"应为 {low:g} 到 {high:g} 之间的秒数")
        headers = self.headers(value.get("headers", {}), f"{key}.headers")
        return ChannelConfig(name, kind, url, secret, fmt, keyword, headers, float(timeout))

    def url(self, value: Mapping[str, Any], key: str, kind: str) -> str:
        has_url, has_token = "url" in value, "token" in value
        if kind == "webhook":
            if not has_url:
                raise self.error(f"{key}.url", "缺少 Webhook 地址")
            return self.check_url(value["url"], f"{key}.url")
        if has_url == has_token:
            raise self.error(key, "url（完整的 Webhook 地址）和 token（机器人令牌，配合 base_url）必须且只能写一个")
        if has_url:
            if "base_url" in value:
                raise self.error(f"{key}.base_url", "已写完整的 url，base_url 不起作用，请删去")
            return self.check_url(value["url"], f"{key}.url")
        token = self.optional_text(value, key, "token")
        assert token is not None
        base = self.check_url(value["base_url"], f"{key}.base_url") if "base_url" in value else None
        if base is not None and urllib.parse.urlsplit(base).query:
            raise self.error(f"{key}.base_url", "只写协议、主机和路径前缀，不能带查询参数")
        return token_url(kind, token, base)

    def check_url(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or any(ch.isspace() for ch in value):
            raise self.error(key, "应为不含空白的地址字符串")
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.error(key, "应为 http:// 或 https:// 开头的完整地址")
        return value

    def optional_text(self, value: Mapping[str, Any], key: str, name: str) -> str | None:
        if name not in value:
            return None
        text = value[name]
        if not isinstance(text, str) or not text.strip() or any(ch in text for ch in "\r\n"):
            raise self.error(f"{key}.{name}", "应为非空的单行字符串")
        return text.strip()

    def headers(self, value: Any, key: str) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, dict):
            raise self.error(key, "应为表，例如 { Authorization = \"Bearer …\" }")
        result = []
        for name, header_value in value.items():
            if not _HEADER_NAME.match(name) or name.lower() in ("content-type", "content-length", "host"):
                raise self.error(f"{key}.{name}", "不是可以自定义的 HTTP 头名称")
            # A newline in a header value would let the file smuggle in extra headers.
            if not isinstance(header_value, str) or any(ch in header_value for ch in "\r\n"):
                raise self.error(f"{key}.{name}", "应为单行字符串")
            result.append((name, header_value))
        return tuple(result)

    def channel_refs(self, value: Any, key: str, defined: set[str]) -> tuple[str, ...]:
        names = self.names(value, key)
        for name in names:
            if name not in defined:
                raise self.error(key, f"渠道“{name}”没有定义，已定义：{'、'.join(sorted(defined))}")
        return names

    def route(self, index: int, value: Any, defined: set[str]) -> Route:
        key = f"route[{index}]"
        self.table(value, key, ROUTE_KEYS)
        for required in ("units", "channels"):
            if required not in value:
                raise self.error(f"{key}.{required}", "缺少")
        units = self.names(value["units"], f"{key}.units")
        if self.unit_codes is not None:
            for code in units:
                if code != ALL_UNITS and code not in self.unit_codes:
                    raise self.error(f"{key}.units", f"单位代码“{code}”不在单位名单中（全部单位请写 \"*\"）")
        channels = self.channel_refs(value["channels"], f"{key}.channels", defined)
        kinds = self.names(value["kinds"], f"{key}.kinds") if "kinds" in value else INCIDENT_KINDS
        for kind in kinds:
            if kind not in INCIDENT_KINDS:
                raise self.error(f"{key}.kinds", f"“{kind}”无效，可选：{', '.join(INCIDENT_KINDS)}（订阅源告警只发 [office]）")
        flagged_only = value.get("flagged_only", False)
        if not isinstance(flagged_only, bool):
            raise self.error(f"{key}.flagged_only", "应为 true 或 false")
        return Route(units, channels, kinds, flagged_only)

    def quiet(self, value: Any) -> QuietHours:
        table = self.table(value, "quiet", ("start", "end"))
        for required in ("start", "end"):
            if required not in table:
                raise self.error(f"quiet.{required}", "缺少（北京时间，如 \"22:00\"）")
        start, end = self.clock(table["start"], "quiet.start"), self.clock(table["end"], "quiet.end")
        if start == end:
            raise self.error("quiet", "start 与 end 相同，无法判断是全天免打扰还是不免打扰")
        return QuietHours(start, end)

    def clock(self, value: Any, key: str) -> time:
        if isinstance(value, time) and value.tzinfo is None:
            return value
        match = _CLOCK.match(value) if isinstance(value, str) else None
        if match is None:
            raise self.error(key, "应为北京时间“时:分”，如 \"22:00\"")
        return time(int(match.group(1)), int(match.group(2)))
