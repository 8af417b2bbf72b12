"""The thumbnail dispatcher's Prometheus figures, on a registry of its own, served on
METRICS_PORT when it is set; the same totals go into its heartbeat for `catalog status`."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


class DispatcherMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.dispatched = Counter(
            "catalog_thumbnails_dispatched", "Jobs the broker accepted from stream entries",
            registry=r)
        self.dead_letters = Counter(
            "catalog_thumbnails_dead_letters", "Entries sent to the DLQ", registry=r)
        self.claimed = Counter(
            "catalog_thumbnails_claimed", "Entries claimed from silent dispatchers", registry=r)
        self.broker_errors = Counter(
            "catalog_thumbnails_broker_errors", "Enqueues the broker refused (entry kept "
            "pending and retried)", registry=r)
        self.redispatched = Counter(
            "catalog_thumbnails_redispatched", "Stuck products the sweep dispatched again",
            registry=r)
        self.given_up = Counter(
            "catalog_thumbnails_given_up", "Stuck products the sweep made inactive", registry=r)
        self.pending = Gauge(
            "catalog_thumbnails_pending_entries", "Entries delivered to the group and not yet "
            "acknowledged", registry=r)

    def serve(self, port: int) -> None:
        if port:
            start_http_server(port, addr="127.0.0.1", registry=self.registry)

    def figures(self) -> dict[str, float]:
        names = ("dispatched", "dead_letters", "claimed", "broker_errors", "redispatched",
                 "given_up", "pending")
        return {n: getattr(self, n)._value.get() for n in names}
