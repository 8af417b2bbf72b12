"""The indexer daemon: consumer group `indexer` on the changes stream → Elasticsearch.

    Indexer.run() → claim_stale() → read_batch() → apply_batch() → ack()

Idempotent by construction: every document is written with `version=seq`,
`version_type=external`, and a delete is a tombstone document with the delete's seq,
so duplicates, replays and out-of-order delivery across consumers never regress a
document or bring a deleted one back. Entries are acknowledged only after
Elasticsearch accepted (or already had newer than) them; poison entries go to the DLQ
in the same Redis transaction as their XACK.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis
from elasticsearch import ApiError, Elasticsearch, TransportError

from indexer.bulk import CONFLICT, REJECTED, Backoff, StopWaiting, VersionedBulk, Write
from indexer.documents import to_document, tombstone
from indexer.index import ensure_index, write_targets
from indexer.metrics import IndexerMetrics
from shared import heartbeat, redis_client
from shared.dlq import DeadLetters
from shared.events import ChangeEvent, EventError
from shared.names import INDEXER_GROUP, Names
from shared.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

PRODUCTS_TABLE = "products_product"
READ_BLOCK_MS = 1000  # bounds how long a stop request waits on an idle stream
HEARTBEAT_SECONDS = 2.0


@dataclass
class Batch:
    """What one batch came to: entries to acknowledge and dead letters to write with them."""

    ack_ids: list[str] = field(default_factory=list)
    dead: list[tuple[str, dict[str, str], str]] = field(default_factory=list)  # id, fields, why
    applied: int = 0
    conflicts: int = 0
    superseded: int = 0
    retries: int = 0
    newest_ts: int | None = None


@dataclass
class Prepared:
    """A batch parsed and turned into writes, not yet sent."""

    batch: Batch
    entry_ids: list[str]
    writes: list[Write] = field(default_factory=list)
    origins: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Indexer:
    def __init__(
        self,
        settings: Settings,
        *,
        consumer: str | None = None,
        r: redis.Redis | None = None,
        es: Elasticsearch | None = None,
        patience: float | None = None,
    ):
        self.settings = settings
        self.names = Names.from_settings(settings)
        self.consumer = consumer or consumer_name()
        self.r = r or redis_client.connect(settings)
        self.es = es or Elasticsearch(
            settings.elasticsearch_url, request_timeout=60, max_retries=0, retry_on_timeout=False
        )
        self.batch_size = settings.indexer_batch_size
        self.bulk = VersionedBulk(self.es, concurrency=settings.indexer_bulk_concurrency)
        self.dlq = DeadLetters(self.r, self.names)
        self.metrics = IndexerMetrics()
        self.patience = patience  # seconds to wait out a failing Elasticsearch; None: forever
        self.stopping = False
        self._next_claim = 0.0
        self._next_beat = 0.0
        self._last_beat: tuple[float, float] | None = None
        # One thread sends a batch while the main thread reads and prepares the next.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="indexer-write")

    @property
    def stream(self) -> str:
        return self.names.changes_stream

    @property
    def dead_letter_owner(self) -> str:
        """`<group>/<consumer>`, as every group writes it into the shared DLQ."""
        return f"{INDEXER_GROUP}/{self.consumer}"

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        """Consume until SIGTERM/SIGINT (the batch in flight finishes; a second signal exits)."""
        self.install_signal_handlers()
        try:
            self.bootstrap()
        except StopWaiting:
            log.info("indexer %s: stopped before Elasticsearch answered", self.consumer)
            return
        self.metrics.serve(self.settings.metrics_port)
        # Everything loaded so far lives as long as the process: keep the cyclic GC's full
        # collections, which batches in flight trigger often, from walking it every time.
        gc.freeze()
        log.info("indexer %s: consuming %s as group %s", self.consumer, self.stream, INDEXER_GROUP)
        backoff = Backoff(cap=5.0)
        try:
            while not self.stopping:
                try:
                    self.work_once()
                    backoff.attempt = 0
                except (redis.ConnectionError, redis.TimeoutError) as exc:
                    self._pause(backoff, f"redis: {exc}")
                except redis.ResponseError as exc:
                    if not stream_missing(exc):
                        raise
                    # Redis came back empty (or the stream was deleted): start the group again;
                    # the tailer republishes from the changelog, versions keep that idempotent.
                    log.warning("indexer: stream or consumer group missing, creating it again")
                    self.ensure_group()
        finally:
            self.teardown()

    def work_once(self, block_ms: int = READ_BLOCK_MS) -> int:
        """One turn of the loop; returns how many entries it handled."""
        handled = 0
        if time.monotonic() >= self._next_claim:
            handled += self.claim_stale()
            every = max(0.5, self.settings.indexer_claim_idle_ms / 2000)
            self._next_claim = time.monotonic() + every
        entries = self.read_batch(block_ms)
        if entries:
            handled += self.process(entries, read_ahead=True)
        self.heartbeat_if_due()
        return handled

    def process(self, entries: list, *, read_ahead: bool = False) -> int:
        """Apply and acknowledge `entries`. With read_ahead, while Elasticsearch works on
        one batch the next is read (without blocking) and prepared: at most two batches
        in memory, and the bulk never waits for Python between batches of a backlog."""
        handled = 0
        prepared = self.prepare_batch(entries)
        while prepared is not None:
            in_flight = self._writer.submit(self.write_batch, prepared)
            # Stop reading ahead when asked to stop, and when claiming is due (a long
            # backlog must not starve a dead peer's pending entries).
            keep_reading = read_ahead and not self.stopping and time.monotonic() < self._next_claim
            ahead = self.read_batch(None) if keep_reading else []
            following = self.prepare_batch(ahead) if ahead else None
            try:
                batch = in_flight.result()
            except StopWaiting as exc:
                log.warning("indexer: stopping with %d entries unacknowledged (%s); another "
                            "consumer or the next start claims them",
                            len(prepared.entry_ids) + len(ahead), exc)
                return handled
            self.ack(batch)
            handled += len(prepared.entry_ids)
            prepared = following
            self.heartbeat_if_due()
        return handled

    def bootstrap(self) -> None:
        self.ensure_group()
        self._retrying(lambda: ensure_index(
            self.es, self.names, self.settings.index_refresh_interval))

    def ensure_group(self) -> None:
        try:
            self.r.xgroup_create(self.stream, INDEXER_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def teardown(self) -> None:
        with contextlib.suppress(redis.RedisError):
            self.beat()
        log.info("indexer %s: stopped (%s)", self.consumer, self.metrics.figures())

    # --- steps ----------------------------------------------------------------------------

    def claim_stale(self) -> int:
        """Take over entries pending longer than the claim timeout on silent consumers."""
        self.forget_idle_consumers()
        cursor, total = "0-0", 0
        while not self.stopping:
            cursor, entries, gone = self.r.xautoclaim(
                self.stream, INDEXER_GROUP, self.consumer,
                min_idle_time=self.settings.indexer_claim_idle_ms, start_id=cursor,
                count=self.batch_size,
            )
            if gone:
                # Trimmed from the stream before anyone applied them: only backfill can help.
                log.error("indexer: %d pending entries were trimmed before indexing: %s",
                          len(gone), gone[:10])
                self.r.xack(self.stream, INDEXER_GROUP, *gone)
            if entries:
                log.info("indexer: claimed %d stale entries", len(entries))
                self.metrics.claimed.inc(len(entries))
                self.process(entries)
                total += len(entries)
            if cursor == "0-0":
                break
        return total

    def forget_idle_consumers(self) -> None:
        """Drop consumers (dead processes: names are host-pid) holding nothing for long, so
        the group's consumer list stays readable. A live one is re-created by its next read."""
        idle_ms = max(600_000, 10 * self.settings.indexer_claim_idle_ms)
        for c in self.r.xinfo_consumers(self.stream, INDEXER_GROUP):
            if c["name"] != self.consumer and not c["pending"] and c["idle"] > idle_ms:
                self.r.xgroup_delconsumer(self.stream, INDEXER_GROUP, c["name"])

    def read_batch(self, block_ms: int | None = READ_BLOCK_MS) -> list[tuple[str, dict[str, str]]]:
        """Up to batch_size new entries; block_ms None: what is there now, without waiting."""
        reply = self.r.xreadgroup(
            INDEXER_GROUP, self.consumer, {self.stream: ">"}, count=self.batch_size,
            block=block_ms,
        )
        if not reply:
            return []
        if isinstance(reply, dict):  # RESP3
            return next(iter(reply.values()))[0]
        return reply[0][1]

    def apply_batch(self, entries: list[tuple[str, dict[str, str] | None]]) -> Batch:
        """Write the newest event of each product in `entries` to every write target.

        Returns what to acknowledge and what to dead-letter; raises StopWaiting if a stop
        was requested while Elasticsearch kept failing (then nothing may be acknowledged).
        """
        return self.write_batch(self.prepare_batch(entries))

    def prepare_batch(self, entries: list[tuple[str, dict[str, str] | None]]) -> Prepared:
        """Parse, collapse to the newest event per product, build the documents."""
        batch = Batch()
        prepared = Prepared(batch=batch, entry_ids=[entry_id for entry_id, _ in entries])
        for event, entry_id, fields in self._newest_per_product(entries, batch).values():
            try:
                source = document_for(event)
            except Exception as exc:  # any bad row value is this entry's fault
                batch.dead.append((entry_id, fields, f"cannot build document: {exc!r}"))
                continue
            prepared.writes.append(Write(event.pk, event.seq, source))
            prepared.origins.append((entry_id, fields))
            batch.newest_ts = max(batch.newest_ts or 0, event.ts)
        return prepared

    def write_batch(self, prepared: Prepared) -> Batch:
        if prepared.writes:
            self._write(prepared.writes, prepared.origins, prepared.batch,
                        [e for e, _ in prepared.origins])
        return prepared.batch

    def ack(self, batch: Batch) -> None:
        """Dead letters and the XACK in one transaction, then count."""
        ids = batch.ack_ids + [entry_id for entry_id, _, _ in batch.dead]
        if ids:
            with self.r.pipeline(transaction=True) as pipe:
                for entry_id, fields, reason in batch.dead:
                    self.dlq.add(pipe, entry_id, fields, reason, self.dead_letter_owner)
                pipe.xack(self.stream, INDEXER_GROUP, *ids)
                pipe.execute()
        for entry_id, _, reason in batch.dead:
            log.warning("indexer: entry %s dead-lettered: %s", entry_id, reason)
        m = self.metrics
        m.applied.inc(batch.applied)
        m.conflicts.inc(batch.conflicts)
        m.superseded.inc(batch.superseded)
        m.dead_letters.inc(len(batch.dead))
        m.retries.inc(batch.retries)
        if batch.newest_ts:
            m.freshness.set(max(0.0, time.time() - batch.newest_ts / 1000))

    def heartbeat_if_due(self) -> None:
        if time.monotonic() >= self._next_beat:
            self.beat()
            self._next_beat = time.monotonic() + HEARTBEAT_SECONDS

    def beat(self) -> None:
        self.metrics.lag.set(self.lag())
        f = self.metrics.figures()
        now = time.monotonic()
        if self._last_beat:
            then, applied = self._last_beat
            f["applied_per_s"] = round((f["applied"] - applied) / max(1e-3, now - then), 1)
        self._last_beat = (now, f["applied"])
        heartbeat.beat(self.r, self.names, daemon="indexer", consumer=self.consumer, **f)

    def lag(self) -> int:
        """Entries the group has not acknowledged: never delivered plus pending."""
        try:
            groups = self.r.xinfo_groups(self.stream)
        except redis.ResponseError:
            return 0
        for g in groups:
            if g.get("name") == INDEXER_GROUP:
                return int(g.get("lag") or 0) + int(g.get("pending") or 0)
        return 0

    # --- signals --------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self.stopping:
            log.warning("indexer: second signal, exiting now (unacknowledged entries stay pending)")
            os._exit(128 + signum)
        log.info("indexer: signal %d, finishing the batch in flight", signum)
        self.stopping = True

    # --- internals ------------------------------------------------------------------------

    def _newest_per_product(self, entries, batch: Batch) -> dict[str, tuple]:
        latest: dict[str, tuple[ChangeEvent, str, dict[str, str]]] = {}
        for entry_id, fields in entries:
            if fields is None:  # deleted from the stream while pending
                batch.ack_ids.append(entry_id)
                continue
            try:
                event = ChangeEvent.from_entry(entry_id, fields)
            except EventError as exc:
                batch.dead.append((entry_id, fields, f"unparseable event: {exc}"))
                continue
            if event.table != PRODUCTS_TABLE:
                batch.ack_ids.append(entry_id)  # another table's event: not ours to index
                continue
            previous = latest.get(event.pk)
            if previous is None or event.seq > previous[0].seq:
                if previous is not None:
                    batch.ack_ids.append(previous[1])
                    batch.superseded += 1
                latest[event.pk] = (event, entry_id, fields)
            else:
                batch.ack_ids.append(entry_id)
                batch.superseded += 1
        return latest

    def _write(self, writes: list[Write], origins, batch: Batch, entry_ids: list[str]) -> None:
        with self.metrics.bulk_seconds.time():
            targets = self._retrying(self._targets)
            outcome = self.bulk.write(
                writes, targets, keep_waiting=self._keep_waiting(),
                while_waiting=lambda: self._keep_claimed(entry_ids),
            )
        batch.retries += outcome.retries
        for i, (entry_id, fields) in enumerate(origins):
            status = outcome.status[i]
            if status == REJECTED:
                batch.dead.append((entry_id, fields, f"rejected by elasticsearch: "
                                                     f"{outcome.reasons[i]}"))
                continue
            batch.ack_ids.append(entry_id)
            if status == CONFLICT:
                batch.conflicts += 1
            else:
                batch.applied += 1

    def _targets(self) -> list[str]:
        targets = write_targets(self.es, self.names)
        if not targets:  # first start, or the index was deleted under us
            ensure_index(self.es, self.names, self.settings.index_refresh_interval)
            targets = write_targets(self.es, self.names)
        return targets

    def _keep_waiting(self) -> Callable[[], bool]:
        deadline = None if self.patience is None else time.monotonic() + self.patience
        return lambda: not self.stopping and (deadline is None or time.monotonic() < deadline)

    def _retrying(self, call: Callable[[], T]) -> T:
        """call() until Elasticsearch answers; StopWaiting if asked to stop meanwhile."""
        backoff, keep_waiting = Backoff(), self._keep_waiting()
        while True:
            try:
                return call()
            except (ApiError, TransportError) as exc:
                if isinstance(exc, ApiError) and exc.status_code < 500 and exc.status_code != 429:
                    raise
                if not keep_waiting():
                    raise StopWaiting(str(exc)) from exc
                self._pause(backoff, f"elasticsearch: {exc}")

    def _keep_claimed(self, entry_ids: list[str]) -> None:
        """While we wait out a failing Elasticsearch, reset our entries' idle time so
        live peers do not claim work we still hold."""
        with contextlib.suppress(redis.RedisError):
            self.r.xclaim(self.stream, INDEXER_GROUP, self.consumer, min_idle_time=0,
                          message_ids=entry_ids, justid=True)

    def _pause(self, backoff: Backoff, why: str) -> None:
        delay = backoff.next_delay()
        log.warning("indexer: %s; retrying in %.2fs", why, delay)
        time.sleep(delay)


def stream_missing(exc: redis.ResponseError) -> bool:
    """The stream or our group is gone (Redis came back empty, or the key was deleted)."""
    text = str(exc)
    return text.startswith(("NOGROUP", "UNBLOCKED")) or "no such key" in text


def document_for(event: ChangeEvent) -> dict[str, Any]:
    """The document an event leaves in the index: the row, or a tombstone for a delete."""
    doc = tombstone() if event.op == "delete" else to_document(event.row)
    doc["seq"] = event.seq
    return doc
