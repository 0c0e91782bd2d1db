"""SSRF policy: which IP addresses a fetch may reach.

A feed URL comes from configuration, but the address behind it comes from DNS and
redirects, which a remote party controls.  So the check is made on the *resolved*
address of every connection, and the connection is then made to the very address
that was checked (no second lookup an attacker could answer differently).

By default only public unicast addresses are allowed.  Loopback, private (RFC 1918,
fc00::/7), link-local, multicast, unspecified, carrier-grade NAT, documentation and
other reserved ranges are refused, including when spelled as IPv4-mapped or
otherwise embedded IPv6 addresses.  Networks listed in ``allow_private_networks``
(config) or a source's own list are allowed on top.

This module is plain policy; :mod:`aggregator.ingest.transport` enforces it on
every connection (its resolver and its socket factory).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressRefused(Exception):
    """A connection to a non-public address that no allowed network covers."""


def parse_networks(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse CIDR strings ("10.0.0.0/8", "::1/128", "192.168.1.5").

    Raises ValueError naming the bad entry.
    """
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"not a network: {cidr!r}; write a CIDR such as 10.0.0.0/8 or 192.168.1.5/32"
            ) from None
    return tuple(networks)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host name spells literally, or None for a real name.

    Catches the spellings C's inet_aton accepts and URL parsers may pass through:
    decimal "2130706433", hex "0x7f000001", octal "0177.0.0.1", short "127.1",
    as well as bracketed IPv6 "[::1]".
    """
    host = host.strip().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        pass
    # inet_aton also accepts "1.2.3.4 junk"; only all-numeric spellings count here.
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def classify(address: IPAddress) -> str | None:
    """Why an address is not public ("a loopback address"), or None if it is."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = classify(embedded)
        return f"{reason} embedded in IPv6" if reason else None
    if address.is_loopback:
        return "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a carrier-grade NAT address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a reserved address"
    return None


class NetworkPolicy:
    """Public addresses, plus the networks in ``allow``.

    Hashable and comparable, so connection pools can be kept per policy: a
    keep-alive connection opened under a lenient policy must not serve a request
    made under a strict one.
    """

    def __init__(self, allow: Iterable[str | IPNetwork] = ()) -> None:
        nets = [a if not isinstance(a, str) else parse_networks([a])[0] for a in allow]
        self.allow: frozenset[IPNetwork] = frozenset(nets)
        self._hash = hash(self.allow)  # a key of every pool lookup

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, NetworkPolicy) and other.allow == self.allow)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"NetworkPolicy(allow={sorted(map(str, self.allow))})"

    def refusal(self, address: IPAddress, host: str | None = None) -> str | None:
        """A message saying why ``address`` (that ``host`` resolved to) is refused, or None."""
        reason = classify(address)
        if reason is None:
            return None
        candidates = [address]
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            candidates.append(embedded)
        for candidate in candidates:
            if any(candidate.version == n.version and candidate in n for n in self.allow):
                return None
        if host and parse_ip_literal(host) is None:
            where = f"{host} resolves to {address}, {reason}"
        elif host and host.strip("[]") != str(address):
            where = f"{host} ({address}) is {reason}"
        else:
            where = f"{address} is {reason}"
        return f"refused: {where}; allow it with allow_private_networks: [{_suggest(address)}]"

    def check(self, address: IPAddress, host: str | None = None) -> None:
        """Raise AddressRefused unless the policy allows ``address``."""
        message = self.refusal(address, host)
        if message:
            raise AddressRefused(message)

    def check_literal(self, host: str) -> None:
        """Refuse early a host that spells a forbidden IP address, in any spelling."""
        address = parse_ip_literal(host)
        if address is not None:
            self.check(address, host)


def _suggest(address: IPAddress) -> str:
    """The network to name in the "allow it with" hint."""
    address = _embedded_ipv4(address) or address
    if isinstance(address, ipaddress.IPv4Address) and address.is_loopback:
        return "127.0.0.0/8"
    return str(ipaddress.ip_network(address))


async def resolve(host: str, port: int, policy: NetworkPolicy) -> list[IPAddress]:
    """The addresses of ``host`` that ``policy`` allows, in resolver order.

    Raises AddressRefused if it resolves only to forbidden addresses and
    OSError (socket.gaierror) if it does not resolve.
    """
    literal = parse_ip_literal(host)
    if literal is not None:
        policy.check(literal, host)
        return [literal]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed: list[IPAddress] = []
    first_refusal = None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        message = policy.refusal(address, host)
        if message is None:
            if address not in allowed:
                allowed.append(address)
        elif first_refusal is None:
            first_refusal = message
    if not allowed:
        raise AddressRefused(first_refusal or f"refused: {host} resolves to no address")
    return allowed
