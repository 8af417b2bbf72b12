"""The Redis side of the tailer: the changes stream, its top ID, and what the groups acknowledged.

Entry IDs are `<seq>-0`: the stream's top is the tailer's position, and an entry at or
below the top is one already published (after a crash), skipped, never added twice.
Publishing checks "is this still our stream?" and adds the batch atomically (WATCH/MULTI):
a Redis that restarted empty is noticed instead of a new stream silently starting in the
middle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from shared.events import entry_id, seq_of
from shared.names import CONSUMER_GROUPS


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


def publish(r: redis.Redis, stream: str, entries: Sequence[tuple[int, dict[str, str]]],
            expected_top: int) -> tuple[int, int]:
    """XADD every (seq, fields) entry not yet on the stream, in one transaction;
    returns (added, already_there).

    `expected_top` is the seq we last saw published. WATCH makes "is this still our
    stream?" and the XADDs atomic: if the stream is gone, its top is below that (Redis
    lost it, or a consumer recreated it empty with XGROUP CREATE MKSTREAM), or anyone
    else writes the key meanwhile, nothing is added and StreamMissing says why.
    Consumers reading and acknowledging do not disturb the WATCH.
    """
    with r.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(stream)
            top = top_seq(pipe, stream)
        except redis.WatchError as exc:
            # Before EXEC this is redis-py's word for a connection lost while watching:
            # Redis trouble, which the caller waits out, not a changed stream.
            raise redis.ConnectionError(str(exc)) from exc
        if top is None:
            raise StreamMissing(f"{stream} is missing")
        if top < expected_top:
            raise StreamMissing(f"{stream} ends at seq {top}, below published seq {expected_top}")
        fresh = [(seq, fields) for seq, fields in entries if seq > top]
        pipe.multi()
        for seq, fields in fresh:
            pipe.xadd(stream, fields, id=entry_id(seq))
        try:
            if fresh:
                pipe.execute()
        except redis.WatchError:
            raise StreamMissing(f"{stream} changed under us; re-reading it") from None
    return len(fresh), len(entries) - len(fresh)


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
