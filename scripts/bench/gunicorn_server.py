"""The site under gunicorn on loopback, for the benchmarks that measure it over HTTP."""

from __future__ import annotations

import http.client
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]


def start(env: dict, port: int, workers: int, threads: int, log: Path) -> subprocess.Popen:
    """gunicorn web.wsgi with gthread workers, as scripts/up runs it."""
    argv = [str(Path(sys.executable).with_name("gunicorn")), "web.wsgi", "--bind",
            f"{HOST}:{port}", "--workers", str(workers), "--threads", str(threads),
            "--worker-class", "gthread", "--log-level", "warning", "--keep-alive", "30"]
    with open(log, "ab") as out:
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_ready(port: int, path: str, timeout: float = 30) -> None:
    """Until GET `path` answers 2xx/4xx (the server is up and Django loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer on {HOST}:{port} within {timeout}s")
