"""The Redis side of the tailer: the changes stream, its top ID, and what the groups acknowledged.

Entry IDs are `<seq>-0`. Redis refuses an XADD whose ID is not above the stream's top,
which is what makes a republish after a crash harmless: each refused entry is one we had
already published. Once the stream exists, entries go in with NOMKSTREAM, so a Redis that
restarted empty answers nil instead of silently starting a new stream in the middle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from shared.events import ChangeEvent, seq_of
from shared.names import CONSUMER_GROUPS

_DUPLICATE = "equal or smaller than the target stream top"


class StreamMissing(RuntimeError):
    """The stream vanished under us (Redis restarted empty, or someone deleted it)."""


@dataclass(frozen=True)
class GroupState:
    name: str
    exists: bool
    acked_seq: int  # every entry up to here is acknowledged by this group
    pending: int
    last_delivered_seq: int


def top_seq(r: redis.Redis, stream: str) -> int | None:
    """The seq of the last entry ever added (kept across XTRIM); None if the stream is missing."""
    try:
        info = r.xinfo_stream(stream)
    except redis.ResponseError as exc:
        if "no such key" in str(exc).lower():
            return None
        raise
    return seq_of(info["last-generated-id"])


def create(r: redis.Redis, stream: str, groups: Sequence[str] = CONSUMER_GROUPS) -> None:
    """Create the stream with every consumer group reading from the start.

    Groups made here at 0 see every entry we publish, even ones published before their
    consumer first starts (and all of a republish after Redis lost the stream).
    """
    for group in groups:
        try:
            r.xgroup_create(stream, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def publish(r: redis.Redis, stream: str, events: Sequence[ChangeEvent]) -> tuple[int, int]:
    """XADD every event in one pipeline; returns (added, already_there).

    Raises StreamMissing if Redis answered nil (stream gone) for any entry; the entries
    before it are in, and the caller re-reads the top before going on.
    """
    pipe = r.pipeline(transaction=False)
    for event in events:
        pipe.xadd(stream, event.to_fields(), id=event.entry_id, nomkstream=True)
    added = duplicates = 0
    for event, result in zip(events, pipe.execute(raise_on_error=False), strict=True):
        if isinstance(result, redis.ResponseError):
            if _DUPLICATE not in str(result):
                raise result
            duplicates += 1
        elif result is None:
            raise StreamMissing(f"{stream} is missing (XADD {event.entry_id} answered nil)")
        else:
            added += 1
    return added, duplicates


def groups(r: redis.Redis, stream: str, names: Sequence[str] = CONSUMER_GROUPS) -> list[GroupState]:
    """Each group's acknowledged point: just below its oldest pending entry, or its
    last-delivered ID when nothing is pending. A group that does not exist has acked nothing."""
    try:
        infos = {g["name"]: g for g in r.xinfo_groups(stream)}
    except redis.ResponseError as exc:
        if "no such key" in str(exc).lower():
            infos = {}
        else:
            raise
    states = []
    for name in names:
        info = infos.get(name)
        if info is None:
            states.append(GroupState(name, False, 0, 0, 0))
            continue
        delivered = seq_of(info["last-delivered-id"])
        acked = delivered
        if info["pending"]:
            oldest = r.xpending(stream, name)["min"]
            acked = seq_of(oldest) - 1 if oldest else delivered
        states.append(GroupState(name, True, acked, int(info["pending"]), delivered))
    return states


def trim_below(r: redis.Redis, stream: str, seq: int) -> int:
    """Remove entries with seq < `seq` (XTRIM MINID, exact); returns how many went."""
    return r.xtrim(stream, minid=f"{seq}-0", approximate=False)
