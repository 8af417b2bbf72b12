"""SSRF-safe image download: vet every address before connecting, cap size and time.

The host is resolved here (not by the HTTP library) and the connection goes to the vetted
IP with the original Host header, so a DNS answer cannot change between the check and the
connect. Redirects are followed by hand, each hop checked again. The body is streamed
against a byte cap and an overall deadline, so a huge or trickling response cannot pin a
worker. Hosts in THUMBNAIL_ALLOWED_HOSTS skip the address check (loopback test servers).
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from web.thumbnails.errors import PermanentError, TransientError

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
USER_AGENT = "catalog-sync-thumbnailer/1"

# host, port -> IP address strings, in the order to try them.
Resolver = Callable[[str, int], list[str]]
# (ip, port), timeout -> connected socket; tests pass one that fails if it is ever used.
Connector = Callable[[tuple[str, int], float], socket.socket]


class BlockedAddress(PermanentError):
    """The URL leads to an address we never fetch from (loopback, private, ...)."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            raise PermanentError(f"host {host!r} does not resolve") from None
        raise TransientError(f"DNS lookup of {host!r} failed: {exc}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


class _DeadlineSocket(socket.socket):
    """A socket whose every read also respects the fetch's overall deadline, so a server
    trickling its headers one byte per timeout cannot hold a worker for hours."""

    deadline: float
    per_read: float

    def recv_into(self, buffer, nbytes: int = 0, flags: int = 0) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("fetch took longer than its overall deadline")
        self.settimeout(min(self.per_read, left))
        return super().recv_into(buffer, nbytes, flags)


def _deadline_connect(address: tuple[str, int], timeout: float, *, deadline: float,
                      per_read: float) -> socket.socket:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    sock = _DeadlineSocket(family, socket.SOCK_STREAM)
    sock.deadline, sock.per_read = deadline, per_read
    try:
        sock.settimeout(timeout)
        sock.connect(address)
    except BaseException:
        sock.close()
        raise
    return sock


def forbidden_reason(ip_text: str) -> str | None:
    """Why an address must not be fetched from, or None if it is a public unicast address."""
    ip = ipaddress.ip_address(ip_text.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever its spelling
    checks = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not globally routable", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"{name} address {ip}"
    return None


@dataclass
class Fetcher:
    """Downloads one URL under the limits; raises PermanentError or TransientError."""

    max_bytes: int
    timeout: float
    allowed_hosts: set[str] = field(default_factory=set)
    deadline_seconds: float | None = None  # whole fetch incl. redirects; default 3x timeout
    resolver: Resolver = system_resolver
    connector: Connector | None = None  # default: a socket bound by the overall deadline

    @classmethod
    def from_settings(cls, settings, **overrides) -> Fetcher:
        return cls(
            max_bytes=settings.thumbnail_max_bytes,
            timeout=settings.thumbnail_fetch_timeout,
            allowed_hosts=settings.thumbnail_allowed,
            **overrides,
        )

    def fetch(self, url: str) -> bytes:
        deadline = time.monotonic() + (self.deadline_seconds or 3 * self.timeout)
        for _ in range(MAX_REDIRECTS + 1):
            response_or_next = self._get_once(url, deadline)
            if isinstance(response_or_next, bytes):
                return response_or_next
            url = response_or_next
        raise PermanentError(f"more than {MAX_REDIRECTS} redirects")

    def _get_once(self, url: str, deadline: float) -> bytes | str:
        """The body, or the next URL when the answer is a redirect."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise PermanentError(f"unsupported URL scheme {parts.scheme!r} (http/https only)")
        host = parts.hostname
        if not host:
            raise PermanentError(f"URL has no host: {url[:80]!r}")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise PermanentError(f"bad port in URL {url[:80]!r}") from None
        ip = self.vetted_address(host, port)
        conn = self._connection(parts.scheme, host, port, ip, deadline)
        try:
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise PermanentError(f"HTTP {response.status} redirect without Location")
                return urljoin(url, location)
            self._check_status(response.status)
            return self._read_body(conn, response, deadline)
        except TimeoutError:
            raise TransientError(f"timed out fetching {host}") from None
        except (ConnectionError, http.client.HTTPException, ssl.SSLError, OSError) as exc:
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise PermanentError(f"TLS certificate of {host} rejected") from None
            raise TransientError(f"connection to {host} failed: {exc}") from None
        finally:
            conn.close()

    def vetted_address(self, host: str, port: int) -> str:
        """The first resolved address, after refusing the host if any address is forbidden."""
        addresses = self.resolver(host, port)
        if not addresses:
            raise PermanentError(f"host {host!r} does not resolve")
        if host.lower().strip("[]") not in self.allowed_hosts:
            for ip in addresses:
                reason = forbidden_reason(ip)
                if reason:
                    raise BlockedAddress(f"blocked address: {host} resolves to {reason}")
        return addresses[0]

    def _connection(self, scheme, host, port, ip, deadline) -> http.client.HTTPConnection:
        timeout = _remaining(deadline, self.timeout)
        connector = self.connector or functools.partial(
            _deadline_connect, deadline=deadline, per_read=self.timeout)
        if scheme == "https":
            return _PinnedHTTPS(host, port, ip, timeout, connector)
        return _PinnedHTTP(host, port, ip, timeout, connector)

    @staticmethod
    def _check_status(status: int) -> None:
        if status == 200:
            return
        if status >= 500 or status in (408, 425, 429):
            raise TransientError(f"HTTP {status} from image server")
        raise PermanentError(f"HTTP {status} fetching image")

    def _read_body(self, conn, response: http.client.HTTPResponse, deadline: float) -> bytes:
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            raise PermanentError(f"image too large: {int(length)} bytes (limit {self.max_bytes})")
        chunks: list[bytes] = []
        total = 0
        while True:
            # conn.sock is None once http.client hands a closing socket to the response.
            conn.pinned_sock.settimeout(_remaining(deadline, self.timeout))
            chunk = response.read1(CHUNK)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > self.max_bytes:
                raise PermanentError(f"image too large: over {self.max_bytes} bytes")
            chunks.append(chunk)


def _remaining(deadline: float, timeout: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TransientError("fetch took longer than its overall deadline")
    return min(timeout, left)


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the vetted IP; Host header and URL keep the original name."""

    def __init__(self, host: str, port: int, ip: str, timeout: float, connector: Connector):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip
        self._connector = connector

    def connect(self) -> None:
        self.sock = self.pinned_sock = self._connector((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, ip: str, timeout: float, connector: Connector):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip
        self._connector = connector

    def connect(self) -> None:
        raw = self._connector((self._ip, self.port), self.timeout)
        # Certificate checked against the URL's host name, not the IP we dialled.
        self.sock = self.pinned_sock = self._context.wrap_socket(raw, server_hostname=self.host)
