"""Latency of `POST /api/products` (202 path) against a real gunicorn on loopback.

Starts `gunicorn web.wsgi` on 127.0.0.1 and a free port over a fresh, migrated SQLite
database (CDC triggers included), creates a token, warms up, then sends N sequential
POSTs. Reports server-side latency (elapsed_ms, measured inside the view) and client
round trip, p50/p99, beside two baselines from the same run: an authenticated
GET /api/products/<id> (token lookup + one SELECT) and a 405 answer (no database).

    .venv/bin/python scripts/bench/api_latency.py            # 1,000 requests per endpoint
    .venv/bin/python scripts/bench/api_latency.py --requests 200 --workers 1
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import gunicorn_server
from measure import free_port, percentile

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"




class Client:
    """One keep-alive connection, reopened if the server closes it."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None):
        headers = {"Authorization": f"Token {self.token}"}
        payload = None
        if body is not None:
            payload, headers["Content-Type"] = json.dumps(body), "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, payload, headers)
                response = self.conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                continue
            round_trip = (time.perf_counter() - started) * 1000
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            timing = response.getheader("Server-Timing", "app;dur=nan")
            return response.status, data, round_trip, float(timing.split("dur=")[1])
        raise AssertionError("unreachable")


def measure(name: str, n: int, deadline: float, call: Callable[[int], tuple]) -> dict:
    server, client = [], []
    for i in range(n):
        if time.monotonic() > deadline:
            print(f"  {name}: time budget spent after {i} requests", file=sys.stderr)
            break
        server_ms, client_ms = call(i)
        server.append(server_ms)
        client.append(client_ms)
    return {"name": name, "n": len(server), "server": server, "client": client}


def run(args: argparse.Namespace) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="api-latency-"))
    env = {"DJANGO_SETTINGS_MODULE": "web.settings", **os.environ, "LOG_LEVEL": "ERROR",
           "DATABASE_PATH": str(work / "catalog.sqlite3"), "MEDIA_ROOT": str(work / "media")}
    manage = [sys.executable, "-m", "web"]
    server = None
    try:
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
        token = subprocess.run([*manage, "create_token", "bench"], env=env, cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout.strip()
        port = free_port()
        server = gunicorn_server.start(env, port, args.workers, args.threads, work / "gunicorn.log")
        gunicorn_server.wait_ready(port, "/api/products/0")
        client = Client(port, token)
        deadline = time.monotonic() + args.max_seconds

        def post(i: int) -> tuple[float, float]:
            status, data, rtt, _ = client.request(
                "POST", "/api/products",
                {"title": f"bench {i}", "image_url": f"https://img.example/{i}.png",
                 "price": "9.99", "category": "bench"})
            assert status == 202, (status, data)
            return json.loads(data)["elapsed_ms"], rtt

        def get(i: int) -> tuple[float, float]:
            status, data, rtt, server_ms = client.request("GET", "/api/products/1")
            assert status == 200, (status, data)
            return server_ms, rtt

        def not_allowed(i: int) -> tuple[float, float]:
            status, data, rtt, server_ms = client.request("DELETE", "/api/products")
            assert status == 405, (status, data)
            return server_ms, rtt

        for i in range(args.warmup):
            post(-1 - i), get(i), not_allowed(i)
        return [measure("POST /api/products (202)", args.requests, deadline, post),
                measure("GET /api/products/<id>", args.requests, deadline, get),
                measure("DELETE /api/products (405)", args.requests, deadline, not_allowed)]
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def report(results: list[dict]) -> None:
    base = next(r for r in results if r["name"].startswith("GET"))
    base_p50 = percentile(base["client"], 50)
    print(f"{'endpoint':28} {'n':>5} {'server p50':>11} {'server p99':>11} "
          f"{'client p50':>11} {'client p99':>11} {'vs GET':>7}")
    for r in results:
        s50, s99 = percentile(r["server"], 50), percentile(r["server"], 99)
        c50, c99 = percentile(r["client"], 50), percentile(r["client"], 99)
        print(f"{r['name']:28} {r['n']:>5} {s50:>9.2f}ms {s99:>9.2f}ms "
              f"{c50:>9.2f}ms {c99:>9.2f}ms {c50 / base_p50:>6.2f}x")
    print("server = measured inside the view (elapsed_ms / Server-Timing); client = round trip;"
          " 'vs GET' = client p50 ratio to the authenticated GET baseline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="per endpoint (default 1000)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (as scripts/up)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (as scripts/up)")
    parser.add_argument("--max-seconds", type=float, default=180, help="time budget")
    args = parser.parse_args()
    results = run(args)
    print(f"gunicorn {args.workers} workers x {args.threads} threads on {HOST}, sequential client,"
          f" SQLite WAL with CDC triggers")
    report(results)


if __name__ == "__main__":
    main()
