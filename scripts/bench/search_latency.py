"""Autocomplete and dashboard latency: straight at Elasticsearch, and through Django.

Seeds N synthetic products (titles from the seed word lists) into a bench index of its own
(bulk, directly: no SQLite, no pipeline), starts gunicorn on loopback over that alias, then
runs C concurrent clients for a fixed time against:
  1. Elasticsearch `_search` with the exact autocomplete body the view sends (the baseline),
  2. GET /api/autocomplete through Django,
  3. GET /api/analytics through Django.
Reports p50/p99 per phase and the Django/ES ratio; deletes the bench index at the end.

    .venv/bin/python scripts/bench/search_latency.py                   # 100k docs, ~1.5 min
    .venv/bin/python scripts/bench/search_latency.py --docs 1000000    # the full figure

Goals: autocomplete p99 <= 30 ms through Django; analytics p99 <= 200 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import gunicorn_server
from measure import free_port, percentile

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from elasticsearch import Elasticsearch, helpers  # noqa: E402

from indexer.documents import to_document  # noqa: E402
from indexer.index import ensure_index, write_alias  # noqa: E402
from shared import settings as catalog_settings  # noqa: E402
from shared.names import Names  # noqa: E402
from web.products.seed import ADJECTIVES, COLUMNS, MATERIALS, NOUNS, product_rows  # noqa: E402
from web.search.queries import autocomplete_body  # noqa: E402

HOST = "127.0.0.1"
GOAL_AUTOCOMPLETE_P99_MS = 30
GOAL_ANALYTICS_P99_MS = 200




# ---- seeding -------------------------------------------------------------------------------

def documents(count: int, alias: str, rng: random.Random):
    """Bulk actions: 80% active, 15% processing, 5% inactive; a slice created in the last hour."""
    now = time.time()
    for pid, values in enumerate(product_rows(count, rng, status=1), start=1):
        row = dict(zip(COLUMNS, values, strict=True), id=pid)
        row["status"] = rng.choices((1, 2, 0), weights=(80, 15, 5))[0]
        if rng.random() < 0.02:
            created = now - rng.uniform(0, 3600)
            row["created_at"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created))
            row["updated_at"] = time.strftime(
                "%Y-%m-%d %H:%M:%S", time.gmtime(created + rng.uniform(0.5, 20)))
        yield {"_index": alias, "_id": str(pid), "_source": {**to_document(row), "seq": pid},
               "version": pid, "version_type": "external"}


def seed(es: Elasticsearch, names: Names, count: int) -> float:
    started = time.monotonic()
    index = ensure_index(es, names, refresh_interval="-1")
    done = 0
    for ok, _item in helpers.parallel_bulk(
        es, documents(count, write_alias(names), random.Random(7)), thread_count=2,
        chunk_size=2000, raise_on_error=True,
    ):
        done += ok
        if done % 100_000 == 0:
            print(f"  seeded {done:,}/{count:,}", file=sys.stderr)
    es.indices.put_settings(index=index, settings={"refresh_interval": "1s"})
    es.indices.refresh(index=index)
    # Fewer segments: what a settled production index looks like, and far less heap.
    es.options(request_timeout=900).indices.forcemerge(index=index, max_num_segments=1)
    return time.monotonic() - started


# ---- load ----------------------------------------------------------------------------------

def queries(rng: random.Random, n: int) -> list[str]:
    """What people type: 2-6 leading letters of a word, one in five with a typo."""
    words = [w for w in (*ADJECTIVES, *MATERIALS, *(x for v in NOUNS.values() for x in v))]
    out = []
    for _ in range(n):
        word = rng.choice(words)
        q = word[: rng.randint(2, min(6, len(word)))]
        if len(q) >= 4 and rng.random() < 0.2:
            i = rng.randrange(1, len(q))
            q = q[:i] + rng.choice("aeiourstn") + q[i + 1:]
        out.append(q)
    return out


def client_process(target: dict, threads: int, seconds: float, seed_value: int,
                   pace_ms: float = 0) -> list[float]:
    """One process of `threads` keep-alive clients; latencies in ms. With pace_ms each client
    starts a request every pace_ms (a person typing, debounced), else back to back."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(k: int) -> None:
        rng = random.Random(seed_value * 1000 + k)
        qs = queries(rng, 2000)
        conn = http.client.HTTPConnection(HOST, target["port"], timeout=30)
        mine = []
        i = 0
        next_at = time.monotonic() + rng.uniform(0, pace_ms / 1000)
        while time.monotonic() < stop_at:
            if pace_ms:
                time.sleep(max(0.0, next_at - time.monotonic()))  # think time, not a wait-for
                next_at += pace_ms / 1000
            q = qs[i % len(qs)]
            i += 1
            if target["kind"] == "es":
                method, path = "POST", f"/{target['alias']}/_search"
                body = json.dumps(autocomplete_body(q))
                headers = {"Content-Type": "application/json"}
            else:
                method, body, headers = "GET", None, {}
                path = target["path"].format(q=urllib.parse.quote(q))
            started = time.perf_counter()
            try:
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                response.read()
            except (ConnectionError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(HOST, target["port"], timeout=30)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status}")
            mine.append(elapsed)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies


def load(target: dict, clients: int, procs: int, seconds: float, warmup: float,
         pace_ms: float) -> list[float]:
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    with ProcessPoolExecutor(procs) as pool:
        if warmup:
            list(pool.map(client_process, [target] * procs, per, [warmup] * procs,
                          range(procs), [pace_ms] * procs))
        results = pool.map(client_process, [target] * procs, per, [seconds] * procs,
                           range(100, 100 + procs), [pace_ms] * procs)
        return [x for r in results for x in r]


# ---- main ----------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--client-procs", type=int, default=4,
                        help="processes the clients are spread over (one Python GIL each)")
    parser.add_argument("--pace-ms", type=float, default=100,
                        help="each client starts a request every PACE ms (a person typing); "
                             "0: back to back, which measures saturation instead")
    parser.add_argument("--seconds", type=float, default=15, help="measured time per phase")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--keep", action="store_true", help="keep the bench index afterwards")
    args = parser.parse_args()

    base = catalog_settings.load()
    es_url = urllib.parse.urlsplit(base.elasticsearch_url)
    if es_url.hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("the benchmark runs against a loopback Elasticsearch only")
    tag = uuid.uuid4().hex[:6]
    names = Names(namespace=f"bench{tag}", index_alias=f"bench-{tag}-products")
    es = Elasticsearch(base.elasticsearch_url, request_timeout=120)
    work = Path(tempfile.mkdtemp(prefix="search-latency-"))
    server = None
    try:
        print(f"seeding {args.docs:,} documents into {names.index_alias} ...", file=sys.stderr)
        seeded_s = seed(es, names, args.docs)
        print(f"  seeded in {seeded_s:.0f}s", file=sys.stderr)
        port = free_port()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "web.settings", "LOG_LEVEL": "WARNING",
               "INDEX_ALIAS": names.index_alias, "CATALOG_NAMESPACE": names.namespace,
               "DATABASE_PATH": str(work / "catalog.sqlite3"), "MEDIA_ROOT": str(work / "media")}
        server = gunicorn_server.start(env, port, args.workers, args.threads, work / "gunicorn.log")
        gunicorn_server.wait_ready(port, "/api/autocomplete?q=a")
        es_port = es_url.port or 9200
        phases = [
            ("autocomplete @ Elasticsearch",
             {"kind": "es", "port": es_port, "alias": names.index_alias}),
            ("autocomplete @ Django",
             {"kind": "django", "port": port, "path": "/api/autocomplete?q={q}"}),
            ("analytics @ Django", {"kind": "django", "port": port, "path": "/api/analytics"}),
        ]
        rows = []
        for label, target in phases:
            print(f"running {label} ...", file=sys.stderr)
            lat = load(target, args.clients, args.client_procs, args.seconds, args.warmup,
                       args.pace_ms)
            rows.append((label, len(lat), percentile(lat, 50), percentile(lat, 99),
                         len(lat) / args.seconds))
        report(args, rows)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if not args.keep:
            es.options(ignore_status=404).indices.delete(
                index=f"{names.index_alias}*", expand_wildcards="all")


def report(args: argparse.Namespace, rows: list[tuple]) -> None:
    print(f"\nsearch latency: {args.docs:,} docs, {args.clients} concurrent clients, "
          f"{args.seconds:.0f}s per phase, gunicorn {args.workers}x{args.threads} gthread, "
          + (f"one request per client every {args.pace_ms:.0f} ms" if args.pace_ms
             else "back to back (saturation)"))
    print(f"{'phase':32} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for label, n, p50, p99, rate in rows:
        print(f"{label:32} {n:>9,} {p50:>8.1f} {p99:>8.1f} {rate:>8.0f}")
    es_row, dj_row, an_row = rows
    print(f"\nDjango / Elasticsearch autocomplete: p50 x{dj_row[2] / es_row[2]:.2f}, "
          f"p99 x{dj_row[3] / es_row[3]:.2f}")
    print(f"goal autocomplete p99 <= {GOAL_AUTOCOMPLETE_P99_MS} ms through Django: "
          f"{'met' if dj_row[3] <= GOAL_AUTOCOMPLETE_P99_MS else 'NOT met'} ({dj_row[3]:.1f})")
    print(f"goal analytics p99 <= {GOAL_ANALYTICS_P99_MS} ms: "
          f"{'met' if an_row[3] <= GOAL_ANALYTICS_P99_MS else 'NOT met'} ({an_row[3]:.1f})")


if __name__ == "__main__":
    main()
