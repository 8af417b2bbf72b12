"""`catalog cdc ...`: install the triggers, run the tailer. Click wiring only."""

from __future__ import annotations

import click

from shared.settings import Settings


@click.group("cdc")
def cdc() -> None:
    """Change data capture: SQLite triggers → changelog → Redis stream."""


@cdc.command("install")
@click.pass_obj
def install(settings: Settings) -> None:
    """Create the changelog tables and (re)generate the triggers from the tables' columns."""
    from cdc import changelog
    from shared import sqlite as db

    conn = db.connect(settings.database)
    try:
        changed = changelog.install_sqlite(conn, settings.tracked_tables)
    except changelog.NotInstallable as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        conn.close()
    click.echo(f"triggers updated: {', '.join(changed)}" if changed else "triggers up to date")


@cdc.command("run")
@click.pass_obj
def run(settings: Settings) -> None:
    """Publish changelog rows to the changes stream until SIGTERM/SIGINT."""
    from cdc.lock import AlreadyRunning
    from cdc.tailer import Tailer

    try:
        code = Tailer(settings).run()
    except AlreadyRunning as exc:
        raise click.ClickException(str(exc)) from None
    raise SystemExit(code)


@cdc.command("clear-backfill")
@click.pass_obj
def clear_backfill(settings: Settings) -> None:
    """Clear the "backfill required" flag once `catalog backfill` has rebuilt the index."""
    from cdc import position
    from shared import sqlite as db
    from shared.names import Names

    conn = db.connect(settings.database)
    try:
        position.clear_backfill(conn, Names.from_settings(settings).changes_stream)
    finally:
        conn.close()
    click.echo("backfill flag cleared")


COMMANDS: list = [cdc]
