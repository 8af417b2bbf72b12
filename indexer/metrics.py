"""The indexer's Prometheus figures, on a registry of its own (several indexers may live
in one test process), served on METRICS_PORT when it is set."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class IndexerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.applied = Counter(
            "catalog_indexer_applied", "Events whose document Elasticsearch accepted "
            "(rate() gives applied/s)", registry=r)
        self.conflicts = Counter(
            "catalog_indexer_conflicts", "Writes refused as version conflicts: the index "
            "already held a newer document", registry=r)
        self.superseded = Counter(
            "catalog_indexer_superseded", "Events collapsed into a newer event of the same "
            "product in one batch", registry=r)
        self.dead_letters = Counter(
            "catalog_indexer_dead_letters", "Entries sent to the DLQ", registry=r)
        self.retries = Counter(
            "catalog_indexer_retries", "Bulk attempts retried after a transient failure",
            registry=r)
        self.claimed = Counter(
            "catalog_indexer_claimed", "Entries claimed from silent consumers", registry=r)
        self.bulk_seconds = Histogram(
            "catalog_indexer_bulk_seconds", "Time Elasticsearch took to accept one batch "
            "(all write targets, retries included)", registry=r,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
        self.lag = Gauge(
            "catalog_indexer_lag_entries", "Entries of the stream the group has not "
            "acknowledged yet (undelivered + pending)", registry=r)
        self.freshness = Gauge(
            "catalog_indexer_last_commit_age_seconds", "Commit-to-applied delay of the "
            "newest applied event", registry=r)

    def serve(self, port: int) -> None:
        if port:
            start_http_server(port, addr="127.0.0.1", registry=self.registry)

    def figures(self) -> dict[str, float]:
        """Totals for the heartbeat and `catalog status`."""
        return {
            "applied": self.applied._value.get(),
            "conflicts": self.conflicts._value.get(),
            "dead_letters": self.dead_letters._value.get(),
            "retries": self.retries._value.get(),
            "lag": self.lag._value.get(),
        }
