"""Click commands of this service; shared/cli.py adds COMMANDS to `catalog`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from shared import redis_client
from shared.names import Names
from shared.settings import Settings

REPLAY_HELP = """Re-drive dead letters (all of them, or the given IDs).

ID is a dead letter's own ID or its original entry ID on the changes stream
(both are shown by `catalog dlq list`).

How: the changes stream refuses IDs below its top, so nothing is re-published.
Each dead letter's ORIGINAL entry is applied directly through the indexer's own
apply path (same parsing, same document, same versioned bulk write with
version = the original seq). A replayed old event therefore never overwrites a
newer document and never resurrects a deleted product. A letter that applies, or
turns out to be superseded already, is removed from the DLQ; one that fails again
stays, with the new reason. Exit status 1 if any letter is still dead.

The DLQ is shared: letters of another consumer group (e.g. thumbnails/...) are
left alone and listed as skipped.
"""


@click.group("indexer")
def indexer_group() -> None:
    """The Redis stream → Elasticsearch indexer daemon."""


@indexer_group.command("run")
@click.option("--consumer", help="Consumer name in group `indexer` (default: <host>-<pid>).")
@click.option("--batch-size", type=click.IntRange(1, 50_000),
              help="Entries per bulk (default: INDEXER_BATCH_SIZE).")
@click.pass_obj
def run(settings: Settings, consumer: str | None, batch_size: int | None) -> None:
    """Consume the changes stream into Elasticsearch until SIGTERM/SIGINT.

    Several can run at once (they share the consumer group); entries pending on a
    dead one are claimed by the others after INDEXER_CLAIM_IDLE_MS. The first signal
    finishes the batch in flight, a second exits at once (unacknowledged entries stay
    pending and are claimed later). Metrics on METRICS_PORT when set.
    """
    import dataclasses

    from indexer.consumer import Indexer

    if batch_size:
        settings = dataclasses.replace(settings, indexer_batch_size=batch_size)
    Indexer(settings, consumer=consumer).run()


@click.group("dlq")
def dlq_group() -> None:
    """Dead letters: entries the indexer could not apply, with the reason."""


@dlq_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
              help="Show at most this many (oldest first).")
@click.pass_obj
def dlq_list(settings: Settings, as_json: bool, limit: int) -> None:
    """List dead letters, oldest first: IDs, original entry, consumer, reason."""
    from shared.dlq import DeadLetters

    dlq = DeadLetters(redis_client.connect(settings), Names.from_settings(settings))
    letters = dlq.list(limit)
    for d in letters:
        if as_json:
            click.echo(json.dumps(d.as_dict(), ensure_ascii=False))
        else:
            when = datetime.fromtimestamp(d.failed_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
            f = d.fields
            what = f"{f.get('op', '?')} {f.get('table', '?')}#{f.get('pk', '?')}"
            click.echo(f"{d.id}  entry {d.entry_id}  {what}  {when}  {d.consumer}\n"
                       f"    {d.reason}")
    if not as_json:
        total = dlq.length()
        click.echo(f"{len(letters)} of {total} dead letter(s)", err=True)


@dlq_group.command("replay", help=REPLAY_HELP)
@click.argument("ids", nargs=-1)
@click.option("--patience", type=float, default=60.0, show_default=True,
              help="Seconds to wait out a failing Elasticsearch before giving up.")
@click.pass_obj
def dlq_replay(settings: Settings, ids: tuple[str, ...], patience: float) -> None:
    from indexer.replay import replay

    try:
        result = replay(settings, list(ids), patience=patience)
    except KeyError as exc:
        raise click.ClickException(f"no dead letter with ID {exc.args[0]}") from None
    for letter, reason in result.still_dead:
        click.echo(f"{letter.id} (entry {letter.entry_id}) still dead: {reason}")
    for letter in result.not_ours:
        click.echo(f"{letter.id} (entry {letter.entry_id}) skipped: written by {letter.consumer}")
    click.echo(f"replayed {result.resolved} dead letter(s); {len(result.still_dead)} still dead"
               + (f"; {len(result.not_ours)} of other groups skipped" if result.not_ours else ""))
    if result.still_dead:
        raise SystemExit(1)


COMMANDS: list = [indexer_group, dlq_group]
