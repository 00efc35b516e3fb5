"""Where a webhook may be sent (SSRF): an https URL whose host resolves only to public addresses.

Private, loopback, link-local, shared, reserved, multicast and unspecified addresses are refused
(an IPv6 address standing for an IPv4 one, IPv4-mapped, 6to4 or NAT64, is judged as that), at registration and again
at every delivery, where the request then goes to the address that was checked (a DNS answer that
changed in between cannot redirect it). `allow_loopback` (ecrm local and the tests) also lets
loopback addresses and plain http through, nothing else.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from ecrm.errors import InvalidInput
from ecrm.webhooks.ports import HostDirectory

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Destination:
    """A URL judged safe to send to, and the address it is sent to."""

    url: str
    scheme: str
    host: str
    port: int
    target: str  # path and query
    address: str


NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # IPv4 addresses reached through a NAT64 gateway


def embedded(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped, 6to4, or NAT64's well-known prefix."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


def refused(address: Address, allow_loopback: bool = False) -> str | None:
    """Why an address may not be sent to, or None."""
    inner = embedded(address)
    if inner is not None:
        return refused(inner, allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_private or address.is_reserved or address.is_unspecified or address.is_multicast:
        return "a private, reserved or multicast address"
    if not address.is_global:
        return "not a public address"
    return None


def _loopback(address: Address) -> bool:
    return (embedded(address) or address).is_loopback


def _parsed(url: str, allow_loopback: bool) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError as exc:
        raise InvalidInput("url", f"not a URL: {exc}") from None
    if parts.scheme not in (("https", "http") if allow_loopback else ("https",)):
        raise InvalidInput("url", "must be an https URL")
    if not parts.hostname:
        raise InvalidInput("url", "has no host")
    if parts.username or parts.password:
        raise InvalidInput("url", "must not carry credentials (the signature proves who sends)")
    if parts.fragment:
        raise InvalidInput("url", "must not have a fragment")
    return parts


def _resolved(host: str, hosts: HostDirectory) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return [ipaddress.ip_address(a) for a in hosts.addresses(host)]


def destination(url: str, hosts: HostDirectory, allow_loopback: bool = False) -> Destination:
    """The URL checked and resolved, or InvalidInput naming `url` and why."""
    parts = _parsed(url, allow_loopback)
    host = parts.hostname or ""
    found = _resolved(host, hosts)
    if not found:
        raise InvalidInput("url", f"host {host} does not resolve")
    for address in found:
        reason = refused(address, allow_loopback)
        if reason:
            raise InvalidInput("url", f"host {host} resolves to {reason}")
        if parts.scheme == "http" and not _loopback(address):
            raise InvalidInput("url", "must be an https URL")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Destination(url, parts.scheme, host, port, target, str(found[0]))
