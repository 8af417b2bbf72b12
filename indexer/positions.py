"""Where the pipeline stands: the changelog head in SQLite, and how far the indexer got.

Backfill, reindex and verify compare the two: a snapshot read at changelog head S is
complete in Elasticsearch once the indexer group has acknowledged every entry up to S.
The definitions live in cdc/ (changelog.head, stream.groups); this adds the waiting.
"""

from __future__ import annotations

import sqlite3
import time

import redis

from cdc import changelog, stream
from shared.names import INDEXER_GROUP, Names


def changelog_head(conn: sqlite3.Connection) -> int:
    """The highest changelog seq ever assigned; 0 without CDC installed.

    Read inside the same read transaction as the rows it describes.
    """
    try:
        return changelog.head(conn)
    except sqlite3.OperationalError:  # no AUTOINCREMENT table at all yet
        return 0


def indexer_position(r: redis.Redis, names: Names) -> int | None:
    """Highest seq up to which the indexer group acknowledged everything; None when the
    group does not exist (no stream yet, or no indexer ever started)."""
    state = stream.groups(r, names.changes_stream, (INDEXER_GROUP,))[0]
    return state.acked_seq if state.exists else None


def wait_for_position(
    r: redis.Redis, names: Names, seq: int, timeout: float, interval: float = 0.2
) -> bool:
    """Wait until the indexer has acknowledged `seq`; False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        position = indexer_position(r, names)
        if seq <= 0 or (position is not None and position >= seq):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
