"""The dashboard's figures from the search index: one size-0 search, many aggregations.

The hour's bounds are absolute times rounded to the minute, not "now" date math: a
request that mentions `now` is never cached, this one is served from Elasticsearch's
request cache until the next refresh changes the index.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from indexer.documents import STATUS_NAMES

# A product's path: processing, then active (or inactive when its image failed).
_PIPELINE_ORDER = sorted(STATUS_NAMES.items(), key=lambda kv: {2: 0, 1: 1, 0: 2}.get(kv[0], 3))
TOP_CATEGORIES = 10
PERCENTS = (50, 90, 99)
PRICE_RANGES: tuple[tuple[str, float | None, float | None], ...] = (
    ("< 10", None, 10),
    ("10-25", 10, 25),
    ("25-50", 25, 50),
    ("50-100", 50, 100),
    ("100-250", 100, 250),
    ("250-500", 250, 500),
    ("500-1000", 500, 1000),
    ("≥ 1000", 1000, None),
)


def analytics_body(now: datetime | None = None) -> dict[str, Any]:
    end = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    start, end_text = _iso(end - timedelta(hours=1)), _iso(end)
    return {
        "size": 0,
        "track_total_hits": True,
        "aggs": {
            "recent": {
                "filter": {"range": {"created_at": {"gte": start}}},
                "aggs": {"per_minute": {"date_histogram": {
                    "field": "created_at", "fixed_interval": "1m", "min_doc_count": 0,
                    "extended_bounds": {"min": start, "max": end_text},
                }}},
            },
            "status": {"terms": {"field": "status", "size": len(STATUS_NAMES) + 1}},
            "categories": {"terms": {
                "field": "category", "size": TOP_CATEGORIES, "exclude": [""]}},
            "price": {"range": {"field": "price", "ranges": [
                {"key": k, **({"from": lo} if lo is not None else {}),
                 **({"to": hi} if hi is not None else {})}
                for k, lo, hi in PRICE_RANGES
            ]}},
            "price_stats": {"stats": {"field": "price"}},
            "activation": {"percentiles": {
                "field": "activation_seconds", "percents": list(PERCENTS)}},
            "activated": {"value_count": {"field": "activation_seconds"}},
        },
    }


def analytics(response: dict[str, Any]) -> dict[str, Any]:
    aggs = response.get("aggregations", {})
    total = response.get("hits", {}).get("total", {}).get("value", 0)
    return {
        "total": total,
        "added_per_minute": [
            {"t": b["key_as_string"], "count": b["doc_count"]}
            for b in aggs.get("recent", {}).get("per_minute", {}).get("buckets", [])
        ],
        "added_last_hour": aggs.get("recent", {}).get("doc_count", 0),
        "status": _status(aggs),
        "top_categories": [
            {"category": b["key"], "count": b["doc_count"]}
            for b in aggs.get("categories", {}).get("buckets", [])
        ],
        "price_distribution": [
            {"range": b["key"], "count": b["doc_count"]}
            for b in aggs.get("price", {}).get("buckets", [])
        ],
        "price_stats": _stats(aggs.get("price_stats", {})),
        "time_to_active_s": {
            "count": aggs.get("activated", {}).get("value", 0),
            **{f"p{p}": _round(aggs.get("activation", {}).get("values", {}).get(_key(p)))
               for p in PERCENTS},
        },
    }


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(aggs: dict[str, Any]) -> dict[str, int]:
    counts = {b["key"]: b["doc_count"] for b in aggs.get("status", {}).get("buckets", [])}
    return {name: counts.get(code, 0) for code, name in _PIPELINE_ORDER}


def _stats(stats: dict[str, Any]) -> dict[str, float | None]:
    return {k: _round(stats.get(k)) for k in ("min", "avg", "max")}


def _key(p: int) -> str:
    return f"{float(p)}"


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)
