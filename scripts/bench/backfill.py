"""Benchmark: `catalog backfill` against django-elasticsearch-dsl's `search_index --rebuild`
on the same data and the same mapping, in one invocation.

    .venv/bin/python scripts/bench/backfill.py               # 100,000 products
    .venv/bin/python scripts/bench/backfill.py --count 1000000
    .venv/bin/python scripts/bench/backfill.py --count 1000000 --activated  # real-sized rows

Goals (issue 6): ours >= 20,000 docs/s at 1M, and >= 3x django-elasticsearch-dsl.
Both run as their own processes (start-up included) into fresh indexes with the same
settings; indexes are deleted afterwards.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time

from benchdata import bench_environment, catalog, count_docs, migrated_and_seeded, run, table

from shared import sqlite


def activate(database: str) -> float:
    """Thumbnails in two sizes and updated_at 0-600 s after created_at, on every product:
    documents as big as real ones, and the timestamps parsed for activation_seconds."""
    started = time.monotonic()
    conn = sqlite.connect(database)
    try:
        with sqlite.write(conn):
            conn.execute(
                "UPDATE products_product SET thumbnails = json_object("
                "'64', '/media/thumbnails/' || id || '-64.webp',"
                " '256', '/media/thumbnails/' || id || '-256.webp'),"
                " updated_at = strftime('%Y-%m-%d %H:%M:%f', created_at,"
                " '+' || ((abs(random()) % 600000) / 1000.0) || ' seconds')"
                " || printf('%03d', abs(random()) % 1000)"
            )
    finally:
        conn.close()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=1800, help="per step, seconds")
    parser.add_argument("--skip-ded", action="store_true", help="only time ours")
    parser.add_argument("--activated", action="store_true",
                        help="give every product thumbnails and an activation time, as the"
                             " thumbnail workers leave them (seeded products have neither)")
    args = parser.parse_args()
    if not args.skip_ded and importlib.util.find_spec("django_elasticsearch_dsl") is None:
        raise SystemExit("django-elasticsearch-dsl is missing: .venv/bin/pip install -e '.[bench]'"
                         " (or pass --skip-ded)")

    with bench_environment("backfill") as (env, es):
        seeded = migrated_and_seeded(env, args.count)
        print(f"seeded {args.count:,} products in {seeded:.1f}s", file=sys.stderr)
        if args.activated:
            print(f"activated them in {activate(env['DATABASE_PATH']):.1f}s", file=sys.stderr)

        ours_wall, summary = catalog(["backfill", "--json"], env, args.timeout)
        ours_docs = count_docs(es, env["INDEX_ALIAS"])
        rows = [("tool", "documents", "wall s", "docs/s (wall)", "docs/s (bulk)"),
                ("catalog backfill", f"{ours_docs:,}", f"{ours_wall:.1f}",
                 f"{ours_docs / ours_wall:,.0f}", f"{summary['docs_per_second']:,.0f}")]
        es.indices.delete(index=f"{env['INDEX_ALIAS']}-v*")  # free the heap for the next run

        # django-elasticsearch-dsl as Django users run it (`--rebuild`), and in its
        # faster parallel mode, each against ours.
        for parallel in ([] if args.skip_ded else [False, True]):
            ded_index = f"{env['INDEX_ALIAS']}-ded"
            ded_env = {**env, "DJANGO_SETTINGS_MODULE": "ded_bench.settings",
                       "BENCH_DED_INDEX": ded_index, "BENCH_DED_PARALLEL": str(int(parallel))}
            flags = ["--parallel"] if parallel else []
            ded_wall, _ = run([sys.executable, "-m", "django", "search_index", "--rebuild",
                               "-f", *flags], ded_env, args.timeout)
            ded_docs = count_docs(es, ded_index)
            es.indices.delete(index=ded_index)
            name = "django-elasticsearch-dsl --rebuild" + (" --parallel" if parallel else "")
            rows.append((name, f"{ded_docs:,}", f"{ded_wall:.1f}", f"{ded_docs / ded_wall:,.0f}",
                         "-"))
            rows.append(("  ratio (its wall / ours)", "", f"{ded_wall / ours_wall:.2f}x", "",
                         ""))
        print(table(rows))
        if ours_docs != args.count:
            raise SystemExit(f"ours indexed {ours_docs} of {args.count}")


if __name__ == "__main__":
    main()
