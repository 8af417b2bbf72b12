"""stream.publish when the connection drops while the stream is WATCHed: redis-py raises
WatchError then, which is Redis trouble for the tailer to wait out, not a changed stream.
A loopback server that speaks just enough RESP drops the connection at the right moment
(killing a real Redis between WATCH and XINFO cannot be timed)."""

from __future__ import annotations

import socket
import threading

import pytest
import redis

from cdc import stream


class DropsOnXinfo:
    """Answers +OK to every command until XINFO, then closes the connection."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.commands: list[str] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as reader:
                while line := reader.readline():
                    if not line.startswith(b"*"):
                        continue
                    args = []
                    for _ in range(int(line[1:])):
                        size = int(reader.readline()[1:])
                        args.append(reader.read(size + 2)[:-2].decode())
                    self.commands.append(args[0].upper())
                    if args[0].upper() == "XINFO":
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                        break  # a reset, as when Redis is killed
                    conn.sendall(b"+OK\r\n")

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def server():
    s = DropsOnXinfo()
    yield s
    s.close()


def test_a_connection_lost_while_watching_is_redis_trouble_not_a_changed_stream(server):
    r = redis.Redis("127.0.0.1", server.port, socket_timeout=2, protocol=2)  # no HELLO to answer

    with pytest.raises(redis.ConnectionError) as raised:
        stream.publish(r, "changes", [(1, {"op": "insert"})], expected_top=0)

    assert not isinstance(raised.value, stream.StreamMissing)
    assert "WATCH" in server.commands and "XINFO" in server.commands
    assert "EXEC" not in server.commands  # nothing was added
