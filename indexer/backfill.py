"""Backfill: index every product from one consistent SQLite snapshot.

The snapshot and the changelog head S are read in one read transaction, and every
document is written with version S (external_gte) to each write target. So the live
indexer can keep running: an event above S is newer than the snapshot and wins (our
write comes back as a version conflict, which is fine), an event at or below S is
already contained in the snapshot.

Resumable: after each acknowledged chunk the last product id is checkpointed in SQLite.
A rerun continues after that id in a *new* snapshot S'. That is safe because every
document is written with the version of the snapshot it was read in: ids done before
the interruption are at S and kept current by the live indexer since; the rest come
from S'.
"""

from __future__ import annotations

import gc
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

import orjson
from elasticsearch import Elasticsearch

from cdc import position
from indexer import index
from indexer.bulk import CONFLICT, REJECTED, Outcome, VersionedBulk, Write
from indexer.documents import DOCUMENT_SQL, to_document
from indexer.positions import changelog_head
from shared import sqlite
from shared.names import Names
from shared.settings import Settings

PRODUCTS_TABLE = "products_product"
CHECKPOINT_TABLE = "indexer_backfill_checkpoint"
CHECKPOINT_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} (target TEXT PRIMARY KEY,"
    " last_id INTEGER NOT NULL, snapshot_seq INTEGER NOT NULL, updated_at REAL NOT NULL)"
)
CHECKPOINT_EVERY = 10_000  # documents between checkpoint writes
# Async translog fsyncs every 5 s (index.translog.sync_interval); twice that, and margin.
DURABLE_AFTER_SECONDS = 12.0
# How long Elasticsearch may keep failing transiently (429, 5xx, unreachable) before the
# run gives up; the checkpoint stays, so a rerun resumes.
PATIENCE_SECONDS = 300.0
Progress = Callable[[int, int], None]  # (documents done, documents in this run)


def product_rows(
    conn: sqlite3.Connection, after_id: int = 0, until_id: int | None = None, batch: int = 5000
) -> Iterator[dict]:
    """Products with after_id < id <= until_id, ordered by id, in batches (inside a read())."""
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: sqlite3.Row costs more than the dict we build
    cursor.execute(
        f"SELECT * FROM {PRODUCTS_TABLE} WHERE id > ? AND id <= ? ORDER BY id",
        (after_id, until_id if until_id is not None else 2**63 - 1),
    )
    columns = [c[0] for c in cursor.description]
    while rows := cursor.fetchmany(batch):
        for row in rows:
            yield dict(zip(columns, row))  # noqa: B905 (same length by construction)


def snapshot_documents(
    conn: sqlite3.Connection, after_id: int = 0, batch: int = 5000
) -> Iterator[tuple[int, orjson.Fragment | dict[str, Any]]]:
    """(id, document) of the products after after_id, in id order (inside a read()):
    rendered as JSON by SQLite (documents.DOCUMENT_SQL), or by to_document for a row
    that SQL leaves to it."""
    cursor = conn.cursor()
    cursor.row_factory = None
    cursor.execute(
        f"SELECT id, {DOCUMENT_SQL} FROM {PRODUCTS_TABLE} WHERE id > ? ORDER BY id", (after_id,)
    )
    while rows := cursor.fetchmany(batch):
        for pk, rendered in rows:
            if rendered is not None:  # JSON already: bulk.py sends it as it is
                yield pk, orjson.Fragment(rendered)
            else:
                yield pk, to_document(next(product_rows(conn, pk - 1, pk)))


@dataclass
class BackfillResult:
    targets: list[str]
    snapshot_seq: int
    resumed_after_id: int
    indexed: int = 0  # documents (each written to every target)
    conflicts: int = 0  # a newer live update already there: expected while the indexer runs
    errors: int = 0
    error_samples: list[dict] = field(default_factory=list)
    retries: int = 0  # bulk requests resent after a transient failure
    seconds: float = 0.0

    @property
    def docs_per_second(self) -> float:
        return (self.indexed + self.conflicts) / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "docs_per_second": round(self.docs_per_second, 1)}


def backfill_flag(conn: sqlite3.Connection, names: Names) -> str | None:
    """The tailer's "backfill required" note (cdc/position.py) as of this snapshot."""
    try:
        recorded = position.load(conn, names.changes_stream)
    except sqlite3.OperationalError:  # CDC not installed
        return None
    return (recorded.note or "backfill required") if recorded.backfill_required else None


def clear_backfill_flag(conn: sqlite3.Connection, names: Names, note: str) -> None:
    """Clear the flag this snapshot saw: events lost before it are in the index now. A flag
    raised again after the snapshot (another note) stays."""
    with sqlite.write(conn):
        conn.execute(
            "UPDATE cdc_position SET backfill_required = 0, note = '' WHERE stream = ? AND"
            " backfill_required = 1 AND (note = ? OR ? = 'backfill required')",
            (names.changes_stream, note, note),
        )


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Keep Python's cyclic garbage collector to a minimum while documents stream through.

    Each document allocates tracked objects (tuples; dicts when built in Python), which
    made the collector run its oldest generation every few thousand documents and walk
    every object of the loaded libraries each time: a third of backfill's CPU when
    documents were dicts. Documents hold no cycles; the old objects are frozen out of
    the walk and collections are rarer for the run.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@contextmanager
def loading(es: Elasticsearch, indexes: list[str], settings: Settings) -> Iterator[None]:
    """Bulk-load settings on indexes no search reads yet: no refreshes, translog fsync in
    the background (Checkpoint waits for it). Restored however the load ends."""
    if not indexes:
        yield
        return
    names = ",".join(indexes)
    es.indices.put_settings(index=names, settings={
        "refresh_interval": "-1", "translog.durability": "async",
    })
    try:
        yield
    finally:
        es.indices.put_settings(index=names, settings={
            "refresh_interval": settings.index_refresh_interval,
            "translog.durability": "request",
        })
        es.indices.flush(index=names)
        es.indices.refresh(index=names)


def checkpoint_key(es: Elasticsearch, targets: list[str]) -> str:
    """The targets by name and creation uuid: an index deleted and created again under the
    same name is empty, and must not resume from the old one's checkpoint."""
    found = es.indices.get_settings(index=",".join(targets), name="index.uuid")
    return ",".join(f"{t}@{found[t]['settings']['index']['uuid']}" for t in sorted(targets))


def forget_checkpoints(database, index_name: str) -> None:
    """Drop checkpoints naming an index that is being deleted (an abandoned reindex)."""
    conn = sqlite.connect(database)
    try:
        with sqlite.write(conn):
            conn.execute(CHECKPOINT_SCHEMA)
            conn.execute(f"DELETE FROM {CHECKPOINT_TABLE} WHERE ',' || target LIKE ?",
                         (f"%,{index_name}@%",))
    finally:
        conn.close()


class Checkpoint:
    """Last product id acknowledged by Elasticsearch, per set of targets, in SQLite.

    With `durable_after` > 0 (indexes loading with an async translog, which Elasticsearch
    fsyncs every translog.sync_interval) an id is recorded only once it was acknowledged
    that long ago: a checkpoint never claims documents a crash could still lose, and no
    flush (a Lucene commit) slows the load.
    """

    def __init__(self, conn: sqlite3.Connection, key: str, *, durable_after: float = 0.0):
        self.conn = conn
        self.key = key
        self.durable_after = durable_after
        self.acknowledged: deque[tuple[float, int, int]] = deque()
        conn.execute(CHECKPOINT_SCHEMA)

    def advance(self, last_id: int, snapshot_seq: int) -> None:
        """Every document up to last_id is acknowledged: record it when it is durable."""
        now = time.monotonic()
        self.acknowledged.append((now, last_id, snapshot_seq))
        durable = None
        while self.acknowledged and self.acknowledged[0][0] <= now - self.durable_after:
            durable = self.acknowledged.popleft()
        if durable is not None:
            self.save(durable[1], durable[2])

    def load(self) -> int:
        row = self.conn.execute(
            f"SELECT last_id FROM {CHECKPOINT_TABLE} WHERE target = ?", (self.key,)
        ).fetchone()
        return int(row[0]) if row else 0

    def save(self, last_id: int, snapshot_seq: int) -> None:
        with sqlite.write(self.conn):
            self.conn.execute(
                f"INSERT OR REPLACE INTO {CHECKPOINT_TABLE} VALUES (?, ?, ?, ?)",
                (self.key, last_id, snapshot_seq, time.time()),
            )

    def clear(self) -> None:
        with sqlite.write(self.conn):
            self.conn.execute(f"DELETE FROM {CHECKPOINT_TABLE} WHERE target = ?", (self.key,))


class Watermark:
    """Chunks start in id order and finish in any order. `acknowledged` is the highest id
    up to which every chunk finished: as far as a checkpoint may go."""

    def __init__(self, acknowledged: int = 0):
        self.acknowledged = acknowledged
        self.started: deque[int] = deque()  # last id of each unfinished chunk, in id order
        self.finished: set[int] = set()

    def start(self, last_id: int) -> None:
        self.started.append(last_id)

    def finish(self, last_id: int) -> None:
        self.finished.add(last_id)
        while self.started and self.started[0] in self.finished:
            self.acknowledged = self.started.popleft()
            self.finished.remove(self.acknowledged)


class Backfill:
    """`Backfill(settings, es).run()`: every product into every write target."""

    def __init__(
        self,
        settings: Settings,
        es: Elasticsearch,
        *,
        targets: list[str] | None = None,
        chunk_size: int = 2000,
        threads: int = 2,
        restart: bool = False,
        progress: Progress | None = None,
    ):
        self.settings = settings
        self.es = es
        self.names = Names.from_settings(settings)
        self.targets = targets
        self.chunk_size = chunk_size
        self.threads = threads
        self.restart = restart
        self.progress = progress
        self.publish_after: str | None = None

    def run(self) -> BackfillResult:
        targets = self.targets or self.resolve_targets()
        unread = [t for t in targets if t != index.read_index(self.es, self.names)]
        reader = sqlite.connect(self.settings.database, readonly=True)
        writer = sqlite.connect(self.settings.database)
        try:
            checkpoint = Checkpoint(writer, checkpoint_key(self.es, targets),
                                    durable_after=DURABLE_AFTER_SECONDS if unread else 0.0)
            after_id = 0 if self.restart else checkpoint.load()
            with sqlite.read(reader), loading(self.es, unread, self.settings), \
                    fewer_collections():
                head = changelog_head(reader)
                flag = backfill_flag(reader, self.names)
                total = reader.execute(
                    f"SELECT count(*) FROM {PRODUCTS_TABLE} WHERE id > ?", (after_id,)
                ).fetchone()[0]
                result = BackfillResult(targets, head, after_id)
                started = time.monotonic()
                self.index_snapshot(reader, after_id, total, targets, checkpoint, result)
                result.seconds = time.monotonic() - started
            if not result.errors:
                checkpoint.clear()
                if self.publish_after:
                    index.swap_read_alias(self.es, self.names, self.publish_after)
                if flag and self.targets is None:
                    clear_backfill_flag(writer, self.names, flag)
            return result
        finally:
            reader.close()
            writer.close()

    def resolve_targets(self) -> list[str]:
        """The write alias's indexes; on a first build a new index that gets the read alias
        only once it is full (so it loads with bulk settings, and no search sees it half)."""
        targets = index.write_targets(self.es, self.names)
        if targets:
            if index.read_index(self.es, self.names) is None:  # an interrupted first build
                self.publish_after = max(targets, key=lambda t: int(t.rsplit("-v", 1)[1]))
            return targets
        new = index.create_index(self.es, self.names, index.next_version(self.es, self.names),
                                 self.settings.index_refresh_interval)
        index.add_write_target(self.es, self.names, new)
        self.publish_after = new
        return [new]

    def index_snapshot(
        self, reader: sqlite3.Connection, after_id: int, total: int, targets: list[str],
        checkpoint: Checkpoint, result: BackfillResult,
    ) -> None:
        """Chunks of the snapshot as bulk requests: `threads` in flight and one more ready,
        read while the others index.

        Requests finish in any order, and a new one goes out as soon as any finishes:
        Elasticsearch holds a request for a second or two while it writes a segment, and
        waiting for that one in id order left a core idle each time (a tenth of the run).
        The checkpoint still only passes ids that every target acknowledged, with every
        id before them (Watermark).
        """
        bulk = VersionedBulk(self.es, concurrency=1, min_chunk=self.chunk_size,
                             version_type="external_gte")
        docs = snapshot_documents(reader, after_id, batch=self.chunk_size)
        unfinished: dict[Future[Outcome], list[Write]] = {}
        watermark = Watermark(after_id)
        done = since_checkpoint = 0

        def settle() -> None:
            nonlocal done, since_checkpoint
            finished, _ = wait(unfinished, return_when=FIRST_COMPLETED)
            for future in finished:
                writes = unfinished.pop(future)
                self.record(future.result(), writes, result)
                watermark.finish(int(writes[-1].doc_id))
                done += len(writes)
                since_checkpoint += len(writes)
            # After a failed document the checkpoint stays put, so a rerun retries it.
            if since_checkpoint >= CHECKPOINT_EVERY and not result.errors:
                checkpoint.advance(watermark.acknowledged, result.snapshot_seq)
                since_checkpoint = 0
            if self.progress:
                self.progress(done, total)

        with ThreadPoolExecutor(self.threads, thread_name_prefix="backfill") as pool:
            for chunk in iter(lambda: list(islice(docs, self.chunk_size)), []):
                writes = [Write(str(pk), result.snapshot_seq, doc) for pk, doc in chunk]
                deadline = time.monotonic() + PATIENCE_SECONDS
                watermark.start(int(writes[-1].doc_id))
                future = pool.submit(bulk.write, writes, targets,
                                     keep_waiting=lambda d=deadline: time.monotonic() < d)
                unfinished[future] = writes
                if len(unfinished) > self.threads:
                    settle()
            while unfinished:
                settle()
        if self.progress:
            self.progress(done, total)

    @staticmethod
    def record(outcome: Outcome, writes: list[Write], result: BackfillResult) -> None:
        result.retries += outcome.retries
        for i, status in enumerate(outcome.status):
            if status == REJECTED:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(
                        {"_id": writes[i].doc_id, "error": outcome.reasons[i]})
            elif status == CONFLICT:
                result.conflicts += 1
            else:
                result.indexed += 1
