"""catalog status: daemon liveness, index documents against table rows, and the verdict."""

from __future__ import annotations

import json

import pytest

from tests.sync_support import catalog, seed_products, wait_indexer_caught_up
from tests.waiting import wait_until

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")


def _status() -> dict:
    result = catalog("status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_status_shows_live_daemons_and_index_matching_the_table(
    catalog_settings, redis_client, daemons
):
    seed_products(catalog_settings, 120)
    daemons.catalog("cdc", "run")
    daemons.catalog("indexer", "run")
    wait_indexer_caught_up(redis_client, catalog_settings)

    report = wait_until(
        lambda: (s := _status())["index"].get("live_documents") == 120 and s, timeout=30,
        message="status counts the indexed products",
    )

    assert report["daemons"]["tailer"].startswith("up")
    assert report["daemons"]["indexer"].startswith("up")
    assert report["daemons"]["thumbnails"] == "DOWN"
    assert report["index"]["table_rows"] == 120
    assert report["index"]["documents_minus_rows"] == 0
    assert report["summary"]["ok"] is False
    assert report["summary"]["problems"] == "thumbnails is down"


def test_status_text_says_backfill_required_when_products_have_no_index(catalog_settings):
    seed_products(catalog_settings, 30, forget_events=True)

    result = catalog("status")

    assert result.exit_code == 0, result.output
    assert "backfill required: no index yet" in result.output
    assert "table_rows:" in result.output and "30" in result.output
    assert "tailer is down" in result.output
