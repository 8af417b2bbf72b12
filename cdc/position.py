"""The tailer's own record in SQLite, one row per stream name.

The stream's top ID is the authoritative position; this copy exists because Redis is not
the source of truth: when Redis comes back without the stream, this row says how far we
had published and what every consumer group had acknowledged, so the tailer can tell
"republish the retained changelog" from "rows were pruned: backfill required".
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from shared import sqlite as db

SCHEMA = """
CREATE TABLE IF NOT EXISTS cdc_position (
    stream TEXT PRIMARY KEY,
    seq INTEGER NOT NULL DEFAULT 0,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    backfill_required INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    updated_ms INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class Position:
    stream: str
    seq: int = 0  # highest seq known published
    acked_seq: int = 0  # highest seq every consumer group had acknowledged
    backfill_required: bool = False
    note: str = ""
    updated_ms: int = 0


def load(conn: sqlite3.Connection, stream: str) -> Position:
    row = conn.execute(
        "SELECT stream, seq, acked_seq, backfill_required, note, updated_ms "
        "FROM cdc_position WHERE stream = ?",
        (stream,),
    ).fetchone()
    if row is None:
        return Position(stream=stream)
    return Position(row[0], row[1], row[2], bool(row[3]), row[4], row[5])


def record(conn: sqlite3.Connection, stream: str, *, seq: int | None = None,
           acked_seq: int | None = None) -> None:
    """Raise the recorded published/acknowledged seqs (never lowers them)."""
    with db.write(conn):
        _ensure_row(conn, stream)
        if seq is not None:
            conn.execute("UPDATE cdc_position SET seq = MAX(seq, ?) WHERE stream = ?",
                         (seq, stream))
        if acked_seq is not None:
            conn.execute("UPDATE cdc_position SET acked_seq = MAX(acked_seq, ?) WHERE stream = ?",
                         (acked_seq, stream))
        conn.execute("UPDATE cdc_position SET updated_ms = ? WHERE stream = ?",
                     (int(time.time() * 1000), stream))


def flag_backfill(conn: sqlite3.Connection, stream: str, note: str) -> None:
    with db.write(conn):
        _ensure_row(conn, stream)
        conn.execute("UPDATE cdc_position SET backfill_required = 1, note = ? WHERE stream = ?",
                     (note, stream))


def clear_backfill(conn: sqlite3.Connection, stream: str) -> None:
    """Called once a backfill has rebuilt the consumers' state."""
    with db.write(conn):
        conn.execute("UPDATE cdc_position SET backfill_required = 0, note = '' WHERE stream = ?",
                     (stream,))


def _ensure_row(conn: sqlite3.Connection, stream: str) -> None:
    conn.execute("INSERT OR IGNORE INTO cdc_position (stream) VALUES (?)", (stream,))
