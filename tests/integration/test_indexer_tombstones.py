"""Deleted products never come back, even after Elasticsearch forgets its own delete
markers (`index.gc_deletes`): the indexer's delete is a tombstone document."""

from __future__ import annotations

from elasticsearch import ConflictError

from indexer.consumer import Indexer
from indexer.index import read_index
from tests.indexer_support import drain, event, publish, stored, visible_ids
from tests.waiting import wait_until


def _es_forgot_the_delete(es, index: str) -> bool:
    """Native delete with gc_deletes=0: does an older version get in again?"""
    es.indices.refresh(index=index)
    try:
        es.index(index=index, id="x", version=10, version_type="external", document={"n": 1})
    except ConflictError:
        return False
    return True


def test_native_deletes_are_forgotten_after_gc_deletes_but_tombstones_still_refuse(
    catalog_settings, names, redis_client, es
):
    # Control: what a plain versioned DELETE would give. Elasticsearch forgets it.
    control = f"{names.index_alias}-control"
    es.indices.create(index=control, settings={"index.gc_deletes": "0s",
                                               "number_of_replicas": 0})
    es.index(index=control, id="x", version=10, version_type="external", document={"n": 0})
    es.delete(index=control, id="x", version=11, version_type="external")
    wait_until(lambda: _es_forgot_the_delete(es, control), timeout=30,
               message="elasticsearch forgot the native delete")

    # Ours: same window, but the delete is a tombstone document at version 11.
    indexer = Indexer(catalog_settings)
    indexer.bootstrap()
    index = read_index(es, names)
    es.indices.put_settings(index=index, settings={"index.gc_deletes": "0s"})
    insert, delete = event(10, 77, "insert"), event(11, 77, "delete")
    publish(redis_client, names, [insert, delete])
    drain(indexer)
    for _ in range(3):
        es.indices.refresh(index=index)

    batch = indexer.apply_batch([(insert.entry_id, insert.to_fields())])
    assert (batch.applied, batch.conflicts, batch.dead) == (0, 1, [])
    assert stored(es, names, 77).items() >= {"deleted": True, "seq": 11, "_version": 11}.items()
    assert "77" not in visible_ids(es, names)
