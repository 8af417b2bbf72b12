"""Versioned bulk writes: every document to every write target, `version=seq`,
`version_type=external`, so Elasticsearch keeps the highest seq whatever order writes
arrive in. The one place that talks the bulk API; a second search engine would be a
second file with the same `VersionedBulk.write()`.

Per write the outcome is one of: applied, conflict (409: the index already holds a
newer or equal version, which is success for an idempotent consumer), or rejected
(400-class: the document itself is wrong, a dead letter). Connection errors, 429 and
5xx are transient: the failing writes are retried with capped exponential backoff
until they resolve or the caller stops waiting.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from elasticsearch import ApiError, Elasticsearch, TransportError

log = logging.getLogger(__name__)

APPLIED, CONFLICT, REJECTED = "applied", "conflict", "rejected"
# An index or cluster write block (e.g. disk flood stage) is the cluster's state, not the
# document's fault: wait for it to lift rather than dead-letter good documents.
TRANSIENT_ERRORS = {"cluster_block_exception", "es_rejected_execution_exception"}
# Per item only its status and any error: ~25 bytes of response instead of ~250, which
# Elasticsearch no longer writes and we no longer parse.
RESPONSE_FIELDS = "errors,items.*.status,items.*.error"
# One request stays well under Elasticsearch's http.max_content_length (100 MB).
MAX_REQUEST_BYTES = 20 * 1024 * 1024


class Write(NamedTuple):  # a tuple: built once per document in backfill's hot loop
    doc_id: str
    version: int  # the changelog seq
    source: dict[str, Any] | orjson.Fragment  # a Fragment: JSON rendered already (backfill)


@dataclass
class Outcome:
    """Per write (by position in the list given to write()): APPLIED, CONFLICT or REJECTED."""

    status: list[str] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)
    retries: int = 0

    def count(self, status: str) -> int:
        return self.status.count(status)


@dataclass
class Backoff:
    """Exponential backoff with jitter, capped: 0.1 s, 0.2 s, ... up to `cap` seconds."""

    base: float = 0.1
    cap: float = 5.0
    attempt: int = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.base * (2 ** self.attempt))
        self.attempt += 1
        return delay * random.uniform(0.5, 1.0)


class StopWaiting(Exception):
    """The caller asked to stop while Elasticsearch was failing; nothing was resolved."""


class VersionedBulk:
    def __init__(
        self, es: Elasticsearch, *, concurrency: int = 2, min_chunk: int = 200,
        backoff_cap: float = 5.0, version_type: str = "external",
    ):
        """version_type "external": a write lands only above the version held; backfill
        uses "external_gte" (rewriting a snapshot at the same version is harmless)."""
        self.es = es
        self.version_type = version_type
        self.concurrency = max(1, concurrency)
        self.min_chunk = min_chunk  # below this, one more request costs more than it saves
        self.backoff_cap = backoff_cap
        self._executor: ThreadPoolExecutor | None = None

    def write(
        self,
        writes: list[Write],
        targets: list[str],
        *,
        keep_waiting: Callable[[], bool] = lambda: True,
        while_waiting: Callable[[], None] = lambda: None,
    ) -> Outcome:
        """Write every write to every target; return once each has an outcome.

        Raises StopWaiting if keep_waiting() turns false while transient failures last.
        """
        # CONFLICT until some target applies the write: a write every target already
        # held at its version (or newer) is a conflict, which an idempotent caller acks.
        outcome = Outcome(status=[CONFLICT] * len(writes))
        pending = [(i, t) for i in range(len(writes)) for t in targets]
        backoff = Backoff(cap=self.backoff_cap)
        while pending:
            pending, reason = self._attempt(writes, pending, outcome)
            if not pending:
                break
            outcome.retries += 1
            if not keep_waiting():
                raise StopWaiting(reason)
            delay = backoff.next_delay()
            log.warning("elasticsearch: %d write(s) failed transiently (%s); retry in %.2fs",
                        len(pending), reason, delay)
            while_waiting()
            time.sleep(delay)
        return outcome

    def _attempt(self, writes, pending, outcome: Outcome) -> tuple[list, str]:
        """One pass over `pending` (write, target) pairs; return those to retry and why.

        The pairs go out as up to `concurrency` bulk requests at once: one request keeps
        one write thread of the shard busy, two keep both cores of a small node busy.
        """
        size = max(self.min_chunk, -(-len(pending) // self.concurrency))
        chunks = [pending[i:i + size] for i in range(0, len(pending), size)]
        if len(chunks) == 1:
            results = [self._send(writes, chunks[0])]
        else:
            results = list(self._pool().map(lambda c: self._send(writes, c), chunks))
        status = outcome.status
        retry: list[tuple[int, str]] = []
        reason = ""
        for groups, error in results:
            for pairs, result, text in groups:
                if result is None:
                    retry.extend(pairs)
                    reason = text
                elif result == APPLIED:
                    for i, _target in pairs:
                        if status[i] != REJECTED:
                            status[i] = APPLIED
                elif result == REJECTED:
                    for i, target in pairs:
                        status[i] = REJECTED
                        outcome.reasons[i] = f"{target}: {text}"
            reason = error or reason
        # A write rejected on one target is a dead letter; do not retry it on the others.
        return [(i, t) for i, t in retry if status[i] != REJECTED], reason

    def _send(self, writes, chunk) -> tuple[list, str]:
        """Bulk requests for `chunk`: [(pairs, status or None for transient, error text)]
        (one group for a request that applied everything, else one per pair), error.

        The NDJSON body is built here, one orjson call per line, and sent as bytes: the
        bulk helpers' per-action dicts, re-serialisation and full responses cost more
        CPU than Elasticsearch spends indexing on a small machine.
        """
        out: list = []
        requests = list(self._requests(writes, chunk, out))
        # In order; after a failed request, it and every later one are transient.
        for n, (sent, body) in enumerate(requests):
            try:
                response = self.es.bulk(operations=body, filter_path=RESPONSE_FIELDS).body
            except (ApiError, TransportError) as exc:
                return _unsent(out, requests[n:], _describe(exc))
            if response.get("errors") is False:  # every item applied
                out.append((sent, APPLIED, ""))
                continue
            items = response.get("items") or []
            if len(items) != len(sent):  # never expected; resend rather than guess
                return _unsent(out, requests[n:],
                               f"bulk response had {len(items)} items for {len(sent)} writes")
            for pair, item in zip(sent, items, strict=True):
                status = next(iter(item.values())).get("status")
                out.append(([pair], *_classify(isinstance(status, int) and 200 <= status < 300,
                                               item)))
        return out, ""

    def _requests(self, writes, chunk, out: list) -> Iterator[tuple[list, bytes]]:
        """(pairs, NDJSON body) per request of at most MAX_REQUEST_BYTES. A write that
        cannot be serialised (say an integer beyond 64 bits) is rejected here, alone."""
        sent: list = []
        lines: list[bytes] = []
        size = 0
        version_type = orjson.dumps(self.version_type)
        for pair in chunk:
            i, target = pair
            write = writes[i]
            try:
                line = b'{"index":{"_index":%b,"_id":%b,"version":%d,"version_type":%b}}\n%b\n' % (
                    orjson.dumps(target), orjson.dumps(write.doc_id), write.version, version_type,
                    orjson.dumps(write.source),
                )
            except (TypeError, orjson.JSONEncodeError) as exc:
                out.append(([pair], REJECTED, f"not serialisable as JSON: {exc}"))
                continue
            if lines and size + len(line) > MAX_REQUEST_BYTES:
                yield sent, b"".join(lines)
                sent, lines, size = [], [], 0
            sent.append(pair)
            lines.append(line)
            size += len(line)
        if lines:
            yield sent, b"".join(lines)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix="bulk")
        return self._executor


def _unsent(out: list, requests: list[tuple[list, bytes]], error: str) -> tuple[list, str]:
    return out + [(sent, None, error) for sent, _ in requests], error


def _classify(ok: bool, item: dict[str, Any]) -> tuple[str | None, str]:
    """(APPLIED | CONFLICT | REJECTED | None for transient, error text) of one bulk item."""
    if ok:
        return APPLIED, ""
    info = next(iter(item.values()))
    status = info.get("status")
    error = info.get("error") or {}
    kind = error.get("type", "") if isinstance(error, dict) else ""
    text = _error_text(error)
    if status == 409:
        return CONFLICT, text
    if not isinstance(status, int) or status == 429 or status >= 500 or kind in TRANSIENT_ERRORS:
        return None, f"{status} {text}"
    return REJECTED, f"{status} {text}"


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
    cause = error.get("caused_by")
    if isinstance(cause, dict):
        text += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    return text


def _describe(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        return f"{exc.status_code} {exc.message}"
    return f"{type(exc).__name__}: {exc}"
