"""Benchmark: `catalog verify` over N products (SQLite and Elasticsearch, complete).

    .venv/bin/python scripts/bench/verify.py                 # 100,000 products
    .venv/bin/python scripts/bench/verify.py --count 1000000

Goal (issue 6): <= 60 s for 1,000,000 products. Seeds a private database, backfills a
private index (timed too), verifies, and deletes the index afterwards.
"""

from __future__ import annotations

import argparse
import sys

from benchdata import bench_environment, catalog, migrated_and_seeded, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=1800, help="per step, seconds")
    args = parser.parse_args()

    with bench_environment("verify") as (env, _es):
        seeded = migrated_and_seeded(env, args.count)
        print(f"seeded {args.count:,} products in {seeded:.1f}s", file=sys.stderr)
        backfill_wall, filled = catalog(["backfill", "--json"], env, args.timeout)
        verify_wall, report = catalog(["verify", "--json"], env, args.timeout)
        if not report["ok"] or report["rows"] != args.count:
            raise SystemExit(f"verify did not pass: {report}")
        print(table([
            ("step", "products", "wall s", "products/s"),
            ("catalog backfill", f"{filled['indexed']:,}", f"{backfill_wall:.1f}",
             f"{filled['indexed'] / backfill_wall:,.0f}"),
            ("catalog verify", f"{report['rows']:,}", f"{verify_wall:.1f}",
             f"{report['rows'] / verify_wall:,.0f}"),
        ]))


if __name__ == "__main__":
    main()
