"""Name resolution through the system resolver (getaddrinfo): every address, IPv4 and IPv6."""

from __future__ import annotations

import socket


class SystemHosts:
    def addresses(self, host: str) -> list[str]:
        try:
            found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError, ValueError):  # ValueError: a NUL in the name
            return []
        return sorted({str(info[4][0]) for info in found})
