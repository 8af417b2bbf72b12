"""A loopback HTTP server for thumbnail tests: serves images and hostile answers by path.

Binds 127.0.0.1 on a free port in a thread; records every request (path, Host header) so a
test can prove a forbidden URL was never fetched.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "image/jpeg"
    location: str | None = None  # a redirect target
    hang: bool = False  # accept, then never answer
    stream_bytes: int = 0  # send this many bytes, chunked, with no Content-Length
    declared_length: int | None = None  # a Content-Length header, whatever the body
    delay: float = 0.0  # seconds before answering (keeps jobs in flight for chaos tests)
    trickle: float = 0.0  # send the headers one byte per `trickle` seconds, never finishing


class ImageServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []
        self.stopped = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Host", "")))
                route = server.routes.get(self.path.split("?")[0], Route(status=404))
                server.answer(self, route)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def paths_requested(self) -> list[str]:
        return [p for p, _ in self.requests]

    def answer(self, handler: BaseHTTPRequestHandler, route: Route) -> None:
        if route.hang:
            self.stopped.wait(120)
            return
        if route.delay:
            self.stopped.wait(route.delay)
        if route.trickle:
            self._trickle(handler, route.trickle)
            return
        handler.send_response(route.status)
        if route.location:
            handler.send_header("Location", route.location)
        handler.send_header("Content-Type", route.content_type)
        if route.stream_bytes:
            handler.send_header("Transfer-Encoding", "chunked")
            handler.end_headers()
            self._stream(handler, route.stream_bytes)
            return
        length = route.declared_length if route.declared_length is not None else len(route.body)
        handler.send_header("Content-Length", str(length))
        handler.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler.wfile.write(route.body)

    def _trickle(self, handler: BaseHTTPRequestHandler, every: float) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while not self.stopped.wait(every):
                handler.wfile.write(b"X")
                handler.wfile.flush()

    @staticmethod
    def _stream(handler: BaseHTTPRequestHandler, total: int) -> None:
        chunk = b"\xff" * 65536
        sent = 0
        try:
            while sent < total:
                n = min(len(chunk), total - sent)
                handler.wfile.write(b"%x\r\n" % n + chunk[:n] + b"\r\n")
                sent += n
            handler.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up at its byte cap: what the test wants

    def __enter__(self) -> ImageServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()
