"""The SSRF guard of thumbnail fetching: refused addresses never see a socket.

Resolvers are injected (a test hostname mapped to 10.x, 169.254.x, 192.168.x, ...) and the
connector fails the test if it is ever called, so refusal is proven to happen before any
connection. Loopback servers (127.0.0.1, allow-listed) stand in for image hosts.
"""

from __future__ import annotations

import functools
import re
import socket
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.image_server import ImageServer, Route
from tests.sample_images import jpeg
from web.thumbnails.errors import PermanentError, TransientError
from web.thumbnails.fetch import BlockedAddress, Fetcher, forbidden_reason


def _no_connect(address, timeout):
    pytest.fail(f"a socket was opened to {address} although the address is forbidden")


@pytest.fixture(autouse=True)
def _sockets_only_to_loopback(monkeypatch):
    """Belt and braces: any non-loopback connect in this module fails the test."""
    real = socket.socket.connect

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1"):
            pytest.fail(f"connect to non-loopback {address!r}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def _fetcher(mapping: dict[str, list[str]], **kw) -> Fetcher:
    def resolve(host, port):
        return mapping[host]

    return Fetcher(max_bytes=kw.pop("max_bytes", 1_000_000), timeout=kw.pop("timeout", 2.0),
                   resolver=resolve, **kw)


@pytest.mark.parametrize(
    ("ip", "kind"),
    [
        ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
        ("10.1.2.3", "private"), ("172.16.0.9", "private"), ("192.168.1.20", "private"),
        ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"), ("::", "unspecified"),
        ("240.0.0.1", "reserved"), ("fc00::5", "private"),
        ("::ffff:10.0.0.1", "private"), ("::ffff:127.0.0.1", "loopback"),
        ("100.64.0.1", "not globally routable"),
    ],
)
def test_non_public_addresses_are_forbidden_with_their_kind(ip, kind):
    assert forbidden_reason(ip) == f"{kind} address {ip.replace('::ffff:', '')}"


@pytest.mark.parametrize("ip", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"])
def test_public_unicast_addresses_are_allowed(ip):
    assert forbidden_reason(ip) is None


@pytest.mark.parametrize(
    "ip", ["10.20.30.40", "169.254.169.254", "192.168.0.10", "::ffff:192.168.0.1", "fd12::1"]
)
def test_hostname_resolving_to_a_private_range_is_refused_before_any_socket_opens(ip):
    fetcher = _fetcher({"images.internal.test": [ip]}, connector=_no_connect)
    expected = re.escape("blocked address: images.internal.test resolves")
    with pytest.raises(BlockedAddress, match=expected):
        fetcher.fetch("http://images.internal.test/cat.jpg")


def test_one_forbidden_address_among_public_ones_refuses_the_host():
    fetcher = _fetcher({"mixed.test": ["93.184.216.34", "10.0.0.7"]}, connector=_no_connect)
    with pytest.raises(BlockedAddress, match=re.escape("private address 10.0.0.7")):
        fetcher.fetch("https://mixed.test/a.png")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.test/a.jpg", "gopher://x.test/", "data:,hi"]
)
def test_non_http_schemes_are_refused_without_resolving(url):
    def resolve(host, port):
        pytest.fail("resolved a host for a non-http URL")

    fetcher = Fetcher(max_bytes=10, timeout=1, resolver=resolve, connector=_no_connect)
    with pytest.raises(PermanentError, match="unsupported URL scheme"):
        fetcher.fetch(url)


def test_loopback_is_refused_unless_the_host_is_allow_listed():
    with ImageServer() as server:
        url = server.add("/ok.jpg", Route(body=jpeg(32, 32)))
        with pytest.raises(BlockedAddress, match=re.escape("loopback address 127.0.0.1")):
            Fetcher(max_bytes=10**6, timeout=2).fetch(url)
        assert server.requests == []
        body = Fetcher(max_bytes=10**6, timeout=2, allowed_hosts={"127.0.0.1"}).fetch(url)
    assert body == jpeg(32, 32)


def test_connection_goes_to_the_vetted_ip_with_the_original_host_header():
    with ImageServer() as server:
        server.add("/ok.jpg", Route(body=b"pixels"))
        fetcher = _fetcher({"images.example.test": ["127.0.0.1"]},
                           allowed_hosts={"images.example.test"})
        assert fetcher.fetch(server.url("/ok.jpg", host="images.example.test")) == b"pixels"
    assert server.requests == [("/ok.jpg", f"images.example.test:{server.port}")]


def test_redirect_to_a_private_address_is_refused_before_following_it():
    with ImageServer() as server:
        start = server.add("/start", Route(status=302, location="http://metadata.test/latest"))
        fetcher = _fetcher(
            {"127.0.0.1": ["127.0.0.1"], "metadata.test": ["169.254.169.254"]},
            allowed_hosts={"127.0.0.1"},
        )
        with pytest.raises(BlockedAddress, match=re.escape("link-local address 169.254.169.254")):
            fetcher.fetch(start)
    assert server.paths_requested() == ["/start"]


def test_redirect_to_loopback_by_another_name_is_refused():
    with ImageServer() as server, ImageServer() as inner:
        inner.add("/secret", Route(body=b"admin"))
        start = server.add("/r", Route(status=301, location=inner.url("/secret", "localhost")))
        fetcher = Fetcher(max_bytes=10**6, timeout=2, allowed_hosts={"127.0.0.1"})
        with pytest.raises(BlockedAddress, match="localhost resolves to loopback"):
            fetcher.fetch(start)
    assert inner.requests == []


def test_redirects_are_followed_relative_and_bounded():
    with ImageServer() as server:
        server.add("/a", Route(status=302, location="/b"))
        server.add("/b", Route(status=307, location=server.url("/img")))
        server.add("/img", Route(body=b"done"))
        for i in range(8):
            server.add(f"/loop{i}", Route(status=302, location=f"/loop{i + 1}"))
        fetcher = Fetcher(max_bytes=100, timeout=2, allowed_hosts={"127.0.0.1"})
        assert fetcher.fetch(server.url("/a")) == b"done"
        with pytest.raises(PermanentError, match="more than 5 redirects"):
            fetcher.fetch(server.url("/loop0"))


def test_declared_length_over_the_cap_is_refused_before_reading():
    with ImageServer() as server:
        url = server.add("/big", Route(body=b"x" * 10, declared_length=50_000_000))
        fetcher = Fetcher(max_bytes=1_000_000, timeout=2, allowed_hosts={"127.0.0.1"})
        with pytest.raises(PermanentError, match="image too large: 50000000 bytes"):
            fetcher.fetch(url)


def test_streamed_body_over_the_cap_is_cut_off_without_buffering_it_whole():
    with ImageServer() as server:
        url = server.add("/stream", Route(stream_bytes=50 * 1024 * 1024))
        fetcher = Fetcher(max_bytes=2 * 1024 * 1024, timeout=5, allowed_hosts={"127.0.0.1"})
        with pytest.raises(PermanentError, match="image too large: over 2097152 bytes"):
            fetcher.fetch(url)


@pytest.mark.parametrize(
    ("status", "error"), [(404, PermanentError), (403, PermanentError),
                          (503, TransientError), (500, TransientError), (429, TransientError)],
)
def test_http_errors_are_permanent_or_transient_by_status(status, error):
    with ImageServer() as server:
        url = server.add("/x", Route(status=status, body=b"no"))
        fetcher = Fetcher(max_bytes=100, timeout=2, allowed_hosts={"127.0.0.1"})
        with pytest.raises(error, match=f"HTTP {status}"):
            fetcher.fetch(url)


def test_server_that_never_answers_times_out_as_transient():
    with ImageServer() as server:
        url = server.add("/hang", Route(hang=True))
        fetcher = Fetcher(max_bytes=100, timeout=0.3, allowed_hosts={"127.0.0.1"})
        with pytest.raises(TransientError, match="timed out"):
            fetcher.fetch(url)


def test_server_trickling_its_headers_is_cut_off_at_the_overall_deadline():
    with ImageServer() as server:
        url = server.add("/slow", Route(trickle=0.1))
        fetcher = Fetcher(max_bytes=100, timeout=0.5, deadline_seconds=1.0,
                          allowed_hosts={"127.0.0.1"})
        started = time.monotonic()
        with pytest.raises(TransientError, match="timed out"):
            fetcher.fetch(url)
    assert time.monotonic() - started < 2.0  # each byte came well within the read timeout


def test_refused_connection_is_transient():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        fetcher = Fetcher(max_bytes=100, timeout=1, allowed_hosts={"127.0.0.1"})
        with pytest.raises(TransientError, match=re.escape("connection to 127.0.0.1 failed")):
            fetcher.fetch(f"http://127.0.0.1:{port}/a.jpg")


def test_http_1_0_server_that_closes_after_the_body_is_read_to_the_end(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"j" * 200_000)
    class Quiet(SimpleHTTPRequestHandler):  # protocol_version HTTP/1.0: closes after a body
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        fetcher = Fetcher(max_bytes=10**6, timeout=2, allowed_hosts={"127.0.0.1"})
        body = fetcher.fetch(f"http://127.0.0.1:{httpd.server_address[1]}/a.jpg")
        httpd.shutdown()
    assert body == b"j" * 200_000
