"""Verify: prove the index matches SQLite, or list every difference; repair exactly those.

Both sides are streamed sorted by product id and merge-joined: SQLite rows in one read
transaction, index documents with a point in time and search_after on the numeric `id`
field (a fetch thread keeps the next pages coming while this one compares). No
per-document round trips.

Events still in flight are not drift: the changelog head H is read with the snapshot, and
ids that differ are re-checked once the indexer group has acknowledged H (and again for
each newer head, a few rounds at most). What still differs after that is reported.

Repair re-reads those rows with the current head H in one snapshot and writes them (or a
tombstone for an extra document) at version H, external_gte: a live update newer than
the repair's snapshot keeps winning.
"""

from __future__ import annotations

import multiprocessing
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import redis
from elasticsearch import Elasticsearch

from indexer import index
from indexer.backfill import PRODUCTS_TABLE, product_rows
from indexer.bulk import APPLIED, CONFLICT, VersionedBulk, Write
from indexer.documents import COMPARED_FIELDS, to_document, tombstone
from indexer.es_client import search_client
from indexer.positions import changelog_head, indexer_position, wait_for_position
from shared import sqlite
from shared.names import Names
from shared.settings import Settings

PAGE_SIZE = 10_000  # the most a search returns by default (index.max_result_window)
PARALLEL_FROM_ROWS = 200_000  # below this, one process is as fast as several
RECHECK_ROUNDS = 5
REPAIR_PATIENCE_SECONDS = 60.0  # of transient bulk failures before repair gives up
_END = object()


@dataclass
class Difference:
    kind: str  # "missing" (row, no document) | "extra" (document, no row) | "stale"
    id: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name: (sqlite, index)

    def describe(self) -> str:
        detail = "; ".join(
            f"{k}: {db!r} (db) != {ix!r} (index)" for k, (db, ix) in self.fields.items()
        )
        return f"{self.kind:7} {self.id}" + (f"  {detail}" if detail else "")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id,
                "fields": {k: {"db": v[0], "index": v[1]} for k, v in self.fields.items()}}


@dataclass
class VerifyReport:
    index: str
    head: int
    rows: int = 0
    documents: int = 0
    differences: list[Difference] = field(default_factory=list)
    rechecked: int = 0
    indexer_position: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "head": self.head, "rows": self.rows,
            "documents": self.documents, "ok": self.ok, "rechecked": self.rechecked,
            "indexer_position": self.indexer_position, "seconds": round(self.seconds, 3),
            "differences": [d.as_dict() for d in self.differences],
        }


@dataclass
class RepairAction:
    id: str
    action: str  # "indexed" | "tombstoned" | "skipped" | "failed"
    reason: str = ""

    def describe(self) -> str:
        return f"{self.action:10} {self.id}" + (f"  ({self.reason})" if self.reason else "")


def compare(pk: str, row: dict | None, source: dict | None) -> Difference | None:
    if row is None and source is None:
        return None
    if source is None:
        return Difference("missing", pk)
    if row is None:
        return Difference("extra", pk)
    expected = to_document(row)
    fields = {f: (expected.get(f), source.get(f)) for f in COMPARED_FIELDS
              if expected.get(f) != source.get(f)}
    return Difference("stale", pk, fields) if fields else None


class Verify:
    """`Verify(settings, es, r).run()` → VerifyReport; `.repair(report)` → actions."""

    def __init__(
        self, settings: Settings, es: Elasticsearch, r: redis.Redis | None, *,
        index_name: str | None = None, wait: float = 30.0, page_size: int = PAGE_SIZE,
        workers: int = 2,
    ):
        self.settings = settings
        self.es = es
        self.r = r
        self.names = Names.from_settings(settings)
        self.index_name = index_name
        self.wait = wait
        self.page_size = page_size
        self.workers = workers

    def run(self) -> VerifyReport:
        started = time.monotonic()
        target = self.index_name or index.read_index(self.es, self.names)
        if target is None:
            raise LookupError(f"no index behind alias {self.names.index_alias!r}: run backfill")
        report = self.scan(target)
        if report.differences:
            report.differences = self.recheck(target, report)
        report.seconds = time.monotonic() - started
        return report

    # -- the full comparison ------------------------------------------------------------

    def scan(self, target: str) -> VerifyReport:
        """Every row against every live document; id ranges in parallel processes when
        the table is large (each range its own snapshot: differences are re-checked)."""
        ranges = self.id_ranges()
        if len(ranges) == 1:
            report, unkeyed = scan_range(self.settings, target, None, self.page_size)
        else:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(len(ranges), mp_context=context) as pool:
                parts = list(pool.map(scan_range, repeat(self.settings), repeat(target),
                                      ranges, repeat(self.page_size)))
            report = combine(target, [part for part, _ in parts])
            unkeyed = self.unkeyed_documents(target, report)
            for _, set_aside in parts:  # an `id` field that disagrees with _id
                unkeyed.update(set_aside)
        conn = sqlite.connect(self.settings.database, readonly=True)
        try:
            with sqlite.read(conn):
                report.differences = settle_unkeyed(conn, report.differences, unkeyed)
        finally:
            conn.close()
        return report

    def id_ranges(self) -> list[tuple[int | None, int | None] | None]:
        """[None] (one pass), or `workers` ranges covering every id, open at both ends."""
        if self.workers <= 1:
            return [None]
        conn = sqlite.connect(self.settings.database, readonly=True)
        try:
            low, high, count = conn.execute(
                f"SELECT min(id), max(id), count(*) FROM {PRODUCTS_TABLE}"
            ).fetchone()
        finally:
            conn.close()
        if count < PARALLEL_FROM_ROWS:
            return [None]
        step = (high - low + 1) // self.workers + 1
        cuts = [low + step * i for i in range(1, self.workers)]
        return [(None if i == 0 else cuts[i - 1], cuts[i] if i < len(cuts) else None)
                for i in range(self.workers)]

    def unkeyed_documents(self, target: str, report: VerifyReport) -> dict[str, dict]:
        """Live documents without an `id` field: no id range holds them."""
        found = self.es.search(
            index=target, size=10_000, source=["id", *COMPARED_FIELDS],
            query={"bool": {"filter": [index.LIVE_FILTER],
                            "must_not": [{"exists": {"field": "id"}}]}},
        )["hits"]["hits"]
        report.documents += len(found)
        return {hit["_id"]: hit["_source"] for hit in found}

    # -- in-flight events are not drift -------------------------------------------------

    def recheck(self, target: str, report: VerifyReport) -> list[Difference]:
        differences = report.differences
        head = report.head
        for _ in range(RECHECK_ROUNDS):
            # Without an indexer group nothing is in flight: no point waiting for one.
            if self.r is not None and head > 0 and indexer_position(self.r, self.names) is not None:
                wait_for_position(self.r, self.names, head, timeout=self.wait)
                report.indexer_position = indexer_position(self.r, self.names)
            head, differences = self.check_ids(target, [d.id for d in differences])
            report.rechecked += 1
            if not differences or head <= report.head:
                break
            report.head = head
        return differences

    def check_ids(self, target: str, ids: list[str]) -> tuple[int, list[Difference]]:
        """Compare just these ids, from a new snapshot and the index as of now."""
        head, rows = self.snapshot_rows(ids)
        sources = self.live_sources(target, ids)
        found = [compare(pk, rows.get(pk), sources.get(pk)) for pk in ids]
        return head, [d for d in found if d is not None]

    def snapshot_rows(self, ids: list[str]) -> tuple[int, dict[str, dict]]:
        """The changelog head and these rows, read in one snapshot."""
        conn = sqlite.connect(self.settings.database, readonly=True)
        try:
            with sqlite.read(conn):
                return changelog_head(conn), rows_by_id(conn, ids)
        finally:
            conn.close()

    def live_sources(self, target: str, ids: list[str]) -> dict[str, dict]:
        out = {}
        for chunk in _chunks(ids, 1000):
            for doc in self.es.mget(index=target, ids=chunk)["docs"]:
                if doc.get("found") and not doc["_source"].get("deleted"):
                    out[doc["_id"]] = doc["_source"]
        return out

    # -- repair -------------------------------------------------------------------------

    def repair(self, differences: list[Difference]) -> list[RepairAction]:
        """Rewrite exactly these documents at the current head, in every write target."""
        ids = [d.id for d in differences]
        head, rows = self.snapshot_rows(ids)
        targets = index.write_targets(self.es, self.names) or [self.index_name]
        # external_gte at the head: a live update above it still wins (a 409: skipped).
        writes = [Write(pk, head, to_document(rows[pk]) if pk in rows else tombstone())
                  for pk in ids]
        deadline = time.monotonic() + REPAIR_PATIENCE_SECONDS
        written = VersionedBulk(self.es, version_type="external_gte").write(
            writes, targets, keep_waiting=lambda: time.monotonic() < deadline)
        outcome: dict[str, RepairAction] = {}
        for i, pk in enumerate(ids):
            status = written.status[i]
            if status == APPLIED:
                kind = "indexed" if pk in rows else "tombstoned"
                outcome[pk] = RepairAction(pk, kind, f"version {head}")
            elif status == CONFLICT:
                outcome[pk] = RepairAction(pk, "skipped", "a newer version is already indexed")
            else:
                outcome[pk] = RepairAction(pk, "failed", written.reasons[i])
        self.es.indices.refresh(index=",".join(targets))
        self.confirm(ids, outcome)
        return [outcome[pk] for pk in ids if pk in outcome]

    def confirm(self, ids: list[str], outcome: dict[str, RepairAction]) -> None:
        """A repair that left the document different failed, whatever the write said: e.g.
        someone wrote the index directly with a version above the changelog head."""
        target = self.index_name or index.read_index(self.es, self.names)
        head, remaining = self.check_ids(target, ids)
        if remaining and self.r is not None and head > 0:  # a live update may be in flight
            wait_for_position(self.r, self.names, head, timeout=self.wait)
            _, remaining = self.check_ids(target, [d.id for d in remaining])
        for d in remaining:
            previous = outcome.get(d.id)
            if previous is None or previous.action != "skipped":
                outcome[d.id] = RepairAction(d.id, "failed", f"still {d.kind} after repair")
            else:
                outcome[d.id] = RepairAction(
                    d.id, "failed", f"still {d.kind}: the index holds a version above the "
                    "changelog head (written outside the pipeline?); `catalog reindex` fixes it")


def scan_range(
    settings: Settings, target: str, bounds: tuple[int | None, int | None] | None,
    page_size: int,
) -> tuple[VerifyReport, dict[str, dict]]:
    """Merge-join one id range (None: all ids) in its own snapshot. Runs in a worker
    process, so it opens its own connections. Returns the report and the documents set
    aside for lacking a usable `id` (only when unbounded: ranges exclude them)."""
    es = search_client(settings)
    conn = sqlite.connect(settings.database, readonly=True)
    try:
        with sqlite.read(conn):
            report = VerifyReport(index=target, head=changelog_head(conn))
            # Refresh after the snapshot: the index shows at least what was applied then.
            es.indices.refresh(index=target)
            fetched = DocumentStream(es, target, bounds, page_size, report)
            low, high = bounds or (None, None)
            rows = product_rows(conn, after_id=(low - 1) if low is not None else 0,
                                until_id=(high - 1) if high is not None else None)
            report.differences = list(merge(rows, iter(fetched), report))
    finally:
        conn.close()
        es.close()
    return report, fetched.unkeyed


def combine(target: str, parts: list[VerifyReport]) -> VerifyReport:
    """One report from the ranges' reports; the head is the newest snapshot's, so the
    re-check waits for everything any range could have seen."""
    report = VerifyReport(index=target, head=max(p.head for p in parts))
    for part in parts:
        report.rows += part.rows
        report.documents += part.documents
        report.differences += part.differences
    return report


class DocumentStream:
    """(id, source) of the live documents in an id range, sorted by id, fetched by a
    thread a few pages ahead (point in time + search_after). Unbounded, documents whose
    `id` field is missing or disagrees with _id sort last and are set aside in `unkeyed`."""

    def __init__(self, es: Elasticsearch, target: str,
                 bounds: tuple[int | None, int | None] | None, page_size: int,
                 report: VerifyReport):
        self.es = es
        self.target = target
        self.bounds = bounds
        self.page_size = page_size
        self.report = report
        self.unkeyed: dict[str, dict] = {}
        self.pages: queue.Queue = queue.Queue(maxsize=4)

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        threading.Thread(target=self.fetch, daemon=True).start()
        while (page := self.pages.get()) is not _END:
            if isinstance(page, BaseException):
                raise page
            for hit in page:
                self.report.documents += 1
                source = hit["_source"]
                if source.get("id") is None or str(source["id"]) != hit["_id"]:
                    self.unkeyed[hit["_id"]] = source
                else:
                    yield int(source["id"]), source

    def query(self) -> dict[str, Any]:
        filters: list[dict] = [index.LIVE_FILTER]
        if self.bounds is not None:
            low, high = self.bounds
            span = {"gte": low} if low is not None else {}
            if high is not None:
                span["lt"] = high
            filters.append({"range": {"id": span}} if span else {"exists": {"field": "id"}})
        return {"bool": {"filter": filters}}

    def fetch(self) -> None:
        try:
            pit = self.es.open_point_in_time(index=self.target, keep_alive="2m")["id"]
            try:
                after = None
                while True:
                    body: dict[str, Any] = {
                        "size": self.page_size, "query": self.query(),
                        "sort": [{"id": {"order": "asc", "missing": "_last"}}],
                        "_source": ["id", *COMPARED_FIELDS],
                        "pit": {"id": pit, "keep_alive": "2m"}, "track_total_hits": False,
                    }
                    if after is not None:
                        body["search_after"] = after
                    hits = self.es.search(**body)["hits"]["hits"]
                    if not hits:
                        break
                    self.pages.put(hits)
                    after = hits[-1]["sort"]
            finally:
                self.es.options(ignore_status=404).close_point_in_time(id=pit)
            self.pages.put(_END)
        except BaseException as exc:  # handed to the reading side, which raises it
            self.pages.put(exc)


def merge(
    rows: Iterator[dict], docs: Iterator[tuple[int, dict]], report: VerifyReport
) -> Iterator[Difference]:
    """Differences of two id-sorted streams: rows, and (id, source) documents."""
    row = next(rows, None)
    doc = next(docs, None)
    while row is not None or doc is not None:
        row_id = int(row["id"]) if row is not None else None
        doc_id = doc[0] if doc is not None else None
        if doc_id is None or (row_id is not None and row_id < doc_id):
            report.rows += 1
            yield from _some(compare(str(row_id), row, None))
            row = next(rows, None)
        elif row_id is None or doc_id < row_id:
            yield from _some(compare(str(doc_id), None, doc[1]))
            doc = next(docs, None)
        else:
            report.rows += 1
            yield from _some(compare(str(row_id), row, doc[1]))
            row, doc = next(rows, None), next(docs, None)


def settle_unkeyed(
    conn: sqlite3.Connection, found: list[Difference], unkeyed: dict[str, dict]
) -> list[Difference]:
    """Documents without a usable `id` field sorted last, outside the merge: one whose _id
    names a row turns that row's "missing" into "stale"; the others are extra."""
    if not unkeyed:
        return found
    rows = rows_by_id(conn, list(unkeyed))
    settled = []
    for d in found:
        source = unkeyed.pop(d.id, None) if d.kind == "missing" else None
        if source is None:
            settled.append(d)
            continue
        stale = compare(d.id, rows[d.id], source) or Difference("stale", d.id)
        stale.fields["id"] = (int(d.id), source.get("id"))
        settled.append(stale)
    settled += [compare(pk, rows.get(pk), source) or Difference("stale", pk)
                for pk, source in sorted(unkeyed.items())]
    return settled


def rows_by_id(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, dict]:
    numeric = [int(pk) for pk in ids if pk.isdigit()]
    out = {}
    for chunk in _chunks(numeric, 500):
        marks = ",".join("?" * len(chunk))
        cursor = conn.execute(f"SELECT * FROM {PRODUCTS_TABLE} WHERE id IN ({marks})", chunk)
        columns = [c[0] for c in cursor.description]
        for values in cursor:
            row = dict(zip(columns, values, strict=True))
            out[str(row["id"])] = row
    return out


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _some(difference: Difference | None) -> Iterator[Difference]:
    if difference is not None:
        yield difference
