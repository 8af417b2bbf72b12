"""Click commands of this service; shared/cli.py adds COMMANDS to `catalog`.

`catalog thumbnails run` is the dispatcher daemon (change stream → Celery, plus the
stuck-product sweep); `catalog thumbnails sweep --once` runs one sweep by hand.
The Celery worker that renders the thumbnails is `celery -A web worker`.
"""

from __future__ import annotations

import os
import signal

import click


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")
    import django

    django.setup()


@click.group("thumbnails")
def thumbnails() -> None:
    """Thumbnail jobs: dispatch from the change stream to Celery, sweep stuck products."""


@thumbnails.command("run")
@click.option("--consumer", help="Consumer name in the `thumbnails` group (default: host-pid).")
@click.pass_obj
def run(settings, consumer: str | None) -> None:
    """Dispatch a Celery job for each new product and each image change, until SIGTERM.

    Also sweeps products stuck in `processing` every THUMBNAIL_SWEEP_INTERVAL seconds.
    Workers: `celery -A web worker` (queue <CATALOG_NAMESPACE>-thumbnails).
    """
    _django()
    from shared import redis_client
    from web.products.models import Product
    from web.thumbnails.dispatch import Dispatcher

    dispatcher = Dispatcher(
        settings, redis_client.connect(settings), table=Product._meta.db_table, consumer=consumer
    )
    signal.signal(signal.SIGTERM, dispatcher.stop)
    signal.signal(signal.SIGINT, dispatcher.stop)
    dispatcher.run()


@thumbnails.command("sweep")
@click.option("--once", is_flag=True, required=True,
              help="Run one sweep now and exit (the daemon sweeps periodically by itself).")
@click.pass_obj
def sweep_command(settings, once: bool) -> None:
    """Re-dispatch products stuck in `processing`; give up on those past the retry budget."""
    _django()
    from web.thumbnails.dispatch import celery_enqueue
    from web.thumbnails.sweep import sweep

    result = sweep(settings, celery_enqueue)
    click.echo(f"re-dispatched {result.redispatched}, gave up on {result.given_up}")


COMMANDS: list = [thumbnails]
