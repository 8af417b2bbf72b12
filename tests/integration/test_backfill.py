"""catalog backfill against the real services: a live pipeline and concurrent writers
around it, the real process killed mid-run and resumed."""

from __future__ import annotations

import signal

import pytest

from indexer.index import ensure_index
from shared import sqlite as db
from tests.cdc_support import writer_argv
from tests.sync_support import (
    catalog,
    catalog_json,
    checkpoint_id,
    product_ids,
    seed_products,
    wait_indexer_caught_up,
)
from tests.waiting import wait_until

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")


def test_backfill_into_empty_index_while_writes_continue_then_verify_passes(
    catalog_settings, redis_client, daemons
):
    seed_products(catalog_settings, 3000, forget_events=True)
    daemons.catalog("cdc", "run")
    daemons.catalog("indexer", "run")
    writer = daemons.spawn(writer_argv(catalog_settings.database, 600, "live"), "writer")
    wait_until(lambda: len(product_ids(catalog_settings)) > 3010, message="writer started")

    code, summary = catalog_json("backfill")

    assert code == 0, summary
    assert summary["errors"] == 0
    assert summary["indexed"] + summary["conflicts"] >= 3000
    assert summary["snapshot_seq"] > 0  # the writer's events were under way
    wait_until(lambda: not writer.alive(), timeout=120, message="writer finished")
    assert writer.proc.returncode == 0, writer.output()
    wait_indexer_caught_up(redis_client, catalog_settings)
    result = catalog("verify")
    assert result.exit_code == 0, result.output
    assert "in sync" in result.output


def test_backfill_adds_products_missing_from_the_index_and_verify_names_them_before(
    catalog_settings,
):
    seed_products(catalog_settings, 50, forget_events=True)
    catalog("backfill", "--json")  # creates the index ...
    conn = db.connect(catalog_settings.database)
    with db.write(conn):  # ... then one product goes and five arrive, their events lost
        conn.execute("DELETE FROM products_product WHERE id = (SELECT max(id) FROM "
                     "products_product)")
    conn.close()
    seed_products(catalog_settings, 5, forget_events=True)

    code, report = catalog_json("verify", "--wait", "1")

    assert code == 1
    assert sorted(d["kind"] for d in report["differences"]) == ["extra"] + ["missing"] * 5
    code, summary = catalog_json("backfill")
    assert code == 0 and summary["errors"] == 0
    code, report = catalog_json("verify", "--wait", "1")
    # Backfill writes what exists; removing what does not is verify --repair's job.
    assert [d["kind"] for d in report["differences"]] == ["extra"]


def test_killed_backfill_resumes_from_its_checkpoint_and_verifies(catalog_settings, daemons,
                                                                  es, names):
    seed_products(catalog_settings, 60_000, forget_events=True)
    # Into the live index: checkpoints at once (a first build records them only once the
    # async translog surely synced them: tests/unit/test_backfill_checkpoint.py).
    ensure_index(es, names)
    ids = product_ids(catalog_settings)
    first = daemons.catalog("backfill", "--chunk-size", "500", "--threads", "1")
    conn = db.connect(catalog_settings.database, readonly=True)
    wait_until(lambda: checkpoint_id(conn) > 0, timeout=120,
               message=f"a checkpoint\n{first.output()[-2000:]}")
    first.kill(signal.SIGKILL)
    stopped_after = checkpoint_id(conn)
    conn.close()
    assert ids[0] < stopped_after < ids[-1], "killed mid-run"

    code, summary = catalog_json("backfill")

    assert code == 0, summary
    assert summary["resumed_after_id"] == stopped_after
    assert summary["indexed"] == sum(1 for i in ids if i > summary["resumed_after_id"])
    assert summary["indexed"] < len(ids)
    result = catalog("verify", "--wait", "1")
    assert result.exit_code == 0, result.output


def test_a_document_elasticsearch_rejects_fails_the_run_by_id_and_a_rerun_resumes_before_it(
    catalog_settings, es, names
):
    seed_products(catalog_settings, 30_000, forget_events=True)
    ids = product_ids(catalog_settings)
    poison = ids[15_000]
    conn = db.connect(catalog_settings.database)
    with db.write(conn):  # a keyword term beyond Lucene's 32 kB limit: a 400 for this one
        conn.execute("UPDATE products_product SET category = ? WHERE id = ?",
                     ("x" * 40_000, poison))
    ensure_index(es, names)  # the live index: checkpoints recorded at once

    code, summary = catalog_json("backfill")

    assert code == 1
    assert summary["errors"] == 1 and summary["indexed"] == len(ids) - 1
    [sample] = summary["error_samples"]
    assert sample["_id"] == str(poison) and "immense term" in sample["error"]
    stopped_at = checkpoint_id(conn)
    assert ids[0] < stopped_at < poison  # the rerun starts before the failed document
    with db.write(conn):
        conn.execute("UPDATE products_product SET category = 'home' WHERE id = ?", (poison,))
    conn.close()

    code, summary = catalog_json("backfill")

    assert code == 0 and summary["errors"] == 0
    assert summary["resumed_after_id"] == stopped_at
    result = catalog("verify", "--wait", "1")
    assert result.exit_code == 0, result.output
