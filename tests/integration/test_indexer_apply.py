"""The indexer's apply path against the real Redis and Elasticsearch: versioned writes,
collapse per batch, tombstones, duplicates and out-of-order delivery."""

from __future__ import annotations

import random

from indexer.consumer import Indexer
from indexer.index import add_write_target, create_index, read_index, write_targets
from indexer.status import index_status
from tests.indexer_support import drain, event, publish, stored, visible_ids


def test_insert_update_delete_leave_the_newest_state_and_a_delete_hides_the_product(
    catalog_settings, names, redis_client, es
):
    indexer = Indexer(catalog_settings)
    publish(redis_client, names, [event(1, 7, "insert")])
    drain(indexer)
    assert stored(es, names, 7)["title"] == "Product 7 rev 1"
    assert "7" in visible_ids(es, names)

    publish(redis_client, names, [event(2, 7, "update", title="Renamed", price="12.5")])
    drain(indexer)
    doc = stored(es, names, 7)
    assert (doc["title"], doc["price"], doc["seq"], doc["_version"]) == ("Renamed", 12.5, 2, 2)

    publish(redis_client, names, [event(3, 7, "delete")])
    drain(indexer)
    assert stored(es, names, 7).items() >= {"deleted": True, "seq": 3, "_version": 3}.items()
    assert "7" not in visible_ids(es, names)


def test_several_events_of_one_product_in_a_batch_collapse_to_the_newest(
    catalog_settings, names, redis_client, es
):
    publish(redis_client, names, [event(s, 1) for s in range(1, 6)] + [event(6, 2, "insert")])
    indexer = Indexer(catalog_settings)
    drain(indexer)
    assert stored(es, names, 1)["_version"] == 5
    assert stored(es, names, 1)["title"] == "Product 1 rev 5"
    figures = indexer.metrics
    assert figures.superseded._value.get() == 4
    assert figures.applied._value.get() == 2


def test_duplicates_and_shuffled_replays_never_regress_a_document(
    catalog_settings, names, redis_client, es
):
    # 30 products, 10 revisions each, interleaved; some deleted at the end.
    events, seq = [], 0
    for rev in range(10):
        for pk in range(1, 31):
            seq += 1
            events.append(event(seq, pk, "insert" if rev == 0 else "update"))
    for pk in range(1, 31, 3):
        seq += 1
        events.append(event(seq, pk, "delete"))
    newest = {e.pk: e for e in events}
    publish(redis_client, names, events)
    drain(Indexer(catalog_settings, consumer="first"))

    # Replay the whole range again, shuffled, in small batches, through a second consumer.
    replayer = Indexer(catalog_settings, consumer="replayer")
    shuffled = [(e.entry_id, e.to_fields()) for e in events]
    random.Random(4).shuffle(shuffled)
    for start in range(0, len(shuffled), 37):
        replayer.apply_batch(shuffled[start:start + 37])

    for pk, e in newest.items():
        doc = stored(es, names, pk)
        assert doc["_version"] == e.seq, pk
        assert doc["deleted"] is (e.op == "delete")
        if e.op != "delete":
            assert doc["title"] == f"Product {pk} rev {e.seq}"
    assert visible_ids(es, names) == {pk for pk, e in newest.items() if e.op != "delete"}


def test_two_consumers_sharing_the_group_apply_every_event_once_in_the_end_state(
    catalog_settings, names, redis_client, es
):
    events = [event(s, s % 50, "update") for s in range(1, 2001)]
    publish(redis_client, names, events)
    a = Indexer(catalog_settings, consumer="a")
    b = Indexer(catalog_settings, consumer="b")
    a.batch_size = b.batch_size = 64
    a.bootstrap()
    handled = -1
    while handled:  # the two take turns, a batch each
        handled = 0
        for consumer in (a, b):
            entries = consumer.read_batch(None)
            handled += consumer.process(entries) if entries else 0
    assert a.metrics.applied._value.get() > 0 and b.metrics.applied._value.get() > 0
    for pk in range(50):
        last = max(s for s in range(1, 2001) if s % 50 == pk)
        assert stored(es, names, pk)["_version"] == last


def test_an_old_insert_replayed_after_the_delete_does_not_resurrect_the_product(
    catalog_settings, names, redis_client, es
):
    insert, delete = event(10, 3, "insert"), event(11, 3, "delete")
    publish(redis_client, names, [insert, delete])
    indexer = Indexer(catalog_settings)
    drain(indexer)
    batch = indexer.apply_batch([(insert.entry_id, insert.to_fields())])
    assert batch.conflicts == 1 and batch.applied == 0
    assert stored(es, names, 3)["deleted"] is True
    assert "3" not in visible_ids(es, names)


def test_write_goes_to_every_write_target_during_a_reindex(
    catalog_settings, names, redis_client, es
):
    indexer = Indexer(catalog_settings)
    indexer.bootstrap()
    second = create_index(es, names, 2, "100ms")
    add_write_target(es, names, second)
    assert len(write_targets(es, names)) == 2
    publish(redis_client, names, [event(5, 9, "insert"), event(6, 10, "insert")])
    drain(indexer)
    for index in write_targets(es, names):
        assert stored(es, names, 9, index=index)["_version"] == 5
        assert stored(es, names, 10, index=index)["_version"] == 6


def test_status_reports_alias_live_documents_targets_and_dlq(
    catalog_settings, names, redis_client, es
):
    publish(redis_client, names, [event(1, 1, "insert"), event(2, 2, "insert"),
                                  event(3, 2, "delete")])
    drain(Indexer(catalog_settings))
    es.indices.refresh(index=read_index(es, names))
    status = index_status(es, redis_client, names)
    assert status["read_index"] == names.index_name(1)
    assert status["write_targets"] == [names.index_name(1)]
    assert status["live_documents"] == 1  # the tombstone of product 2 is not counted
    assert status["dlq_length"] == 0
    assert status["pending"] == 0 and status["undelivered"] == 0
