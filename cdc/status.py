"""The CDC figures `catalog status` shows: how far the changelog, the stream and each group are.

SQLite figures are always there; Redis figures say why they are missing when Redis is down.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import redis

from cdc import changelog, position, stream
from shared import redis_client
from shared import sqlite as db
from shared.names import Names
from shared.settings import Settings


def cdc_status(settings: Settings) -> dict[str, Any]:
    """{head, published, lag, retention floor, backfill flag, groups: {name: {...}}}."""
    names = Names.from_settings(settings)
    if not settings.database.exists():
        return {"installed": False, "note": f"no database at {settings.database}"}
    conn = db.connect(settings.database, readonly=True)
    try:
        return _collect(conn, names, settings)
    finally:
        conn.close()


def _collect(conn: sqlite3.Connection, names: Names, settings: Settings) -> dict[str, Any]:
    if not _has_changelog(conn):
        return {"installed": False, "note": "no changelog: run migrate or `catalog cdc install`"}
    head = changelog.head(conn)
    floor = changelog.floor(conn)
    recorded = position.load(conn, names.changes_stream)
    out: dict[str, Any] = {
        "installed": True,
        "stream": names.changes_stream,
        "changelog_head_seq": head,
        "retention_floor_seq": floor,
        "retained_rows": conn.execute("SELECT COUNT(*) FROM cdc_changelog").fetchone()[0],
        "recorded_position_seq": recorded.seq,
        "backfill_required": recorded.backfill_required,
        "triggers_missing": _missing_triggers(conn, settings.tracked_tables),
    }
    if recorded.note:
        out["backfill_note"] = recorded.note
    try:
        r = redis_client.connect(settings, timeout=2.0)
        top = stream.top_seq(r, names.changes_stream)
        groups = stream.groups(r, names.changes_stream) if top is not None else []
    except redis.RedisError as exc:
        out["redis_error"] = str(exc)
        return out
    published = top or 0
    out["published_seq"] = top
    out["publish_lag_events"] = max(0, head - published)
    now_ms = int(time.time() * 1000)
    out["groups"] = {
        g.name: _group_figures(conn, g, head, now_ms) for g in groups
    } or {"(stream missing)": {"exists": False}}
    return out


def _group_figures(conn: sqlite3.Connection, g: stream.GroupState, head: int,
                   now_ms: int) -> dict[str, Any]:
    oldest_ts = changelog.ts_of(conn, g.acked_seq + 1) if g.acked_seq < head else None
    return {
        "exists": g.exists,
        "acked_seq": g.acked_seq,
        "pending": g.pending,
        "lag_events": max(0, head - g.acked_seq),
        "oldest_unacked_age_s": round((now_ms - oldest_ts) / 1000, 3) if oldest_ts else None,
    }


def _missing_triggers(conn: sqlite3.Connection, tables: list[str]) -> list[str]:
    """Triggers that should exist and do not (writes to their table go uncaptured)."""
    have = set(changelog.installed_triggers(conn.cursor()))
    wanted = [changelog.trigger_name(t, op) for t in tables for op in changelog.TRIGGER_OPS]
    return [name for name in wanted if name not in have]


def _has_changelog(conn: sqlite3.Connection) -> bool:
    return conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='cdc_changelog'"
    ).fetchone() is not None
