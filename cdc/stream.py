"""The Redis side of the tailer: the changes stream, its top ID, and what the groups acknowledged.

Entry IDs are `<seq>-0`: the stream's top is the tailer's position, and an entry at or
below the top is one already published (after a crash), skipped, never added twice.
Publishing is one Lua script per batch, so "is this still our stream?" and the XADDs are
atomic: a Redis that restarted empty is noticed instead of a new stream silently starting
in the middle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from shared.events import ChangeEvent, seq_of
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


# Atomically: check the stream is still the one we have been publishing to (it exists and
# its last ID is not below what we published), then XADD each entry whose ID is above the
# top. A consumer that recreated the stream (XGROUP CREATE MKSTREAM) after Redis restarted
# empty cannot make us publish seq N+1 onto it and skip everything retained before.
# ARGV: expected top seq, then per entry: id, field count, fields...
_PUBLISH = """
local expected = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local top = 0
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then top = tonumber(string.match(info[i + 1], '^(%d+)')) end
end
if top < expected then return {-2, top} end
local added, duplicates, i = 0, 0, 2
while i <= #ARGV do
  local id, n = ARGV[i], tonumber(ARGV[i + 1])
  local seq = tonumber(string.match(id, '^(%d+)'))
  if seq <= top then
    duplicates = duplicates + 1
  else
    local args = {'XADD', KEYS[1], id}
    for j = 1, n do args[#args + 1] = ARGV[i + 1 + j] end
    redis.call(unpack(args))
    added, top = added + 1, seq
  end
  i = i + 2 + n
end
return {added, duplicates}
"""


def publish(r: redis.Redis, stream: str, events: Sequence[ChangeEvent],
            expected_top: int) -> tuple[int, int]:
    """XADD every event not yet on the stream, in one atomic script; (added, already_there).

    `expected_top` is the seq we last saw published. Raises StreamMissing, adding nothing,
    if the stream is gone or its top is below that (Redis lost it, or it was recreated).
    """
    args: list = [expected_top]
    for event in events:
        fields = event.to_fields()
        args += [event.entry_id, len(fields) * 2]
        for key, value in fields.items():
            args += [key, value]
    first, second = r.register_script(_PUBLISH)(keys=[stream], args=args)
    if first == -1:
        raise StreamMissing(f"{stream} is missing")
    if first == -2:
        raise StreamMissing(f"{stream} ends at seq {second}, below published seq {expected_top}")
    return first, second


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
