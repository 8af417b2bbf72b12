"""catalog verify [--repair] against the live pipeline: injected drift is listed exactly
and repaired; events still in flight are not drift."""

from __future__ import annotations

import pytest

from indexer.documents import to_document
from indexer.index import read_index
from indexer.verify import Verify
from shared import redis_client
from shared import sqlite as db
from tests.sync_support import (
    catalog,
    catalog_json,
    head,
    product_ids,
    seed_products,
    wait_indexer_caught_up,
)

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")

BOGUS_ID = "987654321"
UNKEYED_ID = "not-a-product"  # a document without the numeric id field verify sorts on


@pytest.fixture
def indexed_catalogue(catalog_settings, redis_client, daemons):
    """200 products through the real tailer and indexer, acknowledged."""
    seed_products(catalog_settings, 200)
    daemons.catalog("cdc", "run")
    indexer = daemons.catalog("indexer", "run")
    wait_indexer_caught_up(redis_client, catalog_settings)
    return indexer


@pytest.mark.parametrize("workers", [1, 2], ids=["one-pass", "id-ranges-in-parallel"])
def test_injected_drift_is_listed_exactly_then_repaired(
    catalog_settings, es, names, indexed_catalogue, monkeypatch, workers
):
    monkeypatch.setattr("indexer.verify.PARALLEL_FROM_ROWS", 0)
    workers_option = ("--workers", str(workers))
    assert catalog("verify").exit_code == 0
    index = read_index(es, names)
    ids = [str(i) for i in product_ids(catalog_settings)]
    gone, changed = ids[:2], ids[2]
    for pk in gone:
        es.delete(index=index, id=pk)
    tampered = es.get(index=index, id=changed)["_source"]
    es.index(index=index, id=changed, document={**tampered, "title": "Tampered Title"})
    bogus = to_document({"id": int(BOGUS_ID), "title": "Never In The Database",
                         "image_url": "/media/seed/x.jpg", "status": 1})
    es.index(index=index, id=BOGUS_ID, document=bogus)
    es.index(index=index, id=UNKEYED_ID, document={**bogus, "id": None})
    es.indices.refresh(index=index)

    code, report = catalog_json("verify", "--wait", "5", *workers_option)

    assert code == 1
    found = {(d["kind"], d["id"]): d["fields"] for d in report["differences"]}
    assert set(found) == {("missing", gone[0]), ("missing", gone[1]), ("stale", changed),
                          ("extra", BOGUS_ID), ("extra", UNKEYED_ID)}
    assert found[("stale", changed)] == {"title": {"db": tampered["title"],
                                                   "index": "Tampered Title"}}
    assert report["rows"] == 200

    repaired = catalog("verify", "--repair", "--wait", "5", *workers_option)

    assert repaired.exit_code == 0, repaired.output
    for pk in (*gone, changed):
        assert f"indexed    {pk}" in repaired.output
    assert f"tombstoned {BOGUS_ID}" in repaired.output
    assert f"tombstoned {UNKEYED_ID}" in repaired.output
    assert es.get(index=index, id=changed)["_version"] == head(catalog_settings)
    again = catalog("verify", *workers_option)
    assert again.exit_code == 0, again.output


def test_events_in_flight_are_rechecked_not_reported(
    catalog_settings, es, names, redis_client, daemons, indexed_catalogue
):
    indexed_catalogue.stop()
    ids = product_ids(catalog_settings)[:10]
    conn = db.connect(catalog_settings.database)
    with db.write(conn):
        conn.executemany("UPDATE products_product SET title = 'Renamed ' || id WHERE id = ?",
                         [(i,) for i in ids])
    conn.close()
    checker = Verify(catalog_settings, es, redis_client_for(catalog_settings), wait=60)
    target = read_index(es, names)

    scanned = checker.scan(target)  # the indexer is stopped: these events are in flight

    assert sorted(int(d.id) for d in scanned.differences) == ids
    assert {d.kind for d in scanned.differences} == {"stale"}
    daemons.catalog("indexer", "run")
    assert checker.recheck(target, scanned) == []
    assert scanned.indexer_position >= scanned.head


def redis_client_for(settings):
    return redis_client.connect(settings)
