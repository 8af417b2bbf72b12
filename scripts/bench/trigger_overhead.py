"""Benchmark: cost of the CDC triggers on `bulk_create` (goal: with/without <= 1.5x).

One invocation, one temp database: Product.objects.bulk_create of N rows with the
triggers installed and with them dropped, alternating, several rounds; the median of
each and their ratio. The table and changelog are emptied (triggers off) between runs.

    .venv/bin/python scripts/bench/trigger_overhead.py              # 10,000 rows, 3 rounds
    .venv/bin/python scripts/bench/trigger_overhead.py --rows 10000 --rounds 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from cdc_benchenv import cdc_environment, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with cdc_environment("trigger-overhead"):
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        from cdc import changelog
        from web.products.models import Product

        tables = settings.CATALOG.tracked_tables

        def triggers(on: bool) -> None:
            with connection.cursor() as cur:
                changelog.install(cur, tables) if on else changelog.uninstall(cur, tables)

        def empty() -> None:
            triggers(False)
            with connection.cursor() as cur:
                cur.execute("DELETE FROM products_product")
                cur.execute("DELETE FROM cdc_changelog")

        def one_run(with_triggers: bool) -> float:
            empty()
            triggers(with_triggers)
            objs = [Product(title=f"Product {n} «ü»", image_url=f"http://127.0.0.1/{n}.png",
                            description="A sturdy thing. " * 10, category="tools",
                            price=n % 1000 + 0.99, thumbnails={"64": f"/media/t/{n}-64.webp"})
                    for n in range(args.rows)]
            started = time.perf_counter()
            Product.objects.bulk_create(objs)
            elapsed = time.perf_counter() - started
            with connection.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM cdc_changelog")
                captured = cur.fetchone()[0]
            assert captured == (args.rows if with_triggers else 0), captured
            return elapsed

        one_run(True)  # warm-up: page cache, Django's first-query costs
        runs: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.rounds):
            for mode in (False, True):
                runs[mode].append(one_run(mode))
        without, with_ = statistics.median(runs[False]), statistics.median(runs[True])
        print(table([
            ("rows", "rounds", "without triggers s", "with triggers s", "ratio"),
            (args.rows, args.rounds, f"{without:.3f}", f"{with_:.3f}", f"{with_ / without:.2f}x"),
        ]))


if __name__ == "__main__":
    main()
