"""Figures `catalog status` adds for the sync side: daemon liveness, the index against the
table, the DLQ, whether a backfill is required, and a one-line verdict on top."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from elasticsearch import Elasticsearch

from indexer.backfill import CHECKPOINT_TABLE, PRODUCTS_TABLE
from indexer.status import index_status
from shared import heartbeat, redis_client
from shared import sqlite as db
from shared.names import Names
from shared.settings import Settings

# The daemons a running system has; each beats under heartbeat:<daemon>:<consumer>.
EXPECTED_DAEMONS = ("tailer", "indexer", "thumbnails")


def daemons(settings: Settings) -> dict[str, Any]:
    """{"tailer": "up (pid 12 on host, beat 2s ago)" | "DOWN", ...}."""
    r = redis_client.connect(settings, timeout=2.0)
    beats = heartbeat.alive(r, Names.from_settings(settings))
    now = time.time()
    out: dict[str, Any] = {}
    for daemon in sorted({*EXPECTED_DAEMONS, *(name.split("/")[0] for name in beats)}):
        mine = {name: b for name, b in beats.items() if name.split("/")[0] == daemon}
        if not mine:
            out[daemon] = "DOWN"
            continue
        out[daemon] = ", ".join(
            f"up (pid {b.get('pid')} on {b.get('host')}, beat {now - b.get('at', now):.0f}s ago)"
            for b in mine.values()
        )
    return out


def index_vs_table(settings: Settings) -> dict[str, Any]:
    names = Names.from_settings(settings)
    es = Elasticsearch(settings.elasticsearch_url, request_timeout=5)
    try:
        figures = index_status(es, redis_client.connect(settings, timeout=2.0), names)
    finally:
        es.close()
    rows, checkpoint = table_figures(settings)
    figures["table_rows"] = rows
    if "live_documents" in figures and rows is not None:
        figures["documents_minus_rows"] = figures["live_documents"] - rows
    if checkpoint:
        figures["interrupted_backfill"] = checkpoint
    return figures


def table_figures(settings: Settings) -> tuple[int | None, str | None]:
    conn = db.connect(settings.database, readonly=True)
    try:
        rows = conn.execute(f"SELECT count(*) FROM {PRODUCTS_TABLE}").fetchone()[0]
        try:
            cp = conn.execute(f"SELECT target, last_id FROM {CHECKPOINT_TABLE}").fetchone()
        except sqlite3.OperationalError:  # no backfill ever ran here
            cp = None
    except sqlite3.OperationalError:
        return None, None
    finally:
        conn.close()
    return rows, (f"{cp[0]} stopped after id {cp[1]}: rerun `catalog backfill`" if cp else None)


def verdict(report: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What needs a human, from the other sections: empty means all is well."""
    problems = [f"{d} is down" for d, state in report.get("daemons", {}).items()
                if state == "DOWN"]
    cdc = report.get("cdc", {})
    index = report.get("index", {})
    if cdc.get("backfill_required"):
        problems.append("backfill required: " + (cdc.get("backfill_note") or "events were lost"))
    if index.get("interrupted_backfill"):
        problems.append("interrupted backfill: " + index["interrupted_backfill"])
    if "read_index" in index and index["read_index"] is None and index.get("table_rows"):
        problems.append("backfill required: no index yet for the table's products "
                        "(`catalog backfill`)")
    if index.get("dlq_length"):
        problems.append(f"{index['dlq_length']} dead letter(s): `catalog dlq list`")
    if index.get("read_index") and index.get("documents_minus_rows"):
        problems.append(f"index and table differ by {index['documents_minus_rows']} "
                        "(in flight, or drift: `catalog verify`)")
    for group, figures in (cdc.get("groups") or {}).items():
        age = figures.get("oldest_unacked_age_s") if isinstance(figures, dict) else None
        if age and age > 60:
            problems.append(f"group {group} is {figures.get('lag_events')} events / {age:.0f}s "
                            "behind")
    errors = [f"{title}: {s['error']}" for title, s in report.items()
              if isinstance(s, dict) and "error" in s]
    return {"ok": not (problems or errors), "problems": "; ".join(problems + errors) or None}
