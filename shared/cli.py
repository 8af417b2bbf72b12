"""The `catalog` console script: one root group that assembles each service's commands.

Commands live with their service (cdc/cli.py, indexer/cli.py, ...); each such module
exposes COMMANDS, a list of click commands/groups added here.
"""

from __future__ import annotations

import importlib

import click

from shared import logs, settings

# Modules whose COMMANDS join the root group, in the order `catalog --help` lists them.
COMMAND_MODULES = (
    "cdc.cli",
    "indexer.cli",
    "indexer.sync_cli",
    "web.products.cli",
    "web.thumbnails.cli",
    "shared.status_cli",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """catalog-sync: keep Elasticsearch in step with the SQLite product catalogue."""
    ctx.obj = settings.load()
    logs.configure(ctx.obj)


@main.command("settings")
def show_settings() -> None:
    """Print every setting: environment variable, default and meaning."""
    for name, default, doc in settings.table():
        click.echo(f"{name:32} {default:28} {doc}")


def _assemble() -> None:
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        for command in module.COMMANDS:
            main.add_command(command)


_assemble()
