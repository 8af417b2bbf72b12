"""`catalog backfill`, `catalog reindex`, `catalog verify [--repair]`: click wiring only.

The work is done by indexer/backfill.py, indexer/reindex.py and indexer/verify.py.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click

from indexer.backfill import Backfill, Progress
from indexer.bulk import StopWaiting
from indexer.es_client import search_client
from indexer.reindex import Reindex, ReindexError
from indexer.verify import Verify
from shared import redis_client
from shared.settings import Settings


@contextmanager
def progress_bar(label: str, quiet: bool) -> Iterator[Progress | None]:
    """A bar with count, rate and ETA on a terminal; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    started = time.monotonic()
    state = {"done": 0}

    def rate(_item) -> str:
        elapsed = time.monotonic() - started
        return f"{state['done'] / elapsed:,.0f} docs/s" if elapsed > 0 else ""

    with click.progressbar(length=1, label=label, show_pos=True, item_show_func=rate,
                           file=sys.stderr) as bar:
        def update(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - state["done"], current_item=done)
            state["done"] = done

        yield update


@click.command()
@click.option("--restart", is_flag=True, help="Ignore a checkpoint left by an interrupted run.")
@click.option("--chunk-size", default=2000, show_default=True, help="Documents per bulk request.")
@click.option("--threads", default=2, show_default=True, help="Bulk requests in flight.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
@click.pass_obj
def backfill(settings: Settings, restart: bool, chunk_size: int, threads: int,
             as_json: bool) -> None:
    """Index every product from SQLite into every index behind the write alias.

    Reads one consistent snapshot and the changelog head S with it, and writes each
    document with version S, so the live indexer may keep running: newer events win.
    Interrupted? Run it again: it resumes after the last acknowledged product id.
    Creates the index and aliases if none exist yet.
    """
    with progress_bar("backfill", as_json) as progress:
        try:
            result = Backfill(settings, search_client(settings), chunk_size=chunk_size,
                              threads=threads, restart=restart, progress=progress).run()
        except StopWaiting as exc:
            raise click.ClickException(
                f"elasticsearch kept failing ({exc}); rerun to resume from the checkpoint"
            ) from None
    if as_json:
        click.echo(json.dumps(result.as_dict()))
    else:
        resumed = f", resumed after id {result.resumed_after_id}" if result.resumed_after_id else ""
        click.echo(f"backfilled {result.indexed} products into {', '.join(result.targets)} "
                   f"at seq {result.snapshot_seq} in {result.seconds:.1f}s "
                   f"({result.docs_per_second:,.0f} docs/s; {result.conflicts} already newer"
                   f"{resumed})")
        for sample in result.error_samples:
            click.echo(f"error: {sample}", err=True)
    if result.errors:
        raise click.ClickException(f"{result.errors} documents failed; rerun to resume")


@click.command()
@click.option("--keep-old", is_flag=True, help="Keep the previous index (out of both aliases).")
@click.option("--timeout", default=300.0, show_default=True,
              help="Seconds to wait for the live indexer to catch up.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of text.")
@click.pass_obj
def reindex(settings: Settings, keep_old: bool, timeout: float, as_json: bool) -> None:
    """Build a new index version with the current mapping and swap to it, live.

    Creates <alias>-v(N+1), makes it a write target (the live indexer feeds it too),
    backfills it, waits until the indexer caught up with the backfill's snapshot, then
    moves the read alias in one atomic step. Searches never fail or see an empty index.
    The old index is deleted afterwards unless --keep-old.
    """
    say = (lambda _: None) if as_json else click.echo
    with progress_bar("reindex", as_json) as progress:
        try:
            result = Reindex(settings, search_client(settings), redis_client.connect(settings),
                             keep_old=keep_old, catch_up_timeout=timeout, progress=progress,
                             say=say).run()
        except (ReindexError, StopWaiting) as exc:
            message = f"{exc} (the new index was dropped; nothing changed)"
            raise click.ClickException(message) from None
    if as_json:
        click.echo(json.dumps(result.as_dict()))


@click.command()
@click.option("--repair", is_flag=True,
              help="Rewrite exactly the differing documents from SQLite.")
@click.option("--index", "index_name", default=None,
              help="Concrete index to check (default: the one behind the read alias).")
@click.option("--wait", default=30.0, show_default=True,
              help="Seconds to let in-flight events reach the index before a difference counts.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Processes comparing id ranges in parallel (large tables only).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of text.")
@click.pass_obj
def verify(settings: Settings, repair: bool, index_name: str | None, wait: float,
           workers: int, as_json: bool) -> None:
    """Prove the index matches SQLite: every id and every indexed field.

    Streams both sides sorted by id and compares them. Differences caused by events
    still in flight are re-checked after the indexer has applied them. Prints each
    remaining difference (missing, extra, stale with the fields) and exits 1; exits 0
    when they agree. --repair rewrites those documents at the current changelog head
    (a newer live update still wins) and exits 0 if every one was fixed, 2 if not.
    """
    checker = Verify(settings, search_client(settings), redis_client.connect(settings),
                     index_name=index_name, wait=wait, workers=workers)
    try:
        report = checker.run()
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        repairs = checker.repair(report.differences) if repair and report.differences else []
    except StopWaiting as exc:
        raise click.ClickException(f"elasticsearch kept failing during repair: {exc}") from None
    if as_json:
        out = report.as_dict()
        if repair:
            out["repairs"] = [vars(a) for a in repairs]
        click.echo(json.dumps(out, default=str))
    else:
        for difference in report.differences:
            click.echo(difference.describe())
        for action in repairs:
            click.echo(action.describe())
        verdict = "in sync" if report.ok else f"{len(report.differences)} difference(s)"
        click.echo(f"{report.index}: {report.rows} products, {report.documents} documents, "
                   f"head seq {report.head}: {verdict} ({report.seconds:.1f}s)")
    if report.ok:
        return
    if not repair:
        sys.exit(1)
    if any(a.action == "failed" for a in repairs):
        sys.exit(2)


COMMANDS = [backfill, reindex, verify]
