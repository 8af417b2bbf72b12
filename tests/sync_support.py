"""Helpers of the backfill/verify/reindex suites: the CLI in-process, seeded products that
only SQLite knows about, and the stream drained by the live indexer."""

from __future__ import annotations

import json
import sqlite3

import redis
from click.testing import CliRunner, Result

from cdc import changelog
from indexer.positions import changelog_head, indexer_position
from shared import sqlite as db
from shared.cli import main
from shared.names import Names
from shared.settings import Settings
from tests.waiting import wait_until
from web.products import seed


def catalog(*args: str) -> Result:
    """`catalog ARGS` in this process (settings come from the test's environment)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def catalog_json(*args: str) -> tuple[int, dict]:
    result = catalog(*args, "--json")
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


def seed_products(settings: Settings, count: int, *, forget_events: bool = False) -> None:
    """Insert `count` products; with forget_events their changelog rows are dropped, as if
    pruned before anyone consumed them: only a backfill can bring them to the index."""
    conn = db.connect(settings.database)
    try:
        seed.seed(conn, count, random_seed=count)
        if forget_events:
            changelog.reset(conn)
    finally:
        conn.close()


def product_ids(settings: Settings) -> list[int]:
    conn = db.connect(settings.database, readonly=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM products_product ORDER BY id")]
    finally:
        conn.close()


def head(settings: Settings) -> int:
    conn = db.connect(settings.database, readonly=True)
    try:
        return changelog_head(conn)
    finally:
        conn.close()


def wait_indexer_caught_up(r: redis.Redis, settings: Settings, timeout: float = 60) -> None:
    """Until the indexer group has acknowledged the changelog head (read now)."""
    names = Names.from_settings(settings)
    target = head(settings)
    wait_until(lambda: (indexer_position(r, names) or 0) >= target, timeout=timeout,
               message=f"indexer acknowledged seq {target}")


def checkpoint_id(conn: sqlite3.Connection) -> int:
    try:
        row = conn.execute("SELECT max(last_id) FROM indexer_backfill_checkpoint").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0] or 0)
