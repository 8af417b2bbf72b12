"""catalog seed: realistic rows in the real database, every one captured by the triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from shared import sqlite as db
from tests.sync_support import catalog

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")


def test_seed_inserts_count_products_each_with_one_insert_event(catalog_settings):
    result = catalog("seed", "--count", "1200", "--batch", "500", "--random-seed", "7")

    assert result.exit_code == 0, result.output
    conn = db.connect(catalog_settings.database, readonly=True)
    rows = conn.execute("SELECT title, image_url, category, price, status, created_at, "
                        "updated_at FROM products_product").fetchall()
    events = conn.execute("SELECT op, count(*) FROM cdc_changelog GROUP BY op").fetchall()
    conn.close()
    assert len(rows) == 1200
    assert [tuple(e) for e in events] == [("insert", 1200)]
    assert all(r["image_url"].startswith("/media/seed/") for r in rows)
    # Processing, as a product just added: the thumbnail worker makes it active.
    assert all(0 < len(r["title"]) <= 100 and r["status"] == 2 for r in rows)
    assert any(not r["title"].isascii() for r in rows)
    assert len({r["category"] for r in rows}) > 3
    assert all(1 <= float(r["price"]) < 500 for r in rows)
    # Just added, as far as the dashboard and the stuck-product sweep can tell.
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert all(r["created_at"] == r["updated_at"] > hour_ago for r in rows)


def test_seed_refuses_a_database_without_the_products_table(tmp_path, monkeypatch,
                                                           catalog_settings):
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "empty.sqlite3"))

    result = catalog("seed", "--count", "10")

    assert result.exit_code != 0
    assert "run the migrations" in result.output


def test_seed_draws_each_image_its_products_name_once(catalog_settings):
    assert catalog("seed", "--count", "300", "--random-seed", "1").exit_code == 0
    conn = db.connect(catalog_settings.database, readonly=True)
    urls = {r[0] for r in conn.execute("SELECT DISTINCT image_url FROM products_product")}
    conn.close()
    media, prefix = catalog_settings.media, catalog_settings.media_url
    files = {p.relative_to(media).as_posix() for p in (media / "seed").rglob("*") if p.is_file()}

    assert {url[len(prefix):] for url in urls} <= files
    assert 10 < len(files) <= 50  # a small set, reused by every row
    with Image.open(media / sorted(files)[0]) as image:
        assert image.width >= max(catalog_settings.thumbnail_widths)
    stamps = {name: (media / name).stat().st_mtime_ns for name in files}
    assert catalog("seed", "--count", "10").exit_code == 0
    assert {name: (media / name).stat().st_mtime_ns for name in files} == stamps


def test_seed_if_empty_leaves_a_catalogue_with_products_alone(catalog_settings):
    first = catalog("seed", "--count", "5", "--if-empty")
    again = catalog("seed", "--count", "5", "--if-empty")

    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert "already has 5 products" in again.output
    conn = db.connect(catalog_settings.database, readonly=True)
    assert conn.execute("SELECT count(*) FROM products_product").fetchone()[0] == 5
    conn.close()
