"""Sending SMS through a gateway. The portal talks to one interface; a province plugs in its operator's API.

The default gateway writes messages to the log (the embedded default, and development). Set SMS_GATEWAY to
"package.module:Class" for another; the class is built with the Flask config and must raise on failure, so the
message is retried.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any, Protocol

from flask import current_app

log = logging.getLogger(__name__)


class SmsGateway(Protocol):
    def send(self, phone: str, text: str, message_id: str) -> None:
        """Deliver `text` to `phone`; raise if the gateway did not accept it. `message_id` is stable across
        retries, for gateways that can drop duplicates."""


class LoggingSmsGateway:
    def __init__(self, config: Any = None) -> None:
        self.config = config

    def send(self, phone: str, text: str, message_id: str) -> None:
        log.info("sms (logging gateway) to=%s id=%s: %s", phone, message_id, text)


def gateway() -> SmsGateway:
    path = current_app.config.get("SMS_GATEWAY") or "portal.notifications.sms:LoggingSmsGateway"
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)(current_app.config)
