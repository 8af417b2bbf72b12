"""Re-driving dead letters through the indexer's own apply path (see `catalog dlq replay`).

The changes stream refuses IDs below its top, so a dead letter is not re-published:
its original entry goes through Indexer.apply_batch(), written with version = its
original seq, so a replay can never regress a newer document or resurrect a delete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.consumer import Indexer
from shared.dlq import DeadLetter
from shared.names import INDEXER_GROUP
from shared.settings import Settings


@dataclass
class ReplayResult:
    resolved: int = 0
    still_dead: list[tuple[DeadLetter, str]] = field(default_factory=list)
    not_ours: list[DeadLetter] = field(default_factory=list)  # another group's letters


def is_indexer_letter(letter: DeadLetter) -> bool:
    """The DLQ is shared: the thumbnails dispatcher writes `thumbnails/<consumer>`."""
    group, slash, _ = letter.consumer.partition("/")
    return group == INDEXER_GROUP or not slash


def replay(settings: Settings, ids: list[str], *, patience: float | None = 60.0) -> ReplayResult:
    """Replay the given dead letters (DLQ or original entry IDs; none: all of them)."""
    indexer = Indexer(settings, consumer="dlq-replay", patience=patience)
    letters = indexer.dlq.get(ids) if ids else indexer.dlq.all()
    result = ReplayResult(not_ours=[d for d in letters if not is_indexer_letter(d)])
    letters = [d for d in letters if is_indexer_letter(d)]
    if not letters:
        return result
    indexer.bootstrap()
    originals = {d.entry_id: d.fields for d in letters}  # one apply per original entry
    batch = indexer.apply_batch(list(originals.items()))
    reasons = {entry_id: reason for entry_id, _, reason in batch.dead}
    for letter in letters:
        if letter.entry_id in reasons:
            indexer.dlq.update_reason(letter, reasons[letter.entry_id], indexer.dead_letter_owner)
            result.still_dead.append((letter, reasons[letter.entry_id]))
        else:
            result.resolved += 1
    indexer.dlq.remove([d.id for d in letters if d.entry_id not in reasons])
    return result
