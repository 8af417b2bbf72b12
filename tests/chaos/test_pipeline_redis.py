"""Invariant 7 end to end: Redis is killed under a running tailer and indexer while products
are being written, and comes back empty. Nothing is lost: once the pipeline catches up,
`catalog verify` finds the index equal to SQLite.

Redis here is a private redis-server (tests/cdc_fixtures.py); the shared one is never stopped.
"""

from __future__ import annotations

import pytest
import redis

from shared.names import Names
from tests.cdc_support import writer_argv
from tests.sync_support import catalog, product_ids, wait_indexer_caught_up
from tests.waiting import wait_until

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog, private_redis
pytestmark = [pytest.mark.chaos, pytest.mark.usefixtures("clean_changelog")]


def _count(settings) -> int:
    return len(product_ids(settings))


def test_redis_killed_under_the_pipeline_during_writes_and_back_empty_loses_nothing(
    daemons, private_redis, catalog_settings
):
    r = redis.Redis.from_url(private_redis.url, decode_responses=True)
    tailer = daemons.catalog("cdc", "run")
    indexer = daemons.catalog("indexer", "run")
    writer = daemons.spawn(writer_argv(catalog_settings.database, 1500, "chaos", pause=0.002),
                           "writer")
    wait_until(lambda: _count(catalog_settings) > 200, timeout=60, message=writer.output())
    wait_until(lambda: r.xinfo_groups(Names.from_settings(catalog_settings).changes_stream),
               timeout=30, message=indexer.output())

    private_redis.kill()
    killed_at = _count(catalog_settings)
    # Writes go on while Redis is down: SQLite alone takes them.
    wait_until(lambda: _count(catalog_settings) > killed_at + 150, timeout=60,
               message=writer.output())
    # Both daemons notice and wait (the indexer's blocking read fails when it returns).
    wait_until(lambda: "Redis unavailable" in tailer.output(), timeout=20,
               message=tailer.output())
    wait_until(lambda: "indexer: redis:" in indexer.output(), timeout=20,
               message=indexer.output())
    assert tailer.alive() and indexer.alive()

    private_redis.start()  # no persistence: it comes back empty
    wait_until(lambda: not writer.alive(), timeout=120, message=writer.output())
    assert writer.proc.returncode == 0, writer.output()
    wait_indexer_caught_up(r, catalog_settings, timeout=120)

    assert "REDIS LOST" in tailer.output(), tailer.output()  # said loudly, then republished
    assert tailer.alive() and indexer.alive(), indexer.output()[-3000:]
    assert r.xlen(Names.from_settings(catalog_settings).dlq_stream) == 0
    result = catalog("verify", "--wait", "10")
    assert result.exit_code == 0, result.output
    assert "in sync" in result.output
