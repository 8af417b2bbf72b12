"""The thumbnail dispatcher: change stream → Celery, the transactional outbox's consumer.

Consumer group `thumbnails` on the changes stream. Every inserted product and every
update that changed image_url becomes a Celery job (product id, image_url, seq); the entry
is acknowledged only after the broker took the job, so a dispatcher killed at any instant
leaves the entry pending, and it is re-read on restart or claimed by another dispatcher.
A poison entry goes to the DLQ with its reason. The stuck-product sweep runs in the loop.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

import redis

from shared import heartbeat
from shared.dlq import DeadLetters
from shared.events import ChangeEvent, EventError
from shared.names import THUMBNAILS_GROUP, Names
from web.thumbnails import sweep as stuck_sweep
from web.thumbnails.metrics import DispatcherMetrics

log = logging.getLogger(__name__)

BATCH = 100
BLOCK_MS = 1000
BEAT_EVERY = 5.0
BROKER_RETRY_PAUSE = 1.0
FORGET_CONSUMER_IDLE_MS = 3600_000  # a dispatcher silent this long with nothing pending is gone

Enqueue = stuck_sweep.Enqueue


def celery_enqueue(product_id: int, image_url: str, seq: int | None) -> None:
    """Hand the job to the broker; returns once Redis accepted it (raises otherwise)."""
    from django.conf import settings

    from web.thumbnails.tasks import generate_thumbnails, time_limit

    soft = time_limit(settings.CATALOG)
    generate_thumbnails.apply_async(
        args=[product_id, image_url, seq], soft_time_limit=soft, time_limit=soft + 30,
        retry=True, retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
    )


def wants_thumbnails(event: ChangeEvent) -> bool:
    """An insert, or an update whose image_url changed (row vs old)."""
    if event.op == "insert":
        return True
    if event.op == "update":
        return event.old is None or event.old.get("image_url") != event.row.get("image_url")
    return False


def job_of(event: ChangeEvent) -> tuple[int, str, int]:
    """(product id, image_url, seq), or EventError if the row cannot make a job."""
    try:
        product_id = int(event.row.get("id", event.pk))
    except (TypeError, ValueError):
        raise EventError(f"product id is not an integer: {event.pk!r}") from None
    image_url = event.row.get("image_url")
    if not isinstance(image_url, str) or not image_url:
        raise EventError("row has no image_url")
    return product_id, image_url, event.seq


class Dispatcher:
    """`run()` loops: heartbeat, claim_stale, read_batch, dispatch each, sweep when due."""

    def __init__(
        self, settings, r: redis.Redis, *, table: str, consumer: str | None = None,
        enqueue: Enqueue = celery_enqueue, sweep: Callable[[], object] | None = None,
    ):
        self.settings = settings
        self.r = r
        self.names = Names.from_settings(settings)
        self.table = table
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.enqueue = enqueue
        self.sweep = sweep or self.sweep_stuck
        self.metrics = DispatcherMetrics()
        self.stopping = False
        self.backlog = True  # start by re-reading our own pending entries
        self._next_beat = 0.0
        self._next_sweep = 0.0

    def run(self) -> None:
        self.ensure_group()
        self.metrics.serve(self.settings.metrics_port)
        log.info("dispatching %s to Celery as %s", self.names.changes_stream, self.consumer)
        while not self.stopping:
            try:
                self.beat_if_due()
                self.claim_stale()
                self.dispatch(self.read_batch())
                self.sweep_if_due()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log.warning("redis unavailable (%s); retrying", exc)
                self.pause()
        log.info("stopped after dispatching %d jobs (%s)",
                 self.metrics.dispatched._value.get(), self.metrics.figures())

    def stop(self, *_args) -> None:
        self.stopping = True

    def ensure_group(self) -> None:
        try:
            self.r.xgroup_create(self.names.changes_stream, THUMBNAILS_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def claim_stale(self) -> list:
        """Entries left pending by a dispatcher that died; we dispatch them next."""
        _, claimed, *_ = self.r.xautoclaim(
            self.names.changes_stream, THUMBNAILS_GROUP, self.consumer,
            min_idle_time=self.settings.indexer_claim_idle_ms, start_id="0-0", count=BATCH,
        )
        if claimed:
            log.info("claimed %d stale entries", len(claimed))
            self.metrics.claimed.inc(len(claimed))
            self.backlog = True
        return claimed

    def read_batch(self) -> list[tuple[str, dict]]:
        """Our own pending entries first (after a restart or a broker error), then new ones."""
        start = "0" if self.backlog else ">"
        reply = self.r.xreadgroup(
            THUMBNAILS_GROUP, self.consumer, {self.names.changes_stream: start},
            count=BATCH, block=None if self.backlog else BLOCK_MS,
        )
        entries = reply[0][1] if reply else []
        if self.backlog and not entries:
            self.backlog = False
        return [(eid, fields) for eid, fields in entries if fields is not None]

    def dispatch(self, entries: list[tuple[str, dict]]) -> None:
        for entry_id, fields in entries:
            try:
                self.dispatch_one(entry_id, fields)
            except EventError as exc:
                self.dead_letter(entry_id, fields, str(exc))
            except (redis.ConnectionError, redis.TimeoutError):
                raise
            except Exception as exc:  # the broker refused: keep the entry pending, retry
                log.warning("broker did not take entry %s (%s); will retry", entry_id, exc)
                self.metrics.broker_errors.inc()
                self.backlog = True
                self.pause()
                return

    def dispatch_one(self, entry_id: str, fields: dict) -> None:
        event = ChangeEvent.from_entry(entry_id, fields)
        if event.table == self.table and wants_thumbnails(event):
            self.enqueue(*job_of(event))
            self.metrics.dispatched.inc()
        self.r.xack(self.names.changes_stream, THUMBNAILS_GROUP, entry_id)

    def dead_letter(self, entry_id: str, fields: dict, reason: str) -> None:
        log.error("poison entry %s to the DLQ: %s", entry_id, reason)
        self.metrics.dead_letters.inc()
        # One Redis transaction: the entry is either pending here or in the DLQ, never lost.
        with self.r.pipeline(transaction=True) as pipe:
            DeadLetters(self.r, self.names).add(
                pipe, entry_id, fields, reason, f"{THUMBNAILS_GROUP}/{self.consumer}"
            )
            pipe.xack(self.names.changes_stream, THUMBNAILS_GROUP, entry_id)
            pipe.execute()

    def sweep_stuck(self) -> None:
        self.forget_gone_consumers()
        result = stuck_sweep.sweep(self.settings, self.enqueue)
        self.metrics.redispatched.inc(result.redispatched)
        self.metrics.given_up.inc(result.given_up)

    def forget_gone_consumers(self) -> None:
        """Consumer names are per process: drop dead ones that hold no entries."""
        stream = self.names.changes_stream
        for c in self.r.xinfo_consumers(stream, THUMBNAILS_GROUP):
            gone = c["pending"] == 0 and c["idle"] > FORGET_CONSUMER_IDLE_MS
            if gone and c["name"] != self.consumer:
                self.r.xgroup_delconsumer(stream, THUMBNAILS_GROUP, c["name"])

    def sweep_if_due(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.settings.thumbnail_sweep_interval
            try:
                self.sweep()
            except (redis.ConnectionError, redis.TimeoutError):
                raise
            except Exception:  # a locked database or a broker hiccup: the next sweep retries
                log.exception("sweep failed")

    def beat_if_due(self) -> None:
        now = time.monotonic()
        if now >= self._next_beat:
            self._next_beat = now + BEAT_EVERY
            self.metrics.pending.set(self.pending_count())
            heartbeat.beat(self.r, self.names, "thumbnails", self.consumer,
                           **self.metrics.figures())

    def pending_count(self) -> int:
        try:
            return int(self.r.xpending(self.names.changes_stream, THUMBNAILS_GROUP)["pending"])
        except redis.ResponseError:
            return 0

    def pause(self) -> None:
        time.sleep(BROKER_RETRY_PAUSE)
