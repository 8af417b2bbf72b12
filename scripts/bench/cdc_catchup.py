"""Benchmark: tailer catch-up from a changelog backlog (goal: >= 20,000 events/s).

Seeds N products (each one changelog row) into a temp database with the tailer stopped,
then starts `catalog cdc run` and times until the stream holds all N entries. Reported
both from process start (imports included) and from the first entry to the last.

    .venv/bin/python scripts/bench/cdc_catchup.py            # 50,000-row backlog
    .venv/bin/python scripts/bench/cdc_catchup.py --full     # 200,000 rows
"""

from __future__ import annotations

import argparse
import time

import redis
from cdc_benchenv import cdc_environment, start_tailer, stop, table, wait_for

from shared import settings as catalog_settings
from shared import sqlite
from shared.names import Names
from web.products import seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--full", action="store_true", help="200,000-row backlog")
    parser.add_argument("--batch-size", default="2000", help="CDC_BATCH_SIZE of the tailer")
    args = parser.parse_args()
    rows = 200_000 if args.full else args.rows

    with cdc_environment("cdc-catchup") as (env, workdir):
        conn = sqlite.connect(env["DATABASE_PATH"])
        seeded = seed.seed(conn, rows, random_seed=rows)
        conn.close()
        s = catalog_settings.load(env)
        stream = Names.from_settings(s).changes_stream
        r = redis.Redis.from_url(s.redis_url)

        def length() -> int:
            return r.xlen(stream) if r.exists(stream) else 0

        started = time.monotonic()
        tailer = start_tailer(env, workdir, CDC_BATCH_SIZE=args.batch_size)
        try:
            wait_for(lambda: length() > 0, timeout=60, interval=0.002)
            first = time.monotonic()
            wait_for(lambda: length() >= rows, timeout=600, interval=0.01)
            done = time.monotonic()
        finally:
            stop(tailer)
        print(table([
            ("backlog rows", "seed s", "total s (incl. start)", "publish s", "events/s publish",
             "events/s total"),
            (rows, f"{seeded.seconds:.1f}", f"{done - started:.2f}", f"{done - first:.2f}",
             f"{rows / (done - first):,.0f}", f"{rows / (done - started):,.0f}"),
        ]))


if __name__ == "__main__":
    main()
