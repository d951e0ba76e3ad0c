"""Which addresses the portal itself may call: allow-lists of hosts, and refusal of internal addresses.

Shared by the `http.json` external topic (portal/external/http_json.py: only listed hosts) and webhooks
(portal/sync/webhooks.py: any public host over https; an internal one only when listed). A host name is resolved
and refused if any of its addresses is loopback, private, link-local (169.254.169.254, the clouds' metadata
service), multicast, reserved or otherwise not global — so an administrator cannot point the portal at its own
network (SSRF). Checked when an address is registered and again before each call: DNS answers may change.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l


class RefusedUrl(Exception):
    """The URL may not be called: `reason` for logs (English), `message` for the person (translated)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case, without brackets
    port: int


def allowed_entries(value: str | Iterable[str] | None) -> set[str]:
    """`host` / `host:port` entries from a list or a comma-separated string, lower case."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    return {item.strip().lower() for item in items if item and item.strip()}


def target(url: str, schemes: Iterable[str] = ("http", "https")) -> Target:
    """The URL's scheme, host and port; RefusedUrl for another scheme, no host or credentials in the URL."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        wanted = " and ".join(sorted(schemes))
        raise RefusedUrl(
            f"url scheme {scheme or '-'!r} refused: only {wanted}",
            str(_l("Only https:// addresses are accepted."))
            if tuple(schemes) == ("https",)
            else str(_l("Enter an http:// or https:// address.")),
        )
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedUrl("url has an invalid port", str(_l("The address has an invalid port."))) from exc
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        raise RefusedUrl(
            "url has no host, or carries credentials",
            str(_l("Enter an address with a host name, without a user name or password.")),
        )
    return Target(scheme, host, port)


def is_listed(host: str, port: int, allowed: set[str]) -> bool:
    return host in allowed or f"{host}:{port}" in allowed or f"[{host}]:{port}" in allowed


def is_internal(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified, or anything else not globally routed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is link-local anyway
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def addresses(host: str, port: int) -> list[str]:
    """Every address the host resolves to; RefusedUrl when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise RefusedUrl(
            f"host {host} does not resolve: {exc}", str(_l("The host %(host)s could not be found.", host=host))
        ) from exc
    return sorted({str(info[4][0]) for info in infos})


def check_public_url(url: str, *, allow_http: bool, allowed_hosts: str | Iterable[str] | None) -> Target:
    """The URL's target if the portal may call it: https (http only with `allow_http`), and a host that is listed
    in `allowed_hosts` or resolves only to public addresses. RefusedUrl saying why not."""
    found = target(url, ("http", "https") if allow_http else ("https",))
    if is_listed(found.host, found.port, allowed_entries(allowed_hosts)):
        return found
    for address in addresses(found.host, found.port):
        if is_internal(address):
            raise RefusedUrl(
                f"host {found.host} resolves to the internal address {address}",
                str(
                    _l(
                        "The host %(host)s is an internal address (%(address)s): only public addresses are accepted.",
                        host=found.host,
                        address=address,
                    )
                ),
            )
    return found
