"""documents.DOCUMENT_SQL gives exactly to_document's document, on a real SQLite file with
the products table as the migrations make it, or leaves the row to to_document; and what
backfill writes that way is what verify expects."""

from __future__ import annotations

import random

import orjson
import pytest

from indexer.backfill import PRODUCTS_TABLE, product_rows, snapshot_documents
from indexer.documents import DOCUMENT_SQL, to_document
from shared import sqlite as db
from tests.sync_support import catalog, catalog_json
from web.products import seed

STAMP = "2026-11-28 07:33:00.123456"
ORDINARY = {
    "status": 1, "title": "Red Wool Sweater", "image_url": "/media/a.jpg",
    "description": "Warm.", "category": "clothing", "price": 12.5, "thumbnails": "{}",
    "failure_reason": "", "thumbnail_attempts": 0, "created_at": STAMP, "updated_at": STAMP,
}
# Rows the site writes, and odd ones it could: (overrides, rendered by SQL?).
ROWS = [
    ({}, True),
    ({"status": 0}, True),
    ({"status": 2, "price": None}, True),
    ({"price": 113}, True),  # NUMERIC affinity stores '113.00' as an integer
    ({"price": "0.10"}, True),
    ({"price": -3.25}, True),
    ({"price": 0}, True),
    ({"price": 99999999.99}, True),
    ({"price": 0.1 + 0.2}, False),  # not to the cent: Decimal rounding, in Python
    ({"price": 1e13}, False),
    ({"price": "12.345"}, False),
    ({"price": "cheap"}, False),
    ({"title": 'Quote " back \\ slash', "description": "tab\tnew\nline\x01 nul\x00 end"}, True),
    ({"title": "Œuvre 丁寧 😀 \u202e rtl", "category": "ü"}, True),
    ({"failure_reason": "timeout", "status": 0}, True),
    ({"thumbnails": '{"64": "/media/t/1-64.webp", "256": "/media/t/1-256.webp"}'}, True),
    ({"thumbnails": '{"64": 1}'}, False),
    ({"thumbnails": '{"64": "a", "64": "b"}'}, False),
    ({"thumbnails": '{"64": "caf\\u00e9"}'}, False),
    ({"thumbnails": '{"64": {"nested": "x"}}'}, False),
    ({"thumbnails": "[]"}, False),
    ({"thumbnails": "null"}, False),
    ({"updated_at": "2026-11-28 07:33:02.623456"}, True),  # activated 2.5 s later
    ({"updated_at": "2026-11-28 07:33:00.126000"}, True),  # 2.544 ms: truncated to 2 ms
    ({"updated_at": "2026-11-29 07:33:00.123455"}, True),  # a day less a microsecond
    ({"updated_at": "2026-11-28 07:32:59.123456"}, True),  # before creation: 0
    ({"status": 2, "updated_at": "2026-11-28 07:33:02.623456"}, True),
    ({"updated_at": "2026-11-28 07:33:02"}, False),  # no microseconds
    ({"created_at": "2026-11-28T07:33:00.123456"}, False),
    ({"status": 0, "created_at": "2026-11-28 07:33:00.123456+00:00"}, False),
]


@pytest.fixture
def conn(catalog_settings):
    connection = db.connect(catalog_settings.database)
    yield connection
    connection.close()


def insert(conn, **overrides) -> int:
    row = {**ORDINARY, **overrides}
    with db.write(conn):
        cursor = conn.execute(
            f"INSERT INTO {PRODUCTS_TABLE} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    return cursor.lastrowid


def rendered(conn, pk: int) -> bytes | None:
    return conn.execute(f"SELECT {DOCUMENT_SQL} FROM {PRODUCTS_TABLE} WHERE id = ?",
                        (pk,)).fetchone()[0]


def as_json(doc) -> bytes:
    """Sorted JSON of a document: 113 and 113.0, or a list and a tuple, tell apart."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def python_document(conn, pk: int) -> dict:
    return to_document(next(product_rows(conn, pk - 1, pk)))


def test_sql_renders_to_documents_exact_document_or_leaves_the_row_to_it(conn):
    for overrides, by_sql in ROWS:
        pk = insert(conn, **overrides)
        sql = rendered(conn, pk)

        assert (sql is not None) == by_sql, overrides
        if sql is not None:
            assert as_json(orjson.loads(sql)) == as_json(python_document(conn, pk)), overrides


def test_sql_renders_seeded_products_of_every_status_as_python_does(conn):
    for status in (0, 1, 2):
        seed.seed(conn, 1500, status=status, random_seed=status)
    rng = random.Random(7)
    with db.write(conn):  # thumbnails made and activation times, as the workers leave them
        for pk in rng.sample(range(1, 4501), 1500):
            conn.execute(
                f"UPDATE {PRODUCTS_TABLE} SET thumbnails = json_object('64', '/t/' || id ||"
                " '-64.webp'), updated_at = strftime('%Y-%m-%d %H:%M:%f', created_at, ?)"
                " || printf('%03d', ?) WHERE id = ?",
                (f"+{rng.randrange(0, 600)}.{rng.randrange(1000):03d} seconds",
                 rng.randrange(1000), pk),
            )

    documents = list(snapshot_documents(conn))

    assert len(documents) == 4500
    for pk, doc in documents:
        assert isinstance(doc, orjson.Fragment), pk  # all rendered by SQLite
        assert as_json(orjson.loads(orjson.dumps(doc))) == as_json(python_document(conn, pk)), pk


def test_backfill_of_odd_rows_verifies(catalog_settings, conn):
    """Through Elasticsearch: whichever way each document was made, verify finds the index
    equal to to_document of every row."""
    for overrides, _ in ROWS:
        insert(conn, **overrides)

    code, summary = catalog_json("backfill")

    assert code == 0 and summary["errors"] == 0, summary
    assert summary["indexed"] == len(ROWS)
    result = catalog("verify", "--wait", "1")
    assert result.exit_code == 0, result.output
