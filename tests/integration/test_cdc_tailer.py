"""The tailer as a real process against real SQLite and Redis: publish, wake-ups, retention,
the lock, graceful stop, status."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest
from click.testing import CliRunner

from cdc import changelog, stream
from cdc.status import cdc_status
from shared.cli import main as catalog
from shared.events import ChangeEvent
from shared.names import CONSUMER_GROUPS
from tests.cdc_support import (
    changelog_rows,
    stream_events,
    writer_argv,
)
from tests.waiting import wait_until
from web.products.models import Product

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")


def _stream_len(redis_client, names) -> int:
    return redis_client.xlen(names.changes_stream) if redis_client.exists(
        names.changes_stream) else 0


def _save(n: int, **fields) -> Product:
    p = Product(title=f"p{n}", image_url=f"http://127.0.0.1/{n}.png", **fields)
    p.save()
    return p


def test_tailer_publishes_every_change_with_seq_entry_ids(
    daemons, redis_client, names, clean_changelog
):
    _save(1, thumbnails={"64": "/m/1.webp"})
    tailer = daemons.catalog("cdc", "run")
    wait_until(lambda: _stream_len(redis_client, names) == 1, message=tailer.output())
    p = _save(2)
    Product.objects.filter(pk=p.pk).update(title="two")
    p.delete()
    wait_until(lambda: _stream_len(redis_client, names) == 4, message=tailer.output())

    published = stream_events(redis_client, names.changes_stream)
    assert published == changelog_rows(clean_changelog)
    entry_ids = [eid for eid, _ in redis_client.xrange(names.changes_stream)]
    assert entry_ids == ["1-0", "2-0", "3-0", "4-0"]
    assert published[0].row["thumbnails"] == {"64": "/m/1.webp"}
    assert [e.op for e in published] == ["insert", "insert", "update", "delete"]
    groups = {g["name"] for g in redis_client.xinfo_groups(names.changes_stream)}
    assert groups == set(CONSUMER_GROUPS)  # created at 0, so no consumer misses early events


def test_file_events_wake_the_tailer_long_before_the_poll_interval(
    daemons, redis_client, names, monkeypatch
):
    tailer = daemons.catalog("cdc", "run", CDC_POLL_INTERVAL="30")
    wait_until(lambda: redis_client.exists(names.changes_stream), message=tailer.output())
    for n in range(5):
        _save(n)
        # 30 s poll: only the watchdog wake-up can make this within 2 s
        wait_until(lambda n=n: _stream_len(redis_client, names) == n + 1, timeout=2,
                   message=tailer.output())


def test_entries_already_on_the_stream_are_not_published_twice(
    daemons, redis_client, names, clean_changelog
):
    for n in range(5):
        _save(n)
    # As if a previous tailer died after XADD of seqs 1..3 and before anything else.
    stream.create(redis_client, names.changes_stream)
    stream.publish(redis_client, names.changes_stream, _entries(clean_changelog)[:3], 0)
    tailer = daemons.catalog("cdc", "run")
    wait_until(lambda: _stream_len(redis_client, names) == 5, message=tailer.output())
    assert stream_events(redis_client, names.changes_stream) == changelog_rows(clean_changelog)


def test_publish_skips_entries_already_there_and_refuses_a_lost_or_recreated_stream(
    redis_client, names, clean_changelog
):
    for n in range(4):
        _save(n)
    events = _entries(clean_changelog)
    s = names.changes_stream
    stream.create(redis_client, s)
    assert stream.publish(redis_client, s, events[:2], 0) == (2, 0)
    assert stream.publish(redis_client, s, events, 2) == (2, 2)
    redis_client.delete(s)
    with pytest.raises(stream.StreamMissing):
        stream.publish(redis_client, s, events, 4)
    assert not redis_client.exists(s)  # nothing started a new stream in the middle
    # A consumer recreating the stream empty (XGROUP CREATE MKSTREAM) is noticed too.
    redis_client.xgroup_create(s, "indexer", id="0", mkstream=True)
    with pytest.raises(stream.StreamMissing, match="below published seq 4"):
        stream.publish(redis_client, s, events[3:], 4)
    assert redis_client.xlen(s) == 0


def _entries(conn) -> list[tuple[int, dict[str, str]]]:
    return [changelog.to_entry(tuple(r)) for r in changelog.read_after(conn, 0, 10**6)]


def test_second_tailer_refuses_to_start(daemons, redis_client, names):
    first = daemons.catalog("cdc", "run")
    wait_until(lambda: redis_client.exists(names.changes_stream), message=first.output())
    second = daemons.catalog("cdc", "run")
    wait_until(lambda: not second.alive(), timeout=30)
    assert second.proc.returncode == 1
    assert "another tailer" in second.output() and "already running" in second.output()
    assert first.alive()


def test_sigterm_finishes_the_batch_and_exits_zero(
    daemons, redis_client, names, clean_changelog, catalog_settings
):
    tailer = daemons.catalog("cdc", "run", CDC_BATCH_SIZE="50")
    writer = subprocess.Popen(writer_argv(catalog_settings.database, 1000, "w", per_txn=5))
    wait_until(lambda: _stream_len(redis_client, names) > 100, message=tailer.output())
    assert tailer.stop(timeout=30) == 0
    assert writer.wait(timeout=120) == 0
    published = stream_events(redis_client, names.changes_stream)
    assert published == changelog_rows(clean_changelog)[: len(published)]  # a prefix, in order
    assert "stopping after the batch in flight" in tailer.output()
    # position recorded in SQLite at exit equals the stream's top
    recorded = clean_changelog.execute(
        "SELECT seq FROM cdc_position WHERE stream = ?", (names.changes_stream,)).fetchone()[0]
    assert recorded == published[-1].seq


def _consume_all(redis_client, names, group: str) -> int:
    got = redis_client.xreadgroup(group, "test", {names.changes_stream: ">"}, count=10_000)
    ids = [eid for _, entries in got for eid, _ in entries]
    if ids:
        redis_client.xack(names.changes_stream, group, *ids)
    return len(ids)


def test_retention_prunes_only_what_every_group_acknowledged(
    daemons, redis_client, names, clean_changelog
):
    for n in range(10):
        _save(n)
    tailer = daemons.catalog("cdc", "run", CHANGELOG_RETENTION_SECONDS="0")
    wait_until(lambda: _stream_len(redis_client, names) == 10, message=tailer.output())
    _consume_all(redis_client, names, "indexer")  # thumbnails has acknowledged nothing
    for n in range(10, 13):
        _save(n)
    wait_until(lambda: _stream_len(redis_client, names) == 13, message=tailer.output())

    def position_written() -> int:
        return clean_changelog.execute("SELECT updated_ms FROM cdc_position").fetchone()[0]

    # The position no longer moves, so the next write to its row is a prune pass.
    before = position_written()
    wait_until(lambda: position_written() > before, timeout=10, message=tailer.output())
    assert changelog.floor(clean_changelog) == 1  # nothing pruned: thumbnails lags

    got = redis_client.xreadgroup("thumbnails", "test", {names.changes_stream: ">"}, count=8)
    ids = [eid for _, entries in got for eid, _ in entries]
    redis_client.xack(names.changes_stream, "thumbnails", *ids[:5])  # 6..8 stay pending
    wait_until(lambda: changelog.floor(clean_changelog) == 6, timeout=10, message=tailer.output())
    first_id = redis_client.xrange(names.changes_stream, count=1)[0][0]
    assert first_id == "6-0"
    status = cdc_status(_settings_now())
    assert status["retention_floor_seq"] == 6
    assert status["groups"]["thumbnails"]["pending"] == 3
    assert status["groups"]["thumbnails"]["acked_seq"] == 5
    assert status["groups"]["indexer"]["acked_seq"] == 10


def _settings_now():
    from shared import settings

    return settings.load()


def test_status_reports_head_position_and_group_lag(daemons, redis_client, names):
    for n in range(4):
        _save(n)
    tailer = daemons.catalog("cdc", "run")
    wait_until(lambda: _stream_len(redis_client, names) == 4, message=tailer.output())
    redis_client.xreadgroup("indexer", "c1", {names.changes_stream: ">"}, count=1)  # pending 1
    result = CliRunner().invoke(catalog, ["status", "--json"])
    assert result.exit_code == 0, result.output
    cdc = json.loads(result.output)["cdc"]
    assert cdc["changelog_head_seq"] == 4 and cdc["published_seq"] == 4
    assert cdc["publish_lag_events"] == 0 and cdc["backfill_required"] is False
    assert cdc["triggers_missing"] == []
    indexer = cdc["groups"]["indexer"]
    assert (indexer["pending"], indexer["acked_seq"], indexer["lag_events"]) == (1, 0, 4)
    assert indexer["oldest_unacked_age_s"] >= 0
    text = CliRunner().invoke(catalog, ["status"]).output
    assert "changelog_head_seq:" in text and "thumbnails:" in text


def test_metrics_endpoint_reports_published_position(daemons, redis_client, names):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _save(1)
    tailer = daemons.catalog("cdc", "run", METRICS_PORT=str(port))
    wait_until(lambda: _stream_len(redis_client, names) == 1, message=tailer.output())

    def published_metric() -> bool:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
        except OSError:
            return False
        return b"catalog_cdc_published_seq 1.0" in body

    wait_until(published_metric, timeout=10, message=tailer.output())


def test_unusual_values_reach_the_stream_exactly(daemons, redis_client, names):
    title = "Ünïcødé “quotes” 'single' \"double\" \\ back 😀 " + "x" * 56
    assert len(title) == 100
    description = "line\nbreak\ttab «ü» \"q\" \\ \u2028 </script> " * 10_000  # ~400 kB
    thumbnails = {"64": "/m/ü 64.webp", "nested": {"list": [1, None, True, "«»"]}}
    p = Product(title=title, image_url="http://127.0.0.1/ü.png", description=description,
                price=None, category="", thumbnails=thumbnails)
    p.save()
    tailer = daemons.catalog("cdc", "run")
    wait_until(lambda: _stream_len(redis_client, names) == 1, message=tailer.output())
    (eid, fields), = redis_client.xrange(names.changes_stream)
    event = ChangeEvent.from_entry(eid, fields)
    stored = Product.objects.get(pk=p.pk)
    assert event.seq == 1 and event.pk == str(p.pk)
    assert event.row["title"] == stored.title == title
    assert event.row["description"] == stored.description == description
    assert event.row["image_url"] == "http://127.0.0.1/ü.png"
    assert event.row["price"] is None and event.row["category"] == ""
    assert event.row["thumbnails"] == stored.thumbnails == thumbnails


def test_sigint_also_stops_gracefully(daemons, redis_client, names):
    import os
    import signal

    _save(1)
    tailer = daemons.catalog("cdc", "run")
    wait_until(lambda: _stream_len(redis_client, names) == 1, message=tailer.output())
    os.killpg(tailer.pid, signal.SIGINT)
    assert tailer.proc.wait(timeout=30) == 0
    assert "stopped at seq 1" in tailer.output()


def test_status_keeps_sqlite_figures_when_redis_is_down(catalog_settings):
    from tests.conftest import with_settings

    _save(1)
    status = cdc_status(with_settings(catalog_settings, redis_url="redis://127.0.0.1:1/0"))
    assert status["changelog_head_seq"] == 1 and status["retention_floor_seq"] == 1
    assert "redis_error" in status and "groups" not in status


def test_polling_alone_publishes_when_file_events_never_come(catalog_settings, redis_client,
                                                             names):
    import threading

    from cdc.tailer import Tailer

    tailer = Tailer(catalog_settings)  # CDC_POLL_INTERVAL=0.2 in tests
    tailer.wakeup.start = lambda: tailer.wakeup  # no watchdog observer: only the poll timer
    thread = threading.Thread(target=tailer.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: redis_client.exists(names.changes_stream))
        assert tailer.wakeup.observer is None
        for n in range(3):
            _save(n)
            wait_until(lambda n=n: _stream_len(redis_client, names) == n + 1, timeout=5)
    finally:
        tailer.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
