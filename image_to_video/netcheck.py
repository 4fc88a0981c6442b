"""Where the server may send a request of its own: public addresses only (against SSRF).

One rule for every outbound call the service makes on someone else's say-so (a
provider's result URL, an integrator's webhook): every address the host resolves
to must be public: not private, loopback, link-local, reserved or multicast, an
IPv4 address mapped into IPv6 judged as the IPv4 address it is.
"""

from __future__ import annotations

import ipaddress
import socket


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def non_public_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to that are not public, sorted (empty: all public).

    Raises ``socket.gaierror`` when it does not resolve, ``UnicodeError`` or
    ``ValueError`` when it is not a host name at all.
    """
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos if not is_public(str(info[4][0]))})
