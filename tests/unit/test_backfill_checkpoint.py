"""Backfill's checkpoint on a real SQLite file: resumable ids, recorded only once durable."""

from __future__ import annotations

from indexer.backfill import Checkpoint, Watermark
from shared import sqlite
from tests.waiting import wait_until


def test_checkpoint_records_each_advance_at_once_when_writes_are_durable(tmp_path):
    conn = sqlite.connect(tmp_path / "c.sqlite3")
    checkpoint = Checkpoint(conn, "products-v1")

    checkpoint.advance(500, snapshot_seq=42)

    assert checkpoint.load() == 500
    assert Checkpoint(conn, "products-v2").load() == 0  # per set of targets
    checkpoint.clear()
    assert checkpoint.load() == 0


def test_checkpoint_with_async_translog_records_an_id_only_after_the_sync_delay(tmp_path):
    conn = sqlite.connect(tmp_path / "c.sqlite3")
    checkpoint = Checkpoint(conn, "products-v1", durable_after=0.3)

    checkpoint.advance(100, snapshot_seq=7)
    checkpoint.advance(200, snapshot_seq=7)

    assert checkpoint.load() == 0  # acknowledged, but maybe not yet on disk
    # Later advances record the newest id acknowledged at least 0.3 s ago, never a newer one.
    wait_until(lambda: checkpoint.advance(300, 7) or checkpoint.load() >= 200, timeout=5)
    assert checkpoint.load() in (200, 300)


def test_watermark_passes_only_ids_whose_chunk_and_every_earlier_one_finished():
    watermark = Watermark(acknowledged=100)  # resumed after id 100
    for last_id in (200, 300, 400, 500):
        watermark.start(last_id)

    watermark.finish(300)  # a later chunk first: the one before it may still fail
    watermark.finish(500)
    assert watermark.acknowledged == 100

    watermark.finish(200)
    assert watermark.acknowledged == 300
    watermark.finish(400)
    assert watermark.acknowledged == 500
    assert not watermark.started and not watermark.finished  # nothing kept once passed
