"""Reindex with no downtime: build `<alias>-v(N+1)` beside the live index, then swap.

1. create the new index (current mapping and settings) and add it to the write alias,
   so the live indexer feeds it every event from now on;
2. backfill it from a snapshot at changelog head S (versions = S, so live events win);
3. wait until the indexer group has acknowledged S: the new index is then as current
   as the old one;
4. swap the read alias in one atomic alias update: a search sees the old index or the
   new one, never neither and never an empty one;
5. take the old index out of the write alias, wait until the indexer's in-flight bulks
   are done (so none recreates it), and delete it unless --keep-old.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis
from elasticsearch import Elasticsearch

from indexer import index
from indexer.backfill import Backfill, BackfillResult, Progress, forget_checkpoints
from indexer.positions import changelog_head, indexer_position, wait_for_position
from shared import sqlite
from shared.names import Names
from shared.settings import Settings


class ReindexError(RuntimeError):
    pass


@dataclass
class ReindexResult:
    old_index: str | None
    new_index: str
    backfill: BackfillResult
    old_deleted: bool

    def as_dict(self) -> dict:
        return {"old_index": self.old_index, "new_index": self.new_index,
                "old_deleted": self.old_deleted, "backfill": self.backfill.as_dict()}


class Reindex:
    def __init__(
        self, settings: Settings, es: Elasticsearch, r: redis.Redis, *,
        keep_old: bool = False, catch_up_timeout: float = 300.0,
        progress: Progress | None = None, say: Callable[[str], None] = lambda _: None,
    ):
        self.settings = settings
        self.es = es
        self.r = r
        self.names = Names.from_settings(settings)
        self.keep_old = keep_old
        self.catch_up_timeout = catch_up_timeout
        self.progress = progress
        self.say = say

    def run(self) -> ReindexResult:
        old = index.read_index(self.es, self.names)
        new = self.create_target()
        try:
            filled = self.backfill(new)
            self.catch_up(filled.snapshot_seq)
        except BaseException:
            self.abandon(new)
            raise
        index.swap_read_alias(self.es, self.names, new)
        self.say(f"read alias {self.names.index_alias} -> {new}")
        deleted = self.retire(old) if old and old != new else False
        # Write targets nothing reads any more (an interrupted first build, say) go too.
        for leftover in set(index.write_targets(self.es, self.names)) - {new, old}:
            self.retire(leftover)
        return ReindexResult(old, new, filled, deleted)

    def create_target(self) -> str:
        version = index.next_version(self.es, self.names)
        # Backfill loads it with bulk settings and restores these before the swap.
        new = index.create_index(self.es, self.names, version,
                                 self.settings.index_refresh_interval)
        index.add_write_target(self.es, self.names, new)
        self.say(f"created {new}, now a write target of {index.write_alias(self.names)}")
        return new

    def backfill(self, new: str) -> BackfillResult:
        result = Backfill(self.settings, self.es, targets=[new], progress=self.progress).run()
        if result.errors:
            raise ReindexError(f"backfill of {new} failed for {result.errors} documents: "
                               f"{result.error_samples[:1]}")
        self.say(f"backfilled {result.indexed} documents at snapshot seq {result.snapshot_seq}"
                 f" ({result.conflicts} already newer)")
        return result

    def catch_up(self, seq: int) -> None:
        """Wait for the live indexer to acknowledge `seq` (nothing to wait for without one)."""
        if indexer_position(self.r, self.names) is None:
            self.say("no indexer group on the stream: nothing to catch up with")
            return
        if not wait_for_position(self.r, self.names, seq, self.catch_up_timeout):
            raise ReindexError(
                f"indexer did not reach seq {seq} within {self.catch_up_timeout}s "
                f"(at {indexer_position(self.r, self.names)}); is `catalog indexer run` up?"
            )
        self.say(f"indexer caught up with seq {seq}")

    def retire(self, old: str) -> bool:
        self.es.indices.update_aliases(
            actions=[{"remove": {"index": old, "alias": index.write_alias(self.names)}}]
        )
        if self.keep_old:
            self.say(f"kept {old} (no longer written)")
            return False
        # A bulk the indexer started before the alias change may still target `old`;
        # deleting under it would let Elasticsearch auto-create a stray index.
        if indexer_position(self.r, self.names) is not None and not wait_for_position(
            self.r, self.names, self.current_head(), self.catch_up_timeout
        ):
            self.say(f"kept {old}: indexer did not confirm its last writes to it")
            return False
        self.es.indices.delete(index=old)
        self.say(f"deleted {old}")
        return True

    def abandon(self, new: str) -> None:
        self.es.options(ignore_status=404).indices.update_aliases(
            actions=[{"remove": {"index": new, "alias": index.write_alias(self.names)}}]
        )
        self.es.options(ignore_status=404).indices.delete(index=new)
        forget_checkpoints(self.settings.database, new)

    def current_head(self) -> int:
        conn = sqlite.connect(self.settings.database, readonly=True)
        try:
            return changelog_head(conn)
        finally:
            conn.close()
