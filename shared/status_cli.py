"""`catalog status [--json]`: one report assembled from sections, each a dict of figures.

Add a section by appending (title, function(settings) -> dict) to SECTIONS; rendering is
generic (nested dicts become indented lines), so a new section needs no printing code.
A section that fails shows its error instead of hiding the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from shared.settings import Settings


def _cdc(settings: Settings) -> dict[str, Any]:
    from cdc.status import cdc_status

    return cdc_status(settings)


def _daemons(settings: Settings) -> dict[str, Any]:
    from indexer.sync_status import daemons

    return daemons(settings)


def _index(settings: Settings) -> dict[str, Any]:
    from indexer.sync_status import index_vs_table

    return index_vs_table(settings)


SECTIONS: list[tuple[str, Callable[[Settings], dict[str, Any]]]] = [
    ("daemons", _daemons),
    ("cdc", _cdc),
    ("index", _index),
]


def collect(settings: Settings) -> dict[str, dict[str, Any]]:
    report = {}
    for title, section in SECTIONS:
        try:
            report[title] = section(settings)
        except Exception as exc:  # one broken section must not hide the rest
            report[title] = {"error": f"{type(exc).__name__}: {exc}"}
    from indexer.sync_status import verdict

    # The verdict first: what needs a human, read from the sections below it.
    return {"summary": verdict(report), **report}


def render(report: dict[str, Any], indent: int = 0) -> list[str]:
    lines = []
    for key, value in report.items():
        pad = "  " * indent
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.extend(render(value, indent + 1))
        else:
            lines.append(f"{pad}{key + ':':{30 - len(pad)}} {_text(value)}")
    return lines


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def status(settings: Settings, as_json: bool) -> None:
    """Daemons, changelog head, published position, consumer lag, retention, DLQ, index
    documents against table rows, backfill state: a verdict on top, --json for scripts."""
    report = collect(settings)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=False))
    else:
        click.echo("\n".join(render(report)))


COMMANDS: list = [status]
