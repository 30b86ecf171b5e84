"""Which addresses the fetcher may connect to: public unicast only, every IP-literal spelling
read as browsers read it, ``FETCH_ALLOW_PRIVATE`` ranges let through, link-local and cloud
metadata addresses never (OWASP SSRF)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance-metadata services hand out cloud credentials: refused even when FETCH_ALLOW_PRIVATE
# would let their range through (AWS/GCP/Azure/OpenStack, ECS, AWS IPv6, Alibaba, Oracle, Azure
# wireserver; the last one sits in public address space, so only this list catches it).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
        "192.0.0.192",
        "168.63.129.16",
    )
)
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.platformequinix.com",
    }
)
_ALWAYS_REFUSED = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
_HEX = "0123456789abcdefABCDEF"
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def parse_allow_private(value: str) -> list[IPNetwork]:
    """Read ``FETCH_ALLOW_PRIVATE`` (comma-separated CIDRs); a typo must fail loudly at startup.

    Host bits are tolerated (``127.0.0.1/8`` means ``127.0.0.0/8``).
    """
    networks = []
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"FETCH_ALLOW_PRIVATE: {item!r} is not a CIDR network") from exc
    return networks


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host, in its order, each once."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_DIGITS = {8: frozenset("01234567"), 10: frozenset("0123456789"), 16: frozenset(_HEX)}


def _ipv4_number(part: str) -> int:
    """One dotted part as the WHATWG URL parser (and inet_aton) reads it: 0x.. hex, 0.. octal."""
    text, base = part, 10
    if text[:2].lower() == "0x":
        text, base = text[2:], 16
        if not text:
            return 0
    elif len(text) > 1 and text.startswith("0"):
        text, base = text[1:], 8
    if not text or not set(text) <= _DIGITS[base]:
        raise ValueError(f"not an IPv4 number: {part!r}")
    return int(text, base)


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL host means when it is an IP literal, else None (a name to resolve).

    Reads every spelling browsers and ``inet_aton`` accept, so ``2130706433``, ``0x7f000001``,
    ``0177.0.0.1`` and ``127.1`` all mean 127.0.0.1 and are checked as such. Raises ValueError
    for hosts that look numeric but are no address (``1.2.3.256``), as browsers do.
    """
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        return ipaddress.ip_address(host.replace("%25", "%"))
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    last = parts[-1]
    numeric = last.isdigit() or (last[:2].lower() == "0x" and all(c in _HEX for c in last[2:]))
    if not last or not numeric:
        return None
    if len(parts) > 4:
        raise ValueError(f"too many parts for an IPv4 address: {host!r}")
    numbers = [_ipv4_number(p) for p in parts]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"IPv4 part out of range: {host!r}")
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n * 256 ** (3 - i)
    return ipaddress.IPv4Address(value)


def _is_public(ip: IPAddress) -> bool:
    """Globally routable unicast; ``is_global`` alone lets multicast through on Python 3.11."""
    if (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    ):
        return False
    return not (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 or 6to4 address forwards to (a gateway would reach it for us)."""
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def address_problem(ip: IPAddress, allow_private: Sequence[IPNetwork] = ()) -> str | None:
    """Why we must not connect to ``ip`` ("metadata", "link_local" or "private"), else None.

    ``allow_private`` lets intranet (or test loopback) ranges through, but never link-local or
    metadata addresses, and never IPv4-mapped IPv6 (a second spelling of an IPv4 address).
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(int(ip))
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        inner = ip.ipv4_mapped
        if inner in METADATA_ADDRESSES:
            return "metadata"
        return "link_local" if inner.is_link_local else "private"
    if any(ip in net for net in _ALWAYS_REFUSED):
        return "link_local"
    if any(ip.version == net.version and ip in net for net in allow_private):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and (inner in METADATA_ADDRESSES or not _is_public(inner)):
            return "metadata" if inner in METADATA_ADDRESSES else "private"
    return None if _is_public(ip) else "private"


def as_networks(values: str | Sequence[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    if isinstance(values, str):
        values = [values]
    networks: list[IPNetwork] = []
    for value in values:
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(value)
        else:
            networks.extend(parse_allow_private(str(value)))
    return tuple(networks)
