"""Prometheus figures of the tailer, served on settings.metrics_port (loopback) when > 0."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

HEAD = Gauge("catalog_cdc_changelog_head_seq", "Highest changelog seq assigned")
PUBLISHED = Gauge("catalog_cdc_published_seq", "Highest seq on the changes stream")
LAG = Gauge("catalog_cdc_publish_lag_events", "Changelog rows not yet on the stream")
FLOOR = Gauge("catalog_cdc_retention_floor_seq", "Lowest changelog seq retained")
BACKFILL = Gauge("catalog_cdc_backfill_required", "1 when rows consumers needed were pruned")
EVENTS = Counter("catalog_cdc_events_published", "Events added to the stream")
DUPLICATES = Counter("catalog_cdc_duplicates_skipped", "Entries Redis already held (after a crash)")
PRUNED = Counter("catalog_cdc_changelog_pruned", "Changelog rows pruned")
REDIS_ERRORS = Counter("catalog_cdc_redis_errors", "Redis failures the tailer waited out")
BATCH = Histogram(
    "catalog_cdc_batch_size", "Events per published batch",
    buckets=(1, 2, 5, 10, 50, 100, 500, 1000, 2000, 5000),
)


def serve(port: int) -> None:
    if port > 0:
        start_http_server(port, addr="127.0.0.1")
