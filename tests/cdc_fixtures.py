"""Fixtures of the CDC tests; a test module loads them with pytest_plugins = ["tests.cdc_fixtures"].

pytest-django's test database file is shared by the tests of a session and the cdc_*
tables are not Django's, so flushes leave them (and their DELETEs are captured too):
`clean_changelog` empties them so a test sees only its own events, from seq 1.
"""

from __future__ import annotations

import random
import signal
import socket
import sqlite3
import subprocess

import pytest
import redis

from cdc import changelog
from shared import sqlite as db
from tests.waiting import wait_until


@pytest.fixture
def clean_changelog(catalog_settings) -> sqlite3.Connection:
    conn = db.connect(catalog_settings.database)
    changelog.install_sqlite(conn, catalog_settings.tracked_tables)
    changelog.reset(conn)
    yield conn
    changelog.reset(conn)  # leave no backlog for the next test's fresh-namespace tailer
    conn.close()


class PrivateRedis:
    """A redis-server of this test only (no persistence): stop it, start it again empty."""

    def __init__(self, port: int, workdir):
        self.port = port
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_until(lambda: self._pings(client), timeout=15, message=f"redis on {self.port}")
        client.close()
        return self

    @staticmethod
    def _pings(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=15)


def _free_port() -> int:
    for port in random.sample(range(6400, 6500), 100):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 6400-6499")


@pytest.fixture
def private_redis(tmp_path, monkeypatch) -> PrivateRedis:
    """A private Redis (never the shared one: tests here stop it); REDIS_URL points at it."""
    server = PrivateRedis(_free_port(), tmp_path).start()
    monkeypatch.setenv("REDIS_URL", server.url)
    yield server
    server.kill()
