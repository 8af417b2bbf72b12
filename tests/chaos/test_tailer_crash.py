"""Invariant 2: kill -9 the tailer at random instants during 10,000+ writes, many times;
the stream ends up holding every changelog row exactly once, in seq order, no gaps."""

from __future__ import annotations

import random
import subprocess
import time

import pytest

from cdc import changelog
from tests.cdc_support import changelog_rows, stream_events, writer_argv
from tests.waiting import wait_until

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = [pytest.mark.chaos, pytest.mark.usefixtures("clean_changelog")]

WRITERS = 3
ROWS_PER_WRITER = 3_400  # + updates (1/3) and deletes (1/7): ~15,000 events in all
MIN_KILLS = 20


def test_kill_9_at_random_points_loses_nothing_and_duplicates_nothing(
    daemons, redis_client, names, clean_changelog, catalog_settings
):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    writers = [
        subprocess.Popen(writer_argv(catalog_settings.database, ROWS_PER_WRITER, f"w{i}",
                                     per_txn=rng.choice((1, 2, 5)), pause=0.002))
        for i in range(WRITERS)
    ]
    kills = 0
    lengths_at_kill = [0]
    while kills < MIN_KILLS or any(w.poll() is None for w in writers):
        # Small batches: more publish/record boundaries for a kill to land between.
        tailer = daemons.catalog("cdc", "run", CDC_BATCH_SIZE=str(rng.choice((20, 100, 500))))
        # Kill while it publishes: once it has made progress, at a random instant after.
        wait_until(lambda: _length(redis_client, names) > lengths_at_kill[-1]
                   or _length(redis_client, names) == changelog.head(clean_changelog),
                   timeout=30,
                   interval=0.005, message=tailer.output())
        time.sleep(rng.uniform(0, 0.1))  # the random instant of the kill, not a wait
        tailer.kill()
        kills += 1
        lengths_at_kill.append(_length(redis_client, names))
    print("stream length at each kill:", lengths_at_kill)
    assert [w.wait(timeout=120) for w in writers] == [0] * WRITERS

    final = daemons.catalog("cdc", "run")
    expected = changelog_rows(clean_changelog)
    assert len(expected) >= 10_000
    wait_until(lambda: redis_client.exists(names.changes_stream)
               and redis_client.xlen(names.changes_stream) >= len(expected),
               timeout=60, message=final.output())
    published = stream_events(redis_client, names.changes_stream)
    assert [e.seq for e in published] == list(range(1, len(expected) + 1)), f"seed {seed}"
    assert published == expected, f"seed {seed}"
    # many kills really landed mid-stream, with the tailer part way through the changelog
    mid_stream = {n for n in lengths_at_kill if 0 < n < len(expected)}
    assert len(mid_stream) >= 5, lengths_at_kill


def _length(redis_client, names) -> int:
    stream = names.changes_stream
    return redis_client.xlen(stream) if redis_client.exists(stream) else 0
