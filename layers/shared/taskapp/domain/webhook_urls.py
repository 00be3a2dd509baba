"""SSRF rules for webhook URLs: where the API agrees to send requests on a subscriber's behalf.

A URL is refused unless it is `https` and every address its host resolves to is public: no loopback, private
(RFC 1918, ULA), link-local (169.254.169.254, the metadata endpoint, and fe80::/10), CGNAT (100.64.0.0/10),
multicast, reserved or unspecified addresses, and no IPv6 form of one (IPv4-mapped, 6to4, Teredo). Checked when a
subscription is created or changed and again before every attempt, and the attempt connects to the very address
that was checked (taskapp.messaging.webhook_http), so a DNS answer that changes in between (rebinding) is caught.

`allow_loopback_http` (the WEBHOOK_ALLOW_LOOPBACK_HTTP setting, on for local stacks, off in the template for AWS)
lets `http://127.0.0.1`-style receivers through, so tests and developers can run receivers on their machine. It
opens loopback only: private and metadata addresses stay refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

from taskapp.errors import ValidationFailed

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class Target(NamedTuple):
    """A checked URL: connect to one of `addresses`, and send `host` as the Host header and TLS server name."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _unsafe(reason: str, url: str) -> ValidationFailed:
    return ValidationFailed(f"Webhook URL refused: {reason}", {"url": url[:200]}, code="UNSAFE_WEBHOOK_URL")


# In order: the first that applies names the problem. Loopback is handled before (it may be allowed).
_PROBLEMS: tuple[tuple[Callable[[IpAddress], bool], str], ...] = (
    (lambda a: a.is_link_local, "link-local address (cloud metadata lives there)"),
    (lambda a: isinstance(a, ipaddress.IPv4Address) and a in _CGNAT, "carrier-grade NAT address (100.64.0.0/10)"),
    (lambda a: a.is_multicast, "multicast address"),
    (lambda a: a.is_unspecified, "unspecified address"),
    (lambda a: a.is_private, "private address"),
    (lambda a: a.is_reserved or not a.is_global, "reserved or non-public address"),
)


def address_problem(address: IpAddress, allow_loopback: bool) -> str | None:
    """Why an address may not receive webhooks, or None when it is public (or loopback, when allowed)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            problem = address_problem(embedded, allow_loopback)
            return f"{problem} (inside an IPv6 address)" if problem else None
    if address.is_loopback:
        return None if allow_loopback else "loopback address"
    return next((reason for applies, reason in _PROBLEMS if applies(address)), None)


def _addresses(host: str, port: int, resolve: Resolver) -> list[IpAddress]:
    """The host itself when it is an IP literal, else every address it resolves to (scope ids dropped)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return [ipaddress.ip_address(address.split("%")[0]) for address in resolve(host, port)]


def check_url(url: str, allow_loopback_http: bool, resolve: Resolver = system_resolver) -> Target:
    """The URL's target once every rule holds; raises ValidationFailed (400, UNSAFE_WEBHOOK_URL) with the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _unsafe("not a valid URL", url) from exc
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise _unsafe("it must be an absolute https:// URL", url)
    if parts.username is not None or parts.password is not None:
        raise _unsafe("credentials in the URL are not allowed", url)
    if parts.fragment:
        raise _unsafe("a fragment (#...) is never sent; remove it", url)
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = _addresses(host, port, resolve)
    except (OSError, UnicodeError, ValueError) as exc:
        raise _unsafe("its host does not resolve", url) from exc
    if not addresses:
        raise _unsafe("its host does not resolve", url)
    for address in addresses:
        problem = address_problem(address, allow_loopback_http)
        if problem:
            raise _unsafe(f"{host} resolves to a {problem}", url)
    if parts.scheme == "http" and not (allow_loopback_http and all(a.is_loopback for a in addresses)):
        raise _unsafe("it must use https", url)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, tuple(str(a) for a in addresses))
