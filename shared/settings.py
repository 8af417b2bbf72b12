"""Settings for every service, read from environment variables with local defaults.

This module is the one definition: Django settings, the daemons and the CLI all read
`load()`. The README's settings table lists the same names (`catalog settings` prints it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _default_var() -> str:
    return str(ROOT / "var")


def _setting(default, doc: str):
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    """Every knob of the system. Field name upper-cased is the environment variable."""

    database_path: str = _setting(
        "", "SQLite database file (default: var/catalog.sqlite3 in the checkout)"
    )
    redis_url: str = _setting("redis://127.0.0.1:6379/0", "Redis: stream, Celery broker")
    elasticsearch_url: str = _setting("http://127.0.0.1:9200", "Elasticsearch HTTP endpoint")
    catalog_namespace: str = _setting(
        "catalog", "Prefix of every Redis key and stream (tests use one per run)"
    )
    index_alias: str = _setting("products", "Alias the site searches; indexes are <alias>-v<N>")
    index_refresh_interval: str = _setting("1s", "Elasticsearch refresh interval of new indexes")
    cdc_tables: str = _setting("products_product", "Comma-separated tables the triggers track")
    changelog_retention_seconds: int = _setting(
        86400, "Keep acknowledged changelog rows and stream entries this long"
    )
    cdc_poll_interval: float = _setting(
        0.5, "Tailer fallback poll, seconds, when file events do not come"
    )
    cdc_batch_size: int = _setting(2000, "Changelog rows the tailer publishes per batch")
    indexer_batch_size: int = _setting(2000, "Stream entries the indexer applies per bulk")
    indexer_bulk_concurrency: int = _setting(
        3, "Bulk requests the indexer sends at once per batch (node's cores + 1)"
    )
    indexer_claim_idle_ms: int = _setting(
        30000, "Entries pending this long on a silent consumer are claimed by another"
    )
    metrics_port: int = _setting(0, "Prometheus endpoint port of a daemon (0: off)")
    media_root: str = _setting("", "Uploaded images and thumbnails (default: var/media)")
    media_url: str = _setting("/media/", "URL prefix of MEDIA_ROOT")
    thumbnail_sizes: str = _setting("64,256,512", "Thumbnail widths in px")
    thumbnail_max_bytes: int = _setting(10 * 1024 * 1024, "Largest image download, bytes")
    thumbnail_max_pixels: int = _setting(40_000_000, "Largest decoded image (pixels)")
    thumbnail_fetch_timeout: float = _setting(10.0, "Seconds per connect/read of a fetch")
    thumbnail_max_attempts: int = _setting(5, "Attempts before a product becomes inactive")
    thumbnail_retry_backoff: float = _setting(
        2.0, "Seconds before a thumbnail job's first retry after a transient error (doubles)"
    )
    thumbnail_retry_backoff_max: float = _setting(
        120.0, "Longest wait between retries of a thumbnail job, seconds"
    )
    thumbnail_sweep_interval: float = _setting(
        30.0, "Seconds between the dispatcher's sweeps for products stuck in processing"
    )
    thumbnail_stuck_seconds: float = _setting(
        600.0, "A product processing this long without a result is re-dispatched"
    )
    thumbnail_allowed_hosts: str = _setting(
        "", "Hosts exempt from the private-address guard (tests only; empty in production)"
    )
    secret_key: str = _setting("dev-insecure-change-me", "Django SECRET_KEY")
    debug: bool = _setting(False, "Django DEBUG")
    allowed_hosts: str = _setting("127.0.0.1,localhost", "Django ALLOWED_HOSTS, comma-separated")
    log_level: str = _setting("INFO", "Logging level of every service")

    @property
    def database(self) -> Path:
        return Path(self.database_path or Path(_default_var()) / "catalog.sqlite3")

    @property
    def media(self) -> Path:
        return Path(self.media_root or Path(_default_var()) / "media")

    @property
    def tracked_tables(self) -> list[str]:
        return [t.strip() for t in self.cdc_tables.split(",") if t.strip()]

    @property
    def thumbnail_widths(self) -> list[int]:
        return [int(w) for w in self.thumbnail_sizes.split(",") if w.strip()]

    @property
    def thumbnail_allowed(self) -> set[str]:
        return {h.strip().lower() for h in self.thumbnail_allowed_hosts.split(",") if h.strip()}


def _convert(kind, raw: str):
    if kind in (bool, "bool"):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    return raw


def load(environ: dict[str, str] | None = None) -> Settings:
    """Settings from `environ` (default os.environ); unknown variables are ignored."""
    env = os.environ if environ is None else environ
    values = {}
    for f in fields(Settings):
        raw = env.get(f.name.upper())
        if raw is not None:
            try:
                values[f.name] = _convert(f.type, raw)
            except ValueError as exc:
                raise ValueError(f"{f.name.upper()}={raw!r}: expected {f.type}") from exc
    return Settings(**values)


def table() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) rows, for the README and `catalog settings`."""
    return [
        (f.name.upper(), repr(f.default) if f.default != "" else "(see meaning)", f.metadata["doc"])
        for f in fields(Settings)
    ]
