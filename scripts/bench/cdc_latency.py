"""Benchmark: commit → stream latency at a steady write rate (goal: p99 <= 50 ms at 1,000/s).

A writer (this process) commits one product per transaction at the target rate and notes
each commit's seq and CLOCK_MONOTONIC time; a reader process blocks on XREAD and notes
when each entry arrives; `catalog cdc run` runs as a real process in between, with its
default poll interval (the file-event wake-up is what makes it fast).

    .venv/bin/python scripts/bench/cdc_latency.py                 # 10 s at 1,000 writes/s
    .venv/bin/python scripts/bench/cdc_latency.py --seconds 60 --rate 1000
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time

import redis
from cdc_benchenv import cdc_environment, start_tailer, stop, table, wait_for
from measure import percentile

from shared import settings as catalog_settings
from shared import sqlite
from shared.names import Names
from web.products import seed

INSERT = (f"INSERT INTO {seed.TABLE} ({', '.join(seed.COLUMNS)}) "
          f"VALUES ({', '.join('?' * len(seed.COLUMNS))})")


def read_arrivals(redis_url: str, stream: str, count: int, out) -> None:
    """Reader process: {seq: arrival monotonic time} for the first `count` entries."""
    r = redis.Redis.from_url(redis_url)
    arrivals: dict[int, float] = {}
    last = "0-0"
    deadline = time.monotonic() + 600
    while len(arrivals) < count and time.monotonic() < deadline:
        got = r.xread({stream: last}, count=1000, block=1000)
        now = time.monotonic()
        for _, entries in got or []:
            for eid, _ in entries:
                arrivals[int(eid.split(b"-")[0])] = now
                last = eid
    out.send(arrivals)


def write_steadily(database: str, rate: float, count: int) -> dict[int, float]:
    """{seq: commit monotonic time} of `count` single-row transactions at `rate` per second."""
    conn = sqlite.connect(database)
    rows = seed.product_rows(count, random.Random(1), 1)
    commits: dict[int, float] = {}
    started = time.monotonic()
    for n in range(count):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        with sqlite.write(conn):
            conn.execute(INSERT, next(rows))
            seq = conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'cdc_changelog'").fetchone()[0]
        commits[seq] = time.monotonic()
    conn.close()
    return commits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1000, help="writes per second")
    args = parser.parse_args()
    count = int(args.seconds * args.rate)

    with cdc_environment("cdc-latency") as (env, workdir):
        s = catalog_settings.load(env)
        stream = Names.from_settings(s).changes_stream
        r = redis.Redis.from_url(s.redis_url)
        tailer = start_tailer(env, workdir)
        try:
            wait_for(lambda: r.exists(stream), timeout=60)  # tailer up, stream created
            receive, send = multiprocessing.Pipe(duplex=False)
            reader = multiprocessing.Process(target=read_arrivals,
                                             args=(s.redis_url, stream, count, send))
            reader.start()
            started = time.monotonic()
            commits = write_steadily(env["DATABASE_PATH"], args.rate, count)
            wrote_s = time.monotonic() - started
            arrivals = receive.recv()
            reader.join(timeout=30)
        finally:
            stop(tailer)
        latencies = [(arrivals[seq] - t) * 1000 for seq, t in commits.items() if seq in arrivals]
        missing = len(commits) - len(latencies)
        print(table([
            ("writes", "achieved/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "missing"),
            (count, f"{count / wrote_s:,.0f}", f"{percentile(latencies, 50):.2f}",
             f"{percentile(latencies, 90):.2f}", f"{percentile(latencies, 99):.2f}",
             f"{max(latencies):.2f}", missing),
        ]))


if __name__ == "__main__":
    main()
