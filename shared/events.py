"""The change-event contract: one changelog row as it travels on the Redis stream.

Entry ID is `<seq>-0`, so a consumer maps every entry back to its changelog row and
the stream's top ID is the tailer's position. Fields are flat strings (Redis stream
fields); `row` and `old` are JSON objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

SCHEMA_VERSION = 1
OPS = ("insert", "update", "delete")
Op = Literal["insert", "update", "delete"]


class EventError(ValueError):
    """An entry that does not follow the contract (a poison event): goes to the DLQ."""


@dataclass(frozen=True)
class ChangeEvent:
    seq: int
    table: str
    op: Op
    pk: str
    row: dict[str, Any]
    old: dict[str, Any] | None
    ts: int  # commit time, ms since the epoch
    v: int = SCHEMA_VERSION

    @property
    def entry_id(self) -> str:
        return entry_id(self.seq)

    def to_fields(self) -> dict[str, str]:
        fields = {
            "v": str(self.v),
            "table": self.table,
            "op": self.op,
            "pk": self.pk,
            "row": json.dumps(self.row, ensure_ascii=False, separators=(",", ":")),
            "ts": str(self.ts),
        }
        if self.old is not None:
            fields["old"] = json.dumps(self.old, ensure_ascii=False, separators=(",", ":"))
        return fields

    @classmethod
    def from_entry(cls, entry_id: str | bytes, fields: dict) -> ChangeEvent:
        """Parse a stream entry; raise EventError saying what is wrong with it."""
        eid = _text(entry_id)
        f = {_text(k): _text(v) for k, v in fields.items()}
        try:
            seq = seq_of(eid)
            v = int(f.get("v", ""))
        except ValueError as exc:
            raise EventError(f"bad entry id or schema version: {exc}") from None
        if v != SCHEMA_VERSION:
            raise EventError(f"unsupported schema version {v} (this build reads {SCHEMA_VERSION})")
        missing = [k for k in ("table", "op", "pk", "row", "ts") if k not in f]
        if missing:
            raise EventError(f"missing field(s): {', '.join(missing)}")
        if f["op"] not in OPS:
            raise EventError(f"unknown op {f['op']!r}")
        row = _json_object(f["row"], "row")
        old = _json_object(f["old"], "old") if "old" in f else None
        try:
            ts = int(f["ts"])
        except ValueError:
            raise EventError(f"ts is not an integer: {f['ts']!r}") from None
        return cls(seq=seq, table=f["table"], op=f["op"], pk=f["pk"], row=row, old=old, ts=ts, v=v)


def entry_id(seq: int) -> str:
    return f"{seq}-0"


def seq_of(entry_id: str | bytes) -> int:
    """The changelog seq an entry ID stands for ("42-0" -> 42)."""
    ms, _, n = _text(entry_id).partition("-")
    if n not in ("", "0"):
        raise ValueError(f"entry id {entry_id!r} was not written by the tailer")
    return int(ms)


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _json_object(raw: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise EventError(f"{name} is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise EventError(f"{name} is not a JSON object")
    return value


def encoded_fields(table: str, op: str, pk: str, row_json: str, old_json: str | None,
                   ts: int) -> dict[str, str]:
    """The fields of ChangeEvent.to_fields() from `row`/`old` that are already JSON text.

    The tailer passes SQLite's json_object() output straight through instead of decoding
    and re-encoding every row (twice the catch-up throughput); consumers parse it the same.
    """
    fields = {"v": str(SCHEMA_VERSION), "table": table, "op": op, "pk": pk, "row": row_json,
              "ts": str(ts)}
    if old_json is not None:
        fields["old"] = old_json
    return fields
