"""Index figures for `catalog status`: where the read alias points, live documents,
write targets, the indexer group's lag and the DLQ length."""

from __future__ import annotations

from typing import Any

import redis
from elasticsearch import Elasticsearch

from indexer.index import read_index, write_targets
from shared import heartbeat
from shared.names import INDEXER_GROUP, Names


def index_status(es: Elasticsearch, r: redis.Redis, names: Names) -> dict[str, Any]:
    """A dict of plain values; a service that does not answer gives its error instead."""
    out: dict[str, Any] = {"read_alias": names.index_alias}
    try:
        out["read_index"] = read_index(es, names)
        out["write_targets"] = write_targets(es, names)
        # Counting through the read alias applies its filter: tombstones are not counted.
        out["live_documents"] = (
            es.count(index=names.index_alias)["count"] if out["read_index"] else 0
        )
    except Exception as exc:  # status reports a sick service, it does not fail on one
        out["elasticsearch_error"] = f"{type(exc).__name__}: {exc}"
    try:
        out["dlq_length"] = r.xlen(names.dlq_stream)
        out.update(group_figures(r, names))
        out.update(indexer_figures(r, names))
    except redis.RedisError as exc:
        out["redis_error"] = f"{type(exc).__name__}: {exc}"
    return out


def group_figures(r: redis.Redis, names: Names) -> dict[str, Any]:
    """The indexer group's pending/lag and its consumers (empty before the first start)."""
    try:
        groups = r.xinfo_groups(names.changes_stream)
    except redis.ResponseError:  # no stream yet
        return {"indexer_group": None}
    for g in groups:
        if _text(g.get("name")) == INDEXER_GROUP:
            consumers = r.xinfo_consumers(names.changes_stream, INDEXER_GROUP)
            return {
                "indexer_group": INDEXER_GROUP,
                "pending": int(g.get("pending") or 0),
                "undelivered": int(g["lag"]) if g.get("lag") is not None else None,
                "last_delivered_id": _text(g.get("last-delivered-id")),
                "consumers": [
                    {"name": _text(c.get("name")), "pending": int(c.get("pending") or 0),
                     "idle_ms": int(c.get("idle") or 0)}
                    for c in consumers
                ],
            }
    return {"indexer_group": None}


def indexer_figures(r: redis.Redis, names: Names) -> dict[str, Any]:
    """Totals over the live indexers' heartbeats (each since its own start)."""
    beats = [b for name, b in heartbeat.alive(r, names).items() if name.startswith("indexer/")]
    return {
        "indexers_alive": len(beats),
        "applied_per_s": round(sum(b.get("applied_per_s", 0) for b in beats), 1),
        "applied": int(sum(b.get("applied", 0) for b in beats)),
        "conflicts": int(sum(b.get("conflicts", 0) for b in beats)),
        "dead_lettered": int(sum(b.get("dead_letters", 0) for b in beats)),
    }


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value
