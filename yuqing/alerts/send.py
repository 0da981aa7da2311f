"""Delivering one request: POST, read the vendor's answer, retry what may succeed later, report the outcome.

The network sits behind `post(url, headers, body, timeout) -> (status, body)`; tests pass their own
function or point the default at a local server. Waiting goes through `sleep`, so tests never wait.
"""
from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from yuqing.alerts.channels import HttpRequest
from yuqing.errors import YuqingError

Post = Callable[[str, Mapping[str, str], bytes, float], tuple[int, bytes]]

MAX_RESPONSE_BYTES = 64 * 1024
RESPONSE_EXCERPT = 300
# Vendor codes that mean “too fast, try later”, answered with HTTP 200 (or 400 on older Feishu APIs):
# WeCom 45009 (20 messages a minute per robot); DingTalk 130101 and 410100 (20 a minute, then a
# 10-minute block); Feishu 11232 (100 a minute, 5 a second per robot) and 99991400 (gateway).
RATE_LIMIT_CODES: dict[str, frozenset[int]] = {
    "wecom": frozenset({45009}),
    "dingtalk": frozenset({130101, 410100}),
    "feishu": frozenset({11232, 99991400}),
}


@dataclass(frozen=True)
class Delivery:
    """What happened to one request. `error` is the Chinese sentence ending in [CODE]; `response` an
    excerpt of the last answer, for the delivery log."""

    ok: bool
    status: int | None  # HTTP status of the last attempt; None when no answer came
    attempts: int
    error: str | None = None
    error_code: str | None = None
    response: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would turn a redirected POST into a GET without the body: a silent non-delivery.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def urllib_post(url: str, headers: Mapping[str, str], body: bytes, timeout: float) -> tuple[int, bytes]:
    """The real transport: one POST through urllib (honours *_proxy / no_proxy, verifies TLS).

    HTTP error statuses are returned, not raised; network failures raise OSError (URLError,
    TimeoutError, ConnectionError) or http.client.HTTPException. At most 64 KiB of the answer is read.
    """
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(MAX_RESPONSE_BYTES)


def deliver(
    request: HttpRequest,
    *,
    post: Post = urllib_post,
    attempts: int = 4,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST `request` until it is accepted, refused for good, or `attempts` are used up.

    Retried, after base_delay × 2ⁿ⁻¹ seconds (capped at max_delay): network errors and timeouts,
    HTTP 5xx, HTTP 429 and the vendors' rate-limit codes. Not retried: other 3xx/4xx and a vendor
    error code in the body (bad token, failed signature, missing keyword: trying again cannot help).
    Accepted means HTTP 2xx and, for WeCom/DingTalk, `errcode` 0; for Feishu, `code` (or the older
    `StatusCode`) 0. The generic webhook is accepted on any 2xx.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts!r}")
    headers = dict(request.headers)
    outcome: _Outcome | None = None
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(min(base_delay * 2 ** (attempt - 2), max_delay))
        outcome = _attempt(request, headers, post)
        if outcome.ok or not outcome.retry:
            break
    assert outcome is not None
    return Delivery(outcome.ok, outcome.status, attempt, outcome.error, outcome.error_code, outcome.response)


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    retry: bool
    status: int | None
    error_code: str | None = None
    error: str | None = None
    response: str | None = None


def _failure(code: str, *, retry: bool, status: int | None, response: str | None = None, **params: object) -> _Outcome:
    return _Outcome(False, retry, status, code, str(YuqingError(code, **params)), response)


def _attempt(request: HttpRequest, headers: Mapping[str, str], post: Post) -> _Outcome:
    channel = request.channel or request.kind
    try:
        status, body = post(request.url, headers, request.body, request.timeout)
    except TimeoutError:
        return _failure("E_ALERT_TIMEOUT", retry=True, status=None, channel=channel, seconds=f"{request.timeout:g}")
    except (OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        if isinstance(reason, TimeoutError):
            return _failure("E_ALERT_TIMEOUT", retry=True, status=None, channel=channel, seconds=f"{request.timeout:g}")
        return _failure("E_ALERT_NETWORK", retry=True, status=None, channel=channel, detail=_one_line(str(reason)))
    excerpt = _excerpt(body)
    vendor_code, vendor_message = _vendor_code(request.kind, body)
    rate_limited = status == 429 or vendor_code in RATE_LIMIT_CODES.get(request.kind, ())
    if rate_limited:
        detail = f"HTTP {status}" if vendor_code is None else f"错误码 {vendor_code}"
        return _failure("E_ALERT_RATE_LIMITED", retry=True, status=status, response=excerpt, channel=channel, detail=detail)
    if not 200 <= status < 300:
        return _failure(
            "E_ALERT_HTTP_STATUS", retry=status >= 500, status=status, response=excerpt, channel=channel, http_status=status
        )
    if request.kind == "webhook":
        return _Outcome(True, False, status, response=excerpt)
    if vendor_code is None:
        return _failure("E_ALERT_BAD_RESPONSE", retry=False, status=status, response=excerpt, channel=channel, detail=excerpt or "（空）")
    if vendor_code != 0:
        return _failure(
            "E_ALERT_REJECTED", retry=False, status=status, response=excerpt,
            channel=channel, errcode=vendor_code, errmsg=vendor_message or "—",
        )
    return _Outcome(True, False, status, response=excerpt)


def _vendor_code(kind: str, body: bytes) -> tuple[int | None, str | None]:
    """The vendor's result code and message in a JSON answer, or (None, None) when there is none."""
    if kind == "webhook":
        return None, None
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    if kind == "feishu":
        # Current answers carry `code`/`msg`; older ones only `StatusCode`/`StatusMessage`.
        code, message = (data.get("code"), data.get("msg")) if "code" in data else (data.get("StatusCode"), data.get("StatusMessage"))
    else:
        code, message = data.get("errcode"), data.get("errmsg")
    if isinstance(code, bool) or not isinstance(code, int):
        return None, None
    return code, str(message) if message is not None else None


def _excerpt(body: bytes) -> str | None:
    if not body:
        return None
    text = _one_line(body[: RESPONSE_EXCERPT * 4].decode("utf-8", errors="replace"))
    return text if len(text) <= RESPONSE_EXCERPT else text[: RESPONSE_EXCERPT - 1] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())
