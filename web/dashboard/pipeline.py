"""The pipeline's own lag for the dashboard, from the same figures `catalog status` shows
(cdc.status). Anything missing reads as "unknown" rather than breaking the page."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from shared.settings import Settings

log = logging.getLogger(__name__)
# The status reads SQLite and Redis; a dashboard polled by many tabs reuses it briefly.
CACHE_SECONDS = 1.0
_cache: dict[Settings, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()


def pipeline_lag(settings: Settings) -> dict[str, Any]:
    now = time.monotonic()
    cached = _cache.get(settings)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    with _lock:
        value = _read(settings)
        _cache.clear()  # one entry: tests switch settings often, production never
        _cache[settings] = (now, value)
    return value


def _read(settings: Settings) -> dict[str, Any]:
    try:
        from cdc.status import cdc_status

        status = cdc_status(settings)
    except Exception as exc:  # the dashboard must render whatever the pipeline's state
        log.warning("pipeline status unavailable: %s", exc)
        return {"known": False, "reason": f"status unavailable ({type(exc).__name__})"}
    return summarize(status)


def summarize(status: dict[str, Any]) -> dict[str, Any]:
    """The few figures a person watching the dashboard wants: is search behind, by how much."""
    if not status.get("installed"):
        return {"known": False, "reason": status.get("note", "change capture not installed")}
    if "redis_error" in status:
        return {"known": False, "reason": "Redis unreachable",
                "changelog_head_seq": status.get("changelog_head_seq")}
    groups = {
        name: {"lag_events": g.get("lag_events"), "pending": g.get("pending"),
               "oldest_unacked_age_s": g.get("oldest_unacked_age_s")}
        for name, g in (status.get("groups") or {}).items() if g.get("exists", True)
    }
    return {
        "known": True,
        "changelog_head_seq": status.get("changelog_head_seq"),
        "publish_lag_events": status.get("publish_lag_events"),
        "backfill_required": bool(status.get("backfill_required")),
        "groups": groups,
    }
