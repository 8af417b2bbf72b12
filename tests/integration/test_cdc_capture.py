"""Invariant 1: every committed write to a tracked table is one changelog row, whoever wrote it."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest
from django.db import connection, transaction

from cdc import changelog
from tests.cdc_support import (
    changelog_rows,
    write_products,
    writer_argv,
)
from web.products.models import Product

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")


def _product(n: int = 0, **fields) -> Product:
    return Product(title=f"p{n}", image_url=f"http://127.0.0.1/{n}.png", **fields)


def _ops(conn) -> list[tuple[str, str]]:
    return [(e.op, e.pk) for e in changelog_rows(conn)]


def test_orm_save_update_and_delete_each_produce_one_event(clean_changelog):
    p = _product(1, price=Decimal("9.99"), thumbnails={"64": "/m/a.webp"})
    p.save()
    p.title = "renamed"
    p.save()
    pk = str(p.pk)
    p.delete()

    events = changelog_rows(clean_changelog)
    assert [(e.op, e.pk) for e in events] == [("insert", pk), ("update", pk), ("delete", pk)]
    insert, update, delete = events
    assert insert.row["title"] == "p1" and insert.old is None
    assert insert.row["thumbnails"] == {"64": "/m/a.webp"}  # a JSON object, not a string
    assert insert.row["price"] == 9.99
    assert update.row["title"] == "renamed" and update.old["title"] == "p1"
    assert delete.row["title"] == "renamed" and delete.old is None
    assert [e.seq for e in events] == [1, 2, 3]


def test_bulk_create_queryset_update_and_delete_produce_one_event_per_row(clean_changelog):
    Product.objects.bulk_create([_product(n) for n in range(5)])
    pks = sorted(str(pk) for pk in Product.objects.values_list("pk", flat=True))
    Product.objects.filter(title__in=["p1", "p2"]).update(status=Product.Status.ACTIVE)
    Product.objects.filter(title="p4").delete()

    events = changelog_rows(clean_changelog)
    assert [e.op for e in events] == ["insert"] * 5 + ["update"] * 2 + ["delete"]
    assert sorted(e.pk for e in events[:5]) == pks
    assert {e.row["title"] for e in events[5:7]} == {"p1", "p2"}
    assert all(e.row["status"] == 1 and e.old["status"] == 2 for e in events[5:7])
    assert events[7].row["title"] == "p4"


def test_rolled_back_writes_produce_no_events_and_no_seq_gap(clean_changelog):
    with pytest.raises(RuntimeError), transaction.atomic():
        _product(1).save()
        Product.objects.update(title="never")
        raise RuntimeError("roll back")
    assert changelog_rows(clean_changelog) == []
    _product(2).save()
    assert [e.seq for e in changelog_rows(clean_changelog)] == [1]


def test_raw_sql_from_another_process_is_captured(clean_changelog, catalog_settings):
    subprocess.run(writer_argv(catalog_settings.database, 10, "raw"), check=True, timeout=60)
    events = changelog_rows(clean_changelog)
    inserts = [e for e in events if e.op == "insert"]
    assert [e.row["title"] for e in inserts] == [f"raw-{n}" for n in range(10)]
    # every 3rd row updated, every 7th deleted (tests/cdc_support.write_products)
    assert len([e for e in events if e.op == "update"]) == 4
    assert len([e for e in events if e.op == "delete"]) == 2


def test_sqlite3_shell_writes_are_captured(clean_changelog, catalog_settings):
    script = (
        "INSERT INTO products_product (status, title, image_url, description, category, "
        "thumbnails, failure_reason, thumbnail_attempts, created_at, updated_at) VALUES "
        "(1, 'from the shell', 'http://127.0.0.1/s.png', '', '', '{}', '', 0, "
        "'2026-01-01', '2026-01-01');\n"
        "UPDATE products_product SET title = 'shell ''quoted''' WHERE title = 'from the shell';\n"
        "BEGIN; DELETE FROM products_product; ROLLBACK;\n"
    )
    subprocess.run(["/usr/bin/sqlite3", str(catalog_settings.database)], input=script,
                   text=True, check=True, timeout=60)
    events = changelog_rows(clean_changelog)
    assert [e.op for e in events] == ["insert", "update"]
    assert events[1].row["title"] == "shell 'quoted'"
    assert events[1].old["title"] == "from the shell"


def test_seq_order_is_commit_order_across_concurrent_writer_processes(
    clean_changelog, catalog_settings
):
    # An untracked probe table written in the same transactions records commit order.
    with connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS cdc_test_probe "
                    "(n INTEGER PRIMARY KEY AUTOINCREMENT, pk TEXT)")
        cur.execute("DELETE FROM cdc_test_probe")
        cur.execute("DROP TRIGGER IF EXISTS test_probe_after")
        cur.execute("CREATE TRIGGER test_probe_after AFTER INSERT ON products_product "
                    "BEGIN INSERT INTO cdc_test_probe (pk) VALUES (NEW.id); END")
    try:
        writers = [
            subprocess.Popen(writer_argv(catalog_settings.database, 150, f"w{i}", per_txn=3))
            for i in range(4)
        ]
        assert [w.wait(timeout=120) for w in writers] == [0] * 4
        events = changelog_rows(clean_changelog)
        probe = [r[0] for r in clean_changelog.execute("SELECT pk FROM cdc_test_probe ORDER BY n")]
    finally:
        with connection.cursor() as cur:
            cur.execute("DROP TRIGGER IF EXISTS test_probe_after")
            cur.execute("DROP TABLE IF EXISTS cdc_test_probe")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # no gaps
    assert [e.pk for e in events if e.op == "insert"] == probe
    for i in range(4):  # each writer's rows appear in the order it wrote them
        titles = [e.row["title"] for e in events if e.op == "insert" and e.row["title"]
                  .startswith(f"w{i}-")]
        assert titles == [f"w{i}-{n}" for n in range(150)]


def test_unusual_values_are_captured_exactly(clean_changelog):
    title = "Ünïcødé “quotes” 'single' \"double\" \\ back 😀 " + "x" * 56
    assert len(title) == 100
    description = "line\nbreak\ttab «ü» \"q\" \\ " * 20_000  # ~400 kB
    p = _product(1, description=description, price=None, category="")
    p.title = title
    p.save()
    (event,) = changelog_rows(clean_changelog)
    assert event.row["title"] == title
    assert event.row["description"] == description
    assert event.row["price"] is None


def test_post_migrate_reinstalls_dropped_triggers(clean_changelog):
    from django.core.management import call_command

    with connection.cursor() as cur:
        changelog.uninstall(cur, ["products_product"])
    _product(1).save()
    assert changelog_rows(clean_changelog) == []  # proves the triggers were gone
    call_command("migrate", verbosity=0)
    _product(2).save()
    assert [e.row["title"] for e in changelog_rows(clean_changelog)] == ["p2"]


def test_write_products_helper_runs_in_process(clean_changelog, catalog_settings):
    write_products(str(catalog_settings.database), 3, "inproc")
    assert [e.op for e in changelog_rows(clean_changelog)][:3] == ["insert", "update", "delete"]


def test_catalog_cdc_install_reports_up_to_date_triggers(catalog_settings):
    out = subprocess.run(
        [sys.executable, "-c", "from shared.cli import main; main()", "cdc", "install"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    assert "triggers up to date" in out


def test_columns_added_and_dropped_by_schema_changes_follow_into_events(clean_changelog):
    from django.db import models

    from cdc.apps import drop_before_migrate, install_after_migrate

    brand = models.CharField(max_length=20, null=True)
    brand.set_attributes_from_name("brand")
    plan = [("a migration", False)]  # non-empty: migrate has work to do
    drop_before_migrate(sender=None, plan=plan)
    with connection.schema_editor() as editor:
        editor.add_field(Product, brand)
    install_after_migrate(sender=None, plan=plan)
    try:
        with connection.cursor() as cur:
            cur.execute("UPDATE products_product SET brand = 'none'")  # no rows: no events
            Product(title="b", image_url="http://127.0.0.1/b.png").save()
            cur.execute("UPDATE products_product SET brand = 'acme'")
        insert, update = changelog_rows(clean_changelog)
        assert insert.row["brand"] is None and update.row["brand"] == "acme"
    finally:
        # DROP COLUMN works only because pre_migrate took the triggers off first.
        drop_before_migrate(sender=None, plan=plan)
        with connection.schema_editor() as editor:
            editor.remove_field(Product, brand)
        install_after_migrate(sender=None, plan=plan)
    Product.objects.update(title="c")
    assert "brand" not in changelog_rows(clean_changelog)[-1].row
