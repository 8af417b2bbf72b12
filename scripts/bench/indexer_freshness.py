"""Freshness: commit → searchable, at a steady write rate, through the real pipeline.

A fresh, migrated SQLite database (CDC triggers included), `catalog cdc run` and
`catalog indexer run` as processes on the running Redis/Elasticsearch (private
namespace and alias, the default 1 s refresh interval). This script commits one
product INSERT per IMMEDIATE transaction at --rate writes/s and polls the read alias
every --poll seconds; each product's delay is (first poll that finds it) - (its commit
time). The first --warmup seconds are not counted. Also samples the indexer's RSS.
Goal: p50 <= 1.0 s, p99 <= 2.0 s at 500 writes/s; indexer RSS <= 150 MB.

    .venv/bin/python scripts/bench/indexer_freshness.py                 # 20 s at 500/s
    .venv/bin/python scripts/bench/indexer_freshness.py --seconds 60 --rate 500
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import redis
from elasticsearch import Elasticsearch
from indexer_bench_support import (
    ROOT,
    bench_env,
    cleanup,
    rss_mb,
    settings_of,
    start,
    stop,
    wait,
)
from measure import free_port, percentile

from indexer.index import read_index
from shared import sqlite as db
from shared.names import Names

INSERT = (
    "INSERT INTO products_product (status, title, image_url, description, category, price,"
    " thumbnails, failure_reason, thumbnail_attempts, created_at, updated_at)"
    " VALUES (1, ?, 'http://127.0.0.1/img.png', '', 'bench', 9.99, '{}', '', 0,"
    " strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'))"
)


class Poller(threading.Thread):
    """Finds newly searchable product ids on the read alias; records when it first saw each."""

    def __init__(self, es: Elasticsearch, alias: str, interval: float):
        super().__init__(daemon=True)
        self.es, self.alias, self.interval = es, alias, interval
        self.seen: dict[int, float] = {}
        self.low = 0  # every id below this has been seen
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            started = time.time()
            hits = self.es.search(
                index=self.alias, size=10_000, _source=False, docvalue_fields=["id"],
                query={"range": {"id": {"gte": self.low}}},
            )["hits"]["hits"]
            now = time.time()
            for h in hits:
                self.seen.setdefault(int(h["_id"]), now)
            while self.low in self.seen or self.low == 0:
                self.low += 1
            self.done.wait(max(0.0, self.interval - (now - started)))


class StreamWatcher(threading.Thread):
    """Reads the changes stream (plain XREAD, no group): when each product's event arrived,
    to split the delay into tailer (commit → stream) and indexer (stream → searchable)."""

    def __init__(self, r: redis.Redis, stream: str):
        super().__init__(daemon=True)
        self.r, self.stream = r, stream
        self.arrived: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        last = "0-0"
        while not self.done.is_set():
            reply = self.r.xread({self.stream: last}, count=1000, block=200)
            now = time.time()
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    self.arrived.setdefault(int(fields["pk"]), now)
                    last = entry_id



def bulk_figures(port: int) -> dict[str, float]:
    """From the indexer's /metrics: how long Elasticsearch took per batch."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values = {}
    for line in body.splitlines():
        if line.startswith("catalog_indexer_bulk_seconds"):
            key, value = line.rsplit(" ", 1)
            values[key] = float(value)
    count = values.get("catalog_indexer_bulk_seconds_count", 0)
    if not count:
        return {}
    within_1s = values.get('catalog_indexer_bulk_seconds_bucket{le="1.0"}', count)
    return {"count": count, "mean": values["catalog_indexer_bulk_seconds_sum"] / count,
            "over_1s": count - within_1s}


def write_steadily(database: str, rate: float, seconds: float) -> dict[int, float]:
    """INSERT one product per transaction at `rate`/s; {id: commit time}."""
    conn = db.connect(database)
    committed: dict[int, float] = {}
    begin = time.monotonic()
    n = 0
    while (elapsed := time.monotonic() - begin) < seconds:
        due = n / rate
        if due > elapsed:
            time.sleep(due - elapsed)
        with db.write(conn):
            pk = conn.execute(INSERT, (f"fresh bench product {n}",)).lastrowid
        committed[pk] = time.time()
        n += 1
    conn.close()
    return committed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=500, help="writes per second")
    p.add_argument("--seconds", type=float, default=20, help="measured writing time")
    p.add_argument("--warmup", type=float, default=3, help="seconds of writes not counted")
    p.add_argument("--refresh", default=None,
                   help="INDEX_REFRESH_INTERVAL of the bench index (default: the setting, 1s)")
    p.add_argument("--poll", type=float, default=0.05, help="search poll interval, s")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="indexer-freshness-"))
    env = bench_env("bfr", DATABASE_PATH=str(work / "catalog.sqlite3"),
                    DJANGO_SETTINGS_MODULE="web.settings", MEDIA_ROOT=str(work / "media"),
                    **({"INDEX_REFRESH_INTERVAL": args.refresh} if args.refresh else {}))
    s = settings_of(env)
    names = Names.from_settings(s)
    es = Elasticsearch(s.elasticsearch_url, request_timeout=30)
    procs = []
    try:
        subprocess.run([sys.executable, "-m", "web", "migrate", "--noinput", "-v0"],
                       env=env, cwd=ROOT, check=True)
        procs.append(start(["cdc", "run"], env, work / "tailer.log"))
        metrics_port = free_port()
        indexer = start(["indexer", "run"], {**env, "METRICS_PORT": str(metrics_port)},
                        work / "indexer.log")
        procs.append(indexer)
        wait(lambda: read_index(es, names), 60, "the indexer to create the index")
        poller = Poller(es, names.index_alias, args.poll)
        poller.start()
        watcher = StreamWatcher(redis.Redis.from_url(s.redis_url, decode_responses=True),
                                names.changes_stream)
        watcher.start()
        rss: list[float] = []
        sampler_stop = threading.Event()

        def sample() -> None:
            while not sampler_stop.wait(1.0):
                rss.append(rss_mb(indexer.pid))

        threading.Thread(target=sample, daemon=True).start()
        committed = write_steadily(str(s.database), args.rate, args.warmup + args.seconds)
        sampler_stop.set()
        wait(lambda: all(pk in poller.seen for pk in committed), 60,
             "every product to become searchable")
        poller.done.set()
        watcher.done.set()
        bulk = bulk_figures(metrics_port)
        first = min(committed.values()) + args.warmup
        counted = [pk for pk, t in committed.items() if t >= first]
        delays = [poller.seen[pk] - committed[pk] for pk in counted]
        tailer = [watcher.arrived[pk] - committed[pk] for pk in counted if pk in watcher.arrived]
        indexer_part = [poller.seen[pk] - watcher.arrived[pk] for pk in counted
                        if pk in watcher.arrived]
        achieved = len(delays) / args.seconds
    finally:
        for proc in procs:
            stop(proc)
        cleanup(env)

    print(f"\ncommit → searchable: {len(delays):,} inserts over {args.seconds:.0f} s "
          f"(target {args.rate:.0f}/s, achieved {achieved:.0f}/s), refresh "
          f"{s.index_refresh_interval}, poll {args.poll * 1000:.0f} ms")
    print(f"{'measure':34} {'value':>10} {'goal':>8}")
    print(f"{'p50, s':34} {percentile(delays, 50):10.3f} {'<= 1.0':>8}")
    print(f"{'p90, s':34} {percentile(delays, 90):10.3f}")
    print(f"{'p99, s':34} {percentile(delays, 99):10.3f} {'<= 2.0':>8}")
    print(f"{'max, s':34} {max(delays):10.3f}")
    print(f"{'  of which commit → stream p50/p99':34} {percentile(tailer, 50):10.3f} "
          f"{percentile(tailer, 99):8.3f}")
    print(f"{'  of which stream → searchable p50/p99':34} {percentile(indexer_part, 50):10.3f} "
          f"{percentile(indexer_part, 99):8.3f}")
    if bulk:
        print(f"{'indexer batches, mean ES time, s':34} {bulk['mean']:10.3f}")
        print(f"{'indexer batches slower than 1 s':34} {bulk['over_1s']:10.0f} "
              f"{'of ' + str(int(bulk['count'])):>8}")
    if rss:
        print(f"{'indexer RSS median (steady), MB':34} {statistics.median(rss):10.1f} "
              f"{'<= 150':>8}")
        print(f"{'indexer RSS max, MB':34} {max(rss):10.1f}")


if __name__ == "__main__":
    main()
