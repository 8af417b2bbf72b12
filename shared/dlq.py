"""Dead letters: entries a consumer (indexer, thumbnail dispatcher) cannot apply, kept on
`<namespace>:dlq` with the original entry ID and fields, the reason and the consumer.

A dead letter is written in the same Redis transaction (MULTI) as the XACK of its
entry, so an entry is always either pending on the changes stream or in the DLQ.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from shared.names import Names


@dataclass(frozen=True)
class DeadLetter:
    id: str  # the DLQ entry's own ID
    entry_id: str  # the original entry's ID on the changes stream
    fields: dict[str, str]  # the original entry's fields, unchanged
    reason: str
    consumer: str
    stream: str
    failed_at: float

    def as_dict(self) -> dict:
        return {
            "id": self.id, "entry_id": self.entry_id, "fields": self.fields,
            "reason": self.reason, "consumer": self.consumer, "stream": self.stream,
            "failed_at": self.failed_at,
        }


def letter_fields(
    entry_id: str, fields: dict[str, str], reason: str, consumer: str, stream: str
) -> dict[str, str]:
    """The DLQ entry for one failed stream entry (flat strings, as streams need)."""
    return {
        "entry_id": entry_id,
        "fields": json.dumps(fields, ensure_ascii=False),
        "reason": reason[:2000],
        "consumer": consumer,
        "stream": stream,
        "failed_at": f"{time.time():.3f}",
    }


class DeadLetters:
    def __init__(self, r: redis.Redis, names: Names):
        self.r = r
        self.names = names

    @property
    def stream(self) -> str:
        return self.names.dlq_stream

    def add(self, pipe, entry_id: str, fields: dict[str, str], reason: str, consumer: str) -> None:
        """Queue the dead letter on `pipe` (a pipeline the caller executes with its XACK)."""
        pipe.xadd(self.stream, letter_fields(
            entry_id, fields, reason, consumer, self.names.changes_stream))

    def length(self) -> int:
        return self.r.xlen(self.stream)

    def list(self, limit: int = 50) -> list[DeadLetter]:
        """The oldest `limit` dead letters."""
        return [_parse(i, f) for i, f in self.r.xrange(self.stream, count=limit)]

    def get(self, ids: list[str]) -> list[DeadLetter]:
        """Dead letters by DLQ ID or by original entry ID; unknown IDs raise KeyError."""
        everything = [_parse(i, f) for i, f in self.r.xrange(self.stream)]
        found = []
        for wanted in ids:
            match = [d for d in everything if wanted in (d.id, d.entry_id)]
            if not match:
                raise KeyError(wanted)
            found.extend(m for m in match if m not in found)
        return found

    def all(self) -> list[DeadLetter]:
        return [_parse(i, f) for i, f in self.r.xrange(self.stream)]

    def remove(self, ids: list[str]) -> None:
        if ids:
            self.r.xdel(self.stream, *ids)

    def update_reason(self, letter: DeadLetter, reason: str, consumer: str) -> None:
        """A replay failed again: keep one dead letter, with the newest reason."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.xdel(self.stream, letter.id)
            pipe.xadd(self.stream, letter_fields(
                letter.entry_id, letter.fields, reason, consumer, letter.stream))
            pipe.execute()


def _parse(dlq_id: str, f: dict[str, str]) -> DeadLetter:
    try:
        original = json.loads(f.get("fields", "{}"))
    except json.JSONDecodeError:
        original = {}
    return DeadLetter(
        id=dlq_id,
        entry_id=f.get("entry_id", ""),
        fields=original if isinstance(original, dict) else {},
        reason=f.get("reason", ""),
        consumer=f.get("consumer", ""),
        stream=f.get("stream", ""),
        failed_at=float(f.get("failed_at") or 0),
    )
