"""Catch-up: how fast `catalog indexer run` drains a backlog on the changes stream.

Publishes N change events (each a new product unless --products is smaller, so no
event collapses with another: the worst case) to a private namespace on the running
Redis, then starts one indexer process and times it until the group has acknowledged
everything. Baseline from the same run: the same documents sent straight to
Elasticsearch with helpers.bulk (no Redis, no versioning), the path a project would
write by hand. Also reports the indexer's RSS. Goal: >= 10,000 events/s, RSS <= 150 MB.

    .venv/bin/python scripts/bench/indexer_catchup.py                  # 50,000 events
    .venv/bin/python scripts/bench/indexer_catchup.py --events 200000  # the issue's size
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import redis
from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk
from indexer_bench_support import (
    bench_env,
    cleanup,
    cpu_seconds,
    rss_mb,
    settings_of,
    start,
    stop,
    unacknowledged,
)

from indexer.consumer import PRODUCTS_TABLE, document_for
from indexer.mapping import index_body
from shared.events import ChangeEvent
from shared.names import Names
from shared.settings import load


def events(n: int, products: int) -> list[ChangeEvent]:
    ts = int(time.time() * 1000)
    out = []
    for seq in range(1, n + 1):
        pk = (seq - 1) % products + 1
        row = {"id": pk, "title": f"Bench product {pk} rev {seq} wool sweater", "status": 1,
               "image_url": f"http://127.0.0.1/img/{pk}.png", "description": "warm",
               "category": "bench", "price": "19.99", "thumbnails": "{}",
               "failure_reason": "", "created_at": "2026-11-28 07:00:00.000000",
               "updated_at": "2026-11-28 07:00:01.000000"}
        op = "insert" if seq <= products else "update"
        out.append(ChangeEvent(seq=seq, table=PRODUCTS_TABLE, op=op, pk=str(pk), row=row,
                               old=None, ts=ts))
    return out


def publish(r: redis.Redis, stream: str, evs: list[ChangeEvent]) -> None:
    for start_at in range(0, len(evs), 5000):
        with r.pipeline(transaction=False) as pipe:
            for e in evs[start_at:start_at + 5000]:
                pipe.xadd(stream, e.to_fields(), id=e.entry_id)
            pipe.execute()


def indexer_run(args, evs) -> dict:
    env = bench_env("bcu", INDEXER_BATCH_SIZE=str(args.batch_size))
    s = settings_of(env)
    names = Names.from_settings(s)
    r = redis.Redis.from_url(s.redis_url, decode_responses=True)
    log = Path(tempfile.mkdtemp(prefix="indexer-catchup-")) / "indexer.log"
    proc = None
    try:
        publish(r, names.changes_stream, evs)
        started = time.monotonic()
        proc = start(["indexer", "run"], env, log)
        first = None
        peak = 0.0
        deadline = started + args.max_seconds
        while time.monotonic() < deadline:
            left = unacknowledged(r, names)
            peak = max(peak, rss_mb(proc.pid))
            if left is not None and left < len(evs) and first is None:
                first = time.monotonic()
            if left == 0:
                break
            if proc.poll() is not None:
                raise SystemExit(f"indexer exited: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        else:
            raise SystemExit(f"not caught up within {args.max_seconds}s (--max-seconds)")
        done = time.monotonic()
        settled = rss_mb(proc.pid)
        cpu = cpu_seconds(proc.pid)
        return {"total_s": done - started, "drain_s": done - (first or started),
                "peak_rss": peak, "rss": settled,
                "cpu_s": cpu}
    finally:
        if proc:
            stop(proc)
        cleanup(env)


def baseline_run(args, evs) -> float:
    """Docs/s of plain helpers.bulk into a fresh index with the same mapping."""
    env = bench_env("bcl")
    s = settings_of(env)
    es = Elasticsearch(s.elasticsearch_url, request_timeout=120)
    index = f"{s.index_alias}-v1"
    es.indices.create(index=index, **index_body(s.index_refresh_interval))
    try:
        started = time.monotonic()
        actions = ({"_index": index, "_id": e.pk, "_source": document_for(e)} for e in evs)
        bulk(es, actions, chunk_size=args.batch_size)
        return len(evs) / (time.monotonic() - started)
    finally:
        cleanup(env)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=50_000, help="backlog size (issue: 200000)")
    p.add_argument("--products", type=int, default=0,
                   help="distinct products (default: one per event, nothing collapses)")
    p.add_argument("--batch-size", type=int, default=load().indexer_batch_size,
                   help="INDEXER_BATCH_SIZE (default: the setting's)")
    p.add_argument("--baseline-events", type=int, default=20_000,
                   help="events for the helpers.bulk baseline (0: skip)")
    p.add_argument("--max-seconds", type=float, default=600, help="give up after this long")
    args = p.parse_args()
    evs = events(args.events, args.products or args.events)

    run = indexer_run(args, evs)
    rate = args.events / run["drain_s"]
    baseline = baseline_run(args, evs[:args.baseline_events]) if args.baseline_events else None
    print(f"\nindexer catch-up: {args.events:,} events, {args.products or args.events:,} "
          f"products, batch {args.batch_size}")
    print(f"{'measure':40} {'value':>14}")
    print(f"{'drain time (first ack → caught up), s':40} {run['drain_s']:14.2f}")
    print(f"{'total incl. process start, s':40} {run['total_s']:14.2f}")
    print(f"{'indexer events/s (goal >= 10,000)':40} {rate:14,.0f}")
    if baseline:
        print(f"{'baseline helpers.bulk docs/s':40} {baseline:14,.0f}")
        print(f"{'indexer / baseline':40} {rate / baseline:14.2f}")
    print(f"{'indexer CPU, core-s per 10k events':40} {run['cpu_s'] / args.events * 1e4:14.2f}")
    print(f"{'indexer peak RSS, MB (goal <= 150)':40} {run['peak_rss']:14.1f}")
    print(f"{'indexer RSS when caught up, MB':40} {run['rss']:14.1f}")


if __name__ == "__main__":
    main()
