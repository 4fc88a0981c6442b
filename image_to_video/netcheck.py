"""Where the server may send a request of its own: public addresses only (against SSRF).

One rule for every outbound call the service makes on someone else's say-so (a
provider's result URL, an integrator's webhook): every address the host resolves
to must be globally routable: not private, loopback, link-local, shared,
reserved, documentation or multicast. An IPv4 address carried inside an IPv6 one
is judged as the IPv4 address it is, however it is written: mapped
(``::ffff:a.b.c.d``), translated (``::ffff:0:a.b.c.d``), compatible
(``::a.b.c.d``), NAT64 (``64:ff9b::/96``), 6to4 (``2002::/16``). Teredo
(``2001::/32``) and local-use NAT64 (``64:ff9b:1::/48``) are refused outright:
where they lead cannot be judged from here. Error messages name the rule, never
the address a name resolved to.
"""

from __future__ import annotations

import ipaddress
import socket

_EMBEDDING_LAST_32_BITS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "::ffff:0:0/96",  # IPv4-mapped
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "::/96",  # IPv4-compatible (deprecated)
        "64:ff9b::/96",  # NAT64, well-known prefix
    )
)
_NEVER = tuple(
    ipaddress.ip_network(net)
    for net in (
        "2001::/32",  # Teredo: the IPv4 client behind it is not ours to judge
        "64:ff9b:1::/48",  # NAT64 for local use
    )
)


def _as_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, if it is written to carry one."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _EMBEDDING_LAST_32_BITS):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in net for net in _NEVER):
            return False
        ip = _as_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order, once each.

    Raises ``socket.gaierror`` when it does not resolve, ``UnicodeError`` or
    ``ValueError`` when it is not a host name at all.
    """
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def non_public_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to that are not public, sorted (empty: all public); raises as
    :func:`resolve` does."""
    return sorted(a for a in resolve(host, port) if not is_public(a))
