"""Alerts: what is due (rules), where it goes (routes), what the robots receive (channels), delivery (send).

`rules` and `channels` are pure (`now` is an argument); `routes` reads one TOML file; `send` is the only
module here that touches the network, through a `post` function tests replace.
"""
from __future__ import annotations

from yuqing.alerts.channels import ChannelConfig, HttpRequest, build_request
from yuqing.alerts.routes import Route, Routes, load_routes, parse_routes
from yuqing.alerts.rules import Alert, FeedHealth, IncidentClock, QuietHours, due_alerts
from yuqing.alerts.send import Delivery, deliver, urllib_post

__all__ = [
    "Alert",
    "ChannelConfig",
    "Delivery",
    "FeedHealth",
    "HttpRequest",
    "IncidentClock",
    "QuietHours",
    "Route",
    "Routes",
    "build_request",
    "deliver",
    "due_alerts",
    "load_routes",
    "parse_routes",
    "urllib_post",
]
