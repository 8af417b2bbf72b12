"""Loopback-only networking for test processes, and fake DNS names mapped to any address.

`install()` wraps socket.socket.connect: a connection to anything but loopback is refused
before a packet leaves, and recorded in NETWORK_GUARD_LOG (a file the test reads to prove
"no fetch to a forbidden address"). NETWORK_GUARD_HOSTS="name=ip,..." makes getaddrinfo
answer those names with those addresses, so a worker can be shown a hostname that resolves
to 10.x or 169.254.x without any real DNS. Celery workers run it via `worker_argv()`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class ForbiddenConnection(ConnectionRefusedError):
    pass


def _is_loopback(address) -> bool:
    if isinstance(address, tuple) and address:
        try:
            ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
        except ValueError:
            return False  # a name: getaddrinfo resolves it first in every path we use
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.is_loopback
    return True  # AF_UNIX paths


def _record(address) -> None:
    path = os.environ.get("NETWORK_GUARD_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{address!r}\n")


def _guarded_connect(self, address):
    if not _is_loopback(address):
        _record(address)
        raise ForbiddenConnection(f"test network guard: refused connect to {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_loopback(address):
        _record(address)
        raise ForbiddenConnection(f"test network guard: refused connect to {address!r}")
    return _real_connect_ex(self, address)


def _fake_hosts() -> dict[str, str]:
    pairs = (p.split("=", 1) for p in os.environ.get("NETWORK_GUARD_HOSTS", "").split(",") if p)
    return {name.strip().lower(): ip.strip() for name, ip in pairs}


def _getaddrinfo(host, port, *args, **kwargs):
    ip = _fake_hosts().get(str(host).lower()) if host else None
    if ip:
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        sockaddr = (ip, int(port or 0), 0, 0) if family == socket.AF_INET6 else (ip, int(port or 0))
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
    return _real_getaddrinfo(host, port, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _getaddrinfo


def worker_argv(queue: str, pool: str = "solo", concurrency: int = 1) -> list[str]:
    """`celery -A web worker` for one queue, in this interpreter, behind the guard."""
    return [
        sys.executable, "-c",
        "import tests.network_guard as g; g.install(); "
        "from celery.__main__ import main; main()",
        "-A", "web", "worker", "-P", pool, "-c", str(concurrency), "-Q", queue,
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
    ]


def catalog_argv(*args: str) -> list[str]:
    """`catalog ...` behind the guard (the dispatcher never fetches, but prove it)."""
    return [
        sys.executable, "-c",
        "import tests.network_guard as g; g.install(); from shared.cli import main; main()",
        *args,
    ]
