"""catalog seed: realistic rows in the real database, every one captured by the triggers."""

from __future__ import annotations

import pytest

from shared import sqlite as db
from tests.sync_support import catalog

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")


def test_seed_inserts_count_products_each_with_one_insert_event(catalog_settings):
    result = catalog("seed", "--count", "1200", "--batch", "500", "--random-seed", "7")

    assert result.exit_code == 0, result.output
    conn = db.connect(catalog_settings.database, readonly=True)
    rows = conn.execute("SELECT title, image_url, category, price, status FROM "
                        "products_product").fetchall()
    events = conn.execute("SELECT op, count(*) FROM cdc_changelog GROUP BY op").fetchall()
    conn.close()
    assert len(rows) == 1200
    assert [tuple(e) for e in events] == [("insert", 1200)]
    assert all(r["image_url"].startswith("/media/seed/") for r in rows)
    assert all(0 < len(r["title"]) <= 100 and r["status"] == 1 for r in rows)
    assert any(not r["title"].isascii() for r in rows)
    assert len({r["category"] for r in rows}) > 3
    assert all(1 <= float(r["price"]) < 500 for r in rows)


def test_seed_refuses_a_database_without_the_products_table(tmp_path, monkeypatch,
                                                           catalog_settings):
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "empty.sqlite3"))

    result = catalog("seed", "--count", "10")

    assert result.exit_code != 0
    assert "run the migrations" in result.output
