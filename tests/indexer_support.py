"""Helpers of the indexer suites: change events on the stream, documents in the index.

Events are built with shared.events.ChangeEvent (the contract), as the CDC tailer
publishes them: entry ID `<seq>-0`.
"""

from __future__ import annotations

import time

import redis
from elasticsearch import Elasticsearch

from indexer.consumer import PRODUCTS_TABLE, Indexer
from indexer.index import read_index, write_alias
from shared.events import ChangeEvent
from shared.names import INDEXER_GROUP, Names
from tests.waiting import wait_until


def row(pk: int | str, seq: int, **fields) -> dict:
    """A products row as the triggers record it; the title carries the seq it came from."""
    base = {
        "id": pk, "title": f"Product {pk} rev {seq}", "status": 1,
        "image_url": f"http://127.0.0.1/img/{pk}.png", "description": "", "category": "tools",
        "price": "9.99", "thumbnails": "{}", "failure_reason": "",
        "created_at": "2026-11-28 07:00:00.000000", "updated_at": "2026-11-28 07:00:01.000000",
    }
    return {**base, **fields}


def event(seq: int, pk: int | str, op: str = "update", **fields) -> ChangeEvent:
    return ChangeEvent(
        seq=seq, table=PRODUCTS_TABLE, op=op, pk=str(pk), row=row(pk, seq, **fields),
        old=None, ts=int(time.time() * 1000),
    )


def publish(r: redis.Redis, names: Names, events: list[ChangeEvent]) -> None:
    with r.pipeline(transaction=False) as pipe:
        for e in events:
            pipe.xadd(names.changes_stream, e.to_fields(), id=e.entry_id)
        pipe.execute()


def publish_raw(r: redis.Redis, names: Names, seq: int, fields: dict[str, str]) -> None:
    r.xadd(names.changes_stream, fields, id=f"{seq}-0")


def stored(es: Elasticsearch, names: Names, pk: int | str, index: str | None = None) -> dict | None:
    """The stored document (tombstones included) with its version, or None."""
    index = index or read_index(es, names)
    got = es.options(ignore_status=404).get(index=index, id=str(pk))
    if not got.get("found"):
        return None
    return {**got["_source"], "_version": got["_version"]}


def visible_ids(es: Elasticsearch, names: Names) -> set[str]:
    """IDs the read alias returns (live products only)."""
    es.indices.refresh(index=write_alias(names))
    hits = es.search(index=names.index_alias, size=10_000, query={"match_all": {}})
    return {h["_id"] for h in hits["hits"]["hits"]}


def group_lag(r: redis.Redis, names: Names) -> int:
    for g in r.xinfo_groups(names.changes_stream):
        if g["name"] == INDEXER_GROUP:
            return int(g.get("lag") or 0) + int(g.get("pending") or 0)
    raise AssertionError("no indexer group")


def drain(indexer: Indexer, timeout: float = 30) -> None:
    """Run the indexer's loop in this process until the group has acknowledged everything."""
    indexer.bootstrap()

    def done() -> bool:
        indexer.work_once(block_ms=50)
        return group_lag(indexer.r, indexer.names) == 0

    wait_until(done, timeout=timeout, interval=0, message="indexer drained the stream")


def caught_up(r: redis.Redis, names: Names) -> bool:
    """The indexer group exists and has acknowledged every entry of the stream."""
    if not r.exists(names.changes_stream):
        return False
    groups = {g["name"]: g for g in r.xinfo_groups(names.changes_stream)}
    g = groups.get(INDEXER_GROUP)
    return g is not None and g.get("lag") == 0 and g.get("pending") == 0
