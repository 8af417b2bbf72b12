"""Invariant 7: Redis is not the source of truth. Down → the tailer waits; back empty → it
republishes the retained changelog, or says a backfill is required when rows are gone.

Each test runs its own redis-server (tests/cdc_fixtures.py): the shared one is never stopped.
"""

from __future__ import annotations

import subprocess

import pytest
import redis

from cdc.status import cdc_status
from shared import settings as catalog_settings_module
from tests.cdc_support import changelog_rows, stream_events, writer_argv
from tests.waiting import wait_until

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog, private_redis
pytestmark = [pytest.mark.chaos, pytest.mark.usefixtures("clean_changelog")]


def _length(r: redis.Redis, stream: str) -> int:
    try:
        return r.xlen(stream)
    except redis.ConnectionError:
        return -1


def _write(settings, count: int, tag: str) -> None:
    subprocess.run(writer_argv(settings.database, count, tag, per_txn=5), check=True, timeout=120)


def test_redis_down_then_back_empty_republishes_everything_retained(
    daemons, private_redis, names, clean_changelog, catalog_settings
):
    r = redis.Redis.from_url(private_redis.url, decode_responses=True)
    tailer = daemons.catalog("cdc", "run")
    _write(catalog_settings, 300, "before")
    wait_until(lambda: _length(r, names.changes_stream) == len(changelog_rows(clean_changelog)),
               message=tailer.output())

    private_redis.kill()
    _write(catalog_settings, 300, "during")  # committed while Redis is down
    wait_until(lambda: "Redis unavailable" in tailer.output(), timeout=10, message=tailer.output())
    assert tailer.alive()

    private_redis.start()  # no persistence: it comes back empty
    expected = changelog_rows(clean_changelog)
    wait_until(lambda: _length(r, names.changes_stream) == len(expected), timeout=30,
               message=tailer.output())
    assert "REDIS LOST THE STREAM" in tailer.output()
    assert stream_events(r, names.changes_stream) == expected

    # A consumer group (recreated at 0 by the tailer) now sees the whole retained history.
    got = r.xreadgroup("indexer", "c", {names.changes_stream: ">"}, count=100_000)
    assert [eid for _, entries in got for eid, _ in entries] == [e.entry_id for e in expected]
    assert cdc_status(catalog_settings_module.load())["backfill_required"] is False


def _ack_everything(r: redis.Redis, stream: str) -> None:
    for group in ("indexer", "thumbnails"):
        got = r.xreadgroup(group, "c", {stream: ">"}, count=100_000)
        ids = [eid for _, entries in got for eid, _ in entries]
        if ids:
            r.xack(stream, group, *ids)


def test_rows_pruned_before_consumers_had_them_flag_backfill_required(
    daemons, private_redis, names, clean_changelog, catalog_settings
):
    r = redis.Redis.from_url(private_redis.url, decode_responses=True)
    stream = names.changes_stream
    tailer = daemons.catalog("cdc", "run", CHANGELOG_RETENTION_SECONDS="0")
    _write(catalog_settings, 20, "acked")  # 20 inserts, 7 updates, 3 deletes: seq 1..30
    wait_until(lambda: _length(r, stream) == 30, message=tailer.output())
    _ack_everything(r, stream)
    # Everything acknowledged and older than 0 s: pruned from the changelog and the stream.
    wait_until(lambda: not changelog_rows(clean_changelog), timeout=15, message=tailer.output())
    wait_until(lambda: _length(r, stream) == 0, timeout=15, message=tailer.output())

    _write(catalog_settings, 6, "later")  # seq 31..: not acknowledged by anyone
    later = changelog_rows(clean_changelog)
    wait_until(lambda: _length(r, stream) == len(later), message=tailer.output())

    # Redis loses everything, and (as if by a careless manual prune) the first two
    # unacknowledged rows are gone too: nobody can republish them.
    private_redis.kill()
    clean_changelog.execute("DELETE FROM cdc_changelog WHERE seq <= ?", (later[1].seq,))
    private_redis.start()
    wait_until(lambda: _length(r, stream) == len(later) - 2, timeout=30, message=tailer.output())
    assert "BACKFILL REQUIRED" in tailer.output()
    status = cdc_status(catalog_settings_module.load())
    assert status["backfill_required"] is True
    assert f"{later[0].seq}..{later[1].seq}" in status["backfill_note"]
    assert [e.seq for e in stream_events(r, stream)] == [e.seq for e in later[2:]]


def test_tailer_started_while_redis_is_down_publishes_once_it_is_up(
    daemons, private_redis, names, clean_changelog, catalog_settings
):
    r = redis.Redis.from_url(private_redis.url, decode_responses=True)
    private_redis.kill()
    _write(catalog_settings, 50, "early")
    tailer = daemons.catalog("cdc", "run")
    wait_until(lambda: "Redis unavailable" in tailer.output(), timeout=20, message=tailer.output())
    private_redis.start()
    expected = changelog_rows(clean_changelog)
    wait_until(lambda: _length(r, names.changes_stream) == len(expected), timeout=30,
               message=tailer.output())
    assert stream_events(r, names.changes_stream) == expected
    assert "REDIS LOST" not in tailer.output()  # nothing had been published: not a loss
    assert tailer.stop() == 0
