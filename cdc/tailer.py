"""The tailer daemon: changelog rows, in seq order, onto the Redis stream, each exactly once.

    run() → sync_with_stream() → read_batch() → publish_batch() | check_stream()
          → record_position()
          → prune_if_due() → heartbeat_if_due() → wait_for_changes()

The stream's top ID is the position: after a crash the tailer reads it and goes on from
the next seq; a replayed entry is refused by Redis (ID not above the top) and counted as
already published. The SQLite copy of the position (cdc/position.py) is what lets it
notice a Redis that came back without the stream.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import sys
import threading
import time

import redis

from cdc import changelog, metrics, position, stream
from cdc.lock import TailerLock
from cdc.wakeup import Wakeup
from shared import heartbeat, redis_client
from shared import sqlite as db
from shared.names import Names
from shared.settings import Settings

log = logging.getLogger("cdc.tailer")

RECORD_EVERY_S = 1.0  # the SQLite copy of the position may trail the stream by this much
BEAT_EVERY_S = 5.0
PRUNE_CHUNK = 10_000  # rows per DELETE transaction, so writers never wait long on pruning
BACKOFF_MIN_S, BACKOFF_MAX_S = 0.1, 5.0
# After a file event SQLite may still be finishing the commit (WAL index not yet updated):
# look again a few times before going back to sleep.
RECHECK_DELAYS_S = (0.0005, 0.001, 0.002, 0.005, 0.01)


class Tailer:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.names = Names.from_settings(settings)
        self.stream = self.names.changes_stream
        self.batch_size = max(1, settings.cdc_batch_size)
        self.retention_s = settings.changelog_retention_seconds
        self.prune_every_s = min(60.0, max(1.0, self.retention_s / 10))
        self.lock = TailerLock(settings.database)
        self.wakeup = Wakeup(settings.database)
        self.conn: sqlite3.Connection | None = None
        self.r: redis.Redis | None = None
        self.position = 0  # highest seq known to be on the stream
        self.synced = False  # position was read from the stream since the last Redis trouble
        self.stopping = False
        self.stopped = threading.Event()  # wakes a backoff sleep, which file events must not
        self.recorded = 0
        self.recorded_at = 0.0
        self.next_prune = 0.0
        self.next_beat = 0.0
        self.data_version = -1
        self.backoff_s = BACKOFF_MIN_S
        self.redis_down_since: float | None = None

    # --- the loop ----------------------------------------------------------------------

    def run(self) -> int:
        self.bootstrap()
        try:
            while not self.stopping:
                try:
                    if not self.synced:
                        self.sync_with_stream()
                    batch = self.read_batch()
                    if batch:
                        self.publish_batch(batch)
                    else:
                        self.check_stream()
                    self.record_position()
                    self.prune_if_due()
                    self.heartbeat_if_due()
                    self.redis_is_up()
                    if len(batch) < self.batch_size:
                        self.wait_for_changes()
                except stream.StreamMissing as exc:
                    log.error("%s; re-reading the stream before going on", exc)
                    self.synced = False
                except (redis.ConnectionError, redis.TimeoutError) as exc:
                    self.redis_is_down(exc)
                except sqlite3.OperationalError as exc:  # locked past busy_timeout, disk full
                    log.warning("SQLite: %s; retrying in %.1fs", exc, self.backoff_s)
                    self.stopped.wait(self.backoff_s)
                    self.backoff_s = min(BACKOFF_MAX_S, self.backoff_s * 2)
        finally:
            self.teardown()
        log.info("stopped at seq %d", self.position)
        return 0

    def bootstrap(self) -> None:
        self.lock.acquire()  # raises AlreadyRunning: refuse before touching anything
        self.conn = db.connect(self.settings.database)
        # Writers checkpoint the WAL; the tailer's once-a-second position write must not
        # stall publishing by copying a big backlog's WAL into the database file.
        self.conn.execute("PRAGMA wal_autocheckpoint=0")
        self.install_triggers()
        self.r = redis_client.connect(self.settings)
        metrics.serve(self.settings.metrics_port)
        self.wakeup.start()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        log.info("tailer started: %s → %s (%s)", self.settings.database, self.stream,
                 self.settings.redis_url)

    def teardown(self) -> None:
        if self.conn is not None and self.synced:
            try:
                self.record_position(force=True)
            except sqlite3.Error as exc:
                log.warning("could not record the final position: %s", exc)
        self.wakeup.stop()
        if self.conn is not None:
            self.conn.close()
        self.lock.release()

    def stop(self) -> None:
        """Finish the batch in flight, then leave the loop."""
        self.stopping = True
        self.stopped.set()
        self.wakeup.set()

    def _on_signal(self, signum, frame) -> None:
        if self.stopping:  # a second signal: stop now
            sys.exit(1)
        log.info("signal %d: stopping after the batch in flight", signum)
        self.stop()

    # --- steps -------------------------------------------------------------------------

    def install_triggers(self) -> None:
        """Bring the triggers up to date with the tables' columns (no-op when they are)."""
        tables = [t for t in self.settings.tracked_tables if self._table_exists(t)]
        missing = set(self.settings.tracked_tables) - set(tables)
        if missing:
            log.warning("tracked table(s) %s do not exist yet: run migrate", sorted(missing))
        changed = changelog.install_sqlite(self.conn, tables)
        if changed:
            log.info("installed/updated triggers: %s", ", ".join(changed))

    def _table_exists(self, table: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)
        ).fetchone() is not None

    def sync_with_stream(self) -> None:
        """Take the position from the stream; notice a stream lost or rolled back by Redis."""
        top = stream.top_seq(self.r, self.stream)
        recorded = position.load(self.conn, self.stream)
        head = changelog.head(self.conn)
        floor = changelog.floor(self.conn)
        first_retained = floor if floor is not None else head + 1
        stream.create(self.r, self.stream)  # and its groups, if Redis lost them
        if top is None:
            if recorded.seq > 0:
                log.error(
                    "REDIS LOST THE STREAM %s: SQLite says seq %d was published. Republishing "
                    "the retained changelog from seq %d (head %d) so consumers can catch up.",
                    self.stream, recorded.seq, first_retained, head,
                )
        elif top < recorded.seq:
            log.error("REDIS LOST STREAM ENTRIES: %s ends at seq %d, SQLite says %d was "
                      "published; republishing the retained changelog after %d",
                      self.stream, top, recorded.seq, top)
        if top is not None and top > head:
            log.error("%s is ahead of the changelog (top %d > head %d): was the changelog "
                      "reset? New rows up to %d will be refused as duplicates",
                      self.stream, top, head, top)
        had_published = recorded.seq > 0 or top is not None
        needed_from = max(top or 0, recorded.acked_seq) + 1
        if had_published and first_retained > needed_from:
            note = (f"changelog rows {needed_from}..{first_retained - 1} were pruned before "
                    f"every consumer had them: run `catalog backfill`")
            log.error("BACKFILL REQUIRED: %s", note)
            position.flag_backfill(self.conn, self.stream, note)
        elif not had_published and first_retained > 1:
            log.warning("new stream %s starts at seq %d: earlier history is not in the "
                        "changelog (a new index needs `catalog backfill`)",
                        self.stream, first_retained)
        self.position = top or 0
        self.synced = True
        metrics.BACKFILL.set(1 if position.load(self.conn, self.stream).backfill_required else 0)
        log.info("publishing %s after seq %d (changelog head %d)", self.stream, self.position,
                 head)

    def read_batch(self) -> list[tuple]:
        self.data_version = self._data_version()
        return changelog.read_after(self.conn, self.position, self.batch_size)

    def publish_batch(self, rows: list[tuple]) -> None:
        entries = [changelog.to_entry(row) for row in rows]
        added, duplicates = stream.publish(self.r, self.stream, entries, self.position)
        self.position = entries[-1][0]
        metrics.EVENTS.inc(added)
        metrics.BATCH.observe(len(entries))
        if duplicates:
            metrics.DUPLICATES.inc(duplicates)
            log.info("%d entr%s up to seq %d were already on the stream (published before a "
                     "restart)", duplicates, "y" if duplicates == 1 else "ies", self.position)

    def check_stream(self) -> None:
        """While idle, notice a Redis that restarted empty (publishing notices by itself),
        so consumers get the republished history promptly."""
        top = stream.top_seq(self.r, self.stream)
        if top is None or top < self.position:
            raise stream.StreamMissing(f"{self.stream} is missing or behind seq {self.position}")

    def record_position(self, force: bool = False) -> None:
        now = time.monotonic()
        head = changelog.head(self.conn)
        metrics.HEAD.set(head)
        metrics.PUBLISHED.set(self.position)
        metrics.LAG.set(max(0, head - self.position))
        if self.position > self.recorded and (force or now - self.recorded_at >= RECORD_EVERY_S):
            position.record(self.conn, self.stream, seq=self.position)
            self.recorded, self.recorded_at = self.position, now

    def prune_if_due(self) -> None:
        """Drop changelog rows (and stream entries) every group acknowledged and that are
        older than the retention window."""
        now = time.monotonic()
        if now < self.next_prune:
            return
        self.next_prune = now + self.prune_every_s
        acked = min([g.acked_seq for g in stream.groups(self.r, self.stream)] + [self.position])
        position.record(self.conn, self.stream, acked_seq=acked)
        boundary = changelog.last_seq_before(self.conn, int(time.time() * 1000)
                                             - self.retention_s * 1000)
        through = min(acked, boundary)
        floor = changelog.floor(self.conn)
        metrics.FLOOR.set(floor or 0)
        if through <= 0:
            return
        pruned = 0
        while floor is not None and floor <= through and not self.stopping:
            step = min(through, floor + PRUNE_CHUNK - 1)
            pruned += changelog.prune_through(self.conn, step)
            floor = step + 1
        trimmed = stream.trim_below(self.r, self.stream, through + 1)
        if pruned or trimmed:
            metrics.PRUNED.inc(pruned)
            log.info("retention: pruned %d changelog rows and %d stream entries through seq %d",
                     pruned, trimmed, through)

    def heartbeat_if_due(self) -> None:
        now = time.monotonic()
        if now < self.next_beat:
            return
        self.next_beat = now + BEAT_EVERY_S
        head = changelog.head(self.conn)
        heartbeat.beat(self.r, self.names, daemon="tailer", consumer="main",
                       published=self.position, head=head, lag=max(0, head - self.position))

    def wait_for_changes(self) -> None:
        """Sleep until a file event or the poll interval; return early if data changed."""
        woke = self.wakeup.wait(self.settings.cdc_poll_interval)
        if self.stopping or not woke or self._data_version() != self.data_version:
            return
        for delay in RECHECK_DELAYS_S:
            time.sleep(delay)
            if self._data_version() != self.data_version:
                return

    def _data_version(self) -> int:
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    # --- Redis trouble -----------------------------------------------------------------

    def redis_is_down(self, exc: Exception) -> None:
        self.synced = False
        metrics.REDIS_ERRORS.inc()
        now = time.monotonic()
        if self.redis_down_since is None:
            self.redis_down_since = now
            log.warning("Redis unavailable (%s): retrying with backoff; nothing is lost, the "
                        "changelog keeps every row", exc)
        self.stopped.wait(self.backoff_s)
        self.backoff_s = min(BACKOFF_MAX_S, self.backoff_s * 2)

    def redis_is_up(self) -> None:
        if self.redis_down_since is not None:
            log.warning("Redis is back after %.1fs", time.monotonic() - self.redis_down_since)
            self.redis_down_since = None
        self.backoff_s = BACKOFF_MIN_S
