"""Helpers of the CDC tests: a raw-SQL writer process, changelog and stream reads.

The `clean_changelog` fixture lives in tests/cdc_fixtures.py (load it with
`pytest_plugins = ["tests.cdc_fixtures"]`).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

from cdc import changelog
from shared import sqlite as db
from shared.events import ChangeEvent

INSERT_PRODUCT = (
    "INSERT INTO products_product (status, title, image_url, description, category, price,"
    " thumbnails, failure_reason, thumbnail_attempts, created_at, updated_at)"
    " VALUES (2, ?, 'http://127.0.0.1/img.png', ?, 'cat', NULL, '{}', '', 0,"
    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)


def changelog_rows(conn: sqlite3.Connection) -> list[ChangeEvent]:
    return [changelog.to_event(tuple(r)) for r in changelog.read_after(conn, 0, 10**9)]


def stream_events(r, stream: str) -> list[ChangeEvent]:
    return [ChangeEvent.from_entry(eid, fields) for eid, fields in r.xrange(stream, "-", "+")]


def writer_argv(database: Path | str, count: int, tag: str, per_txn: int = 1,
                pause: float = 0.0) -> list[str]:
    return [sys.executable, "-m", "tests.cdc_support", str(database), str(count), tag,
            str(per_txn), str(pause)]


def write_products(database: str, count: int, tag: str, per_txn: int = 1,
                   pause: float = 0.0) -> None:
    """Insert `count` products titled `<tag>-<n>` with raw SQL, `per_txn` per transaction
    (then sleep `pause` s); every 3rd row is also updated and every 7th deleted."""
    conn = db.connect(database)
    n = 0
    while n < count:
        if n and pause:
            time.sleep(pause)
        with db.write(conn):
            for _ in range(min(per_txn, count - n)):
                cur = conn.execute(INSERT_PRODUCT, (f"{tag}-{n}", f"row {n} of {tag}"))
                if n % 3 == 0:
                    conn.execute("UPDATE products_product SET status = 1 WHERE id = ?",
                                 (cur.lastrowid,))
                if n % 7 == 0:
                    conn.execute("DELETE FROM products_product WHERE id = ?", (cur.lastrowid,))
                n += 1
    conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="raw-SQL product writer for CDC tests")
    parser.add_argument("database")
    parser.add_argument("count", type=int)
    parser.add_argument("tag")
    parser.add_argument("per_txn", type=int, nargs="?", default=1)
    parser.add_argument("pause", type=float, nargs="?", default=0.0)
    a = parser.parse_args()
    write_products(a.database, a.count, a.tag, a.per_txn, a.pause)
