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
              default="processing", show_default=True,
              help="Status of the seeded products (processing: as added, until thumbnails).")
@click.option("--random-seed", type=int, default=None, help="Same seed, same products.")
@click.option("--batch", default=50_000, show_default=True, type=click.IntRange(min=1),
              help="Rows per IMMEDIATE transaction.")
@click.option("--if-empty", is_flag=True,
              help="Seed only if the database has no products yet (scripts/up's demo).")
@click.pass_obj
def seed(settings: Settings, count: int, status: str, random_seed: int | None,
         batch: int, if_empty: bool) -> None:
    """Insert COUNT realistic products (Unicode titles, categories, prices, images).

    Plain SQL in large transactions: a million rows take minutes. The CDC triggers fire
    as for any write, so the changelog, the stream and the index follow. The images are
    real files drawn once into MEDIA_ROOT/seed/ and named as uploads (/media/seed/...), so
    the thumbnail worker makes the products active. Needs the migrated database
    (`python -m web migrate`).
    """
    from web.products import seed as seeding

    conn = sqlite.connect(settings.database)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?",
                            (seeding.TABLE,)).fetchone():
            raise click.ClickException(f"no table {seeding.TABLE} in {settings.database}: "
                                       "run the migrations first")
        if if_empty:
            existing = conn.execute(f"SELECT count(*) FROM {seeding.TABLE}").fetchone()[0]
            if existing:
                click.echo(f"not seeding: the database already has {existing} products")
                return
        quiet = not sys.stderr.isatty()
        with click.progressbar(length=count, label="seed", file=sys.stderr,
                               hidden=quiet) as bar:
            result = seeding.seed(conn, count, status=seeding.STATUSES[status],
                                  random_seed=random_seed, batch=batch, progress=bar.update,
                                  media_root=settings.media, media_url=settings.media_url)
    finally:
        conn.close()
    click.echo(f"seeded {result.count} products (ids {result.first_id}..{result.last_id}) "
               f"in {result.seconds:.1f}s ({result.rows_per_second:,.0f}/s)")


COMMANDS = [seed]
