"""`catalog seed`: click wiring only; the rows come from web/products/seed.py."""

from __future__ import annotations

import sys

import click

from shared import sqlite
from shared.settings import Settings


@click.command()
@click.option("--count", "-n", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Products to insert.")
@click.option("--status", type=click.Choice(["active", "processing", "inactive"]),
              default="active", show_default=True, help="Status of the seeded products.")
@click.option("--random-seed", type=int, default=None, help="Same seed, same products.")
@click.option("--batch", default=50_000, show_default=True, type=click.IntRange(min=1),
              help="Rows per IMMEDIATE transaction.")
@click.pass_obj
def seed(settings: Settings, count: int, status: str, random_seed: int | None,
         batch: int) -> None:
    """Insert COUNT realistic products (Unicode titles, categories, prices, images).

    Plain SQL in large transactions: a million rows take minutes. The CDC triggers fire
    as for any write, so the changelog, the stream and the index follow. Image URLs are
    local (/media/seed/...). Needs the migrated database (`python -m web migrate`).
    """
    from web.products import seed as seeding

    conn = sqlite.connect(settings.database)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                            (seeding.TABLE,)).fetchone():
            raise click.ClickException(f"no table {seeding.TABLE} in {settings.database}: "
                                       "run the migrations first")
        quiet = not sys.stderr.isatty()
        with click.progressbar(length=count, label="seed", file=sys.stderr,
                               hidden=quiet) as bar:
            result = seeding.seed(conn, count, status=seeding.STATUSES[status],
                                  random_seed=random_seed, batch=batch, progress=bar.update)
    finally:
        conn.close()
    click.echo(f"seeded {result.count} products (ids {result.first_id}..{result.last_id}) "
               f"in {result.seconds:.1f}s ({result.rows_per_second:,.0f}/s)")


COMMANDS = [seed]
