"""catalog reindex under a steady write and search load: no search fails or comes back
empty, and no product is missing afterwards."""

from __future__ import annotations

import threading

import pytest
from elasticsearch import Elasticsearch

from indexer.index import read_index, write_targets
from tests.cdc_support import writer_argv
from tests.sync_support import catalog, catalog_json, seed_products, wait_indexer_caught_up
from tests.waiting import wait_until

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")


class SearchLoad(threading.Thread):
    """Searches the read alias back to back, recording every failure and every total."""

    def __init__(self, url: str, alias: str):
        super().__init__(daemon=True)
        self.es = Elasticsearch(url, request_timeout=10)
        self.alias = alias
        self.stopping = threading.Event()
        self.totals: list[int] = []
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                found = self.es.search(index=self.alias, size=1, track_total_hits=True,
                                       query={"match": {"title": "wool"}})
                self.totals.append(found["hits"]["total"]["value"])
            except Exception as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)


def test_reindex_under_write_and_search_load_loses_no_search_and_no_product(
    catalog_settings, es, names, redis_client, daemons
):
    seed_products(catalog_settings, 3000)
    daemons.catalog("cdc", "run")
    daemons.catalog("indexer", "run")
    wait_indexer_caught_up(redis_client, catalog_settings)
    old = read_index(es, names)
    load = SearchLoad(catalog_settings.elasticsearch_url, names.index_alias)
    load.start()
    writer = daemons.spawn(writer_argv(catalog_settings.database, 1500, "during"), "writer")
    searches_before = len(load.totals)

    try:
        code, result = catalog_json("reindex", "--timeout", "120")
        wait_until(lambda: not writer.alive(), timeout=180, message="writer finished")
    finally:
        load.stop()

    assert code == 0, result
    assert load.failures == []
    assert len(load.totals) > searches_before  # searches really ran across the swap
    assert min(load.totals) > 0, "a search saw an empty index"
    new = result["new_index"]
    assert new != old and result["old_index"] == old and result["old_deleted"]
    assert read_index(es, names) == new
    assert write_targets(es, names) == [new]
    assert not es.indices.exists(index=old)
    wait_indexer_caught_up(redis_client, catalog_settings)
    verified = catalog("verify")
    assert verified.exit_code == 0, verified.output


def test_reindex_keep_old_leaves_the_previous_index_out_of_both_aliases(
    catalog_settings, es, names
):
    seed_products(catalog_settings, 100, forget_events=True)
    assert catalog("backfill").exit_code == 0
    old = read_index(es, names)

    code, result = catalog_json("reindex", "--keep-old")

    assert code == 0, result
    assert es.indices.exists(index=old)
    assert read_index(es, names) == result["new_index"] != old
    assert write_targets(es, names) == [result["new_index"]]
    assert catalog("verify").exit_code == 0


def test_reindex_that_cannot_catch_up_drops_the_new_index_and_changes_nothing(
    catalog_settings, es, names, redis_client, daemons
):
    seed_products(catalog_settings, 100)
    daemons.catalog("cdc", "run")
    indexer = daemons.catalog("indexer", "run")
    wait_indexer_caught_up(redis_client, catalog_settings)
    indexer.stop()
    seed_products(catalog_settings, 1)  # an event the stopped indexer will not acknowledge
    old = read_index(es, names)

    result = catalog("reindex", "--timeout", "1")

    assert result.exit_code != 0
    assert "nothing changed" in result.output
    assert read_index(es, names) == old
    assert write_targets(es, names) == [old]
    assert list(es.indices.get(index=f"{names.index_alias}-v*")) == [old]
