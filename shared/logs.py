"""Logging set up the same way in every daemon and the CLI."""

from __future__ import annotations

import logging

from shared.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format=FORMAT)
    # The client logs every HTTP request at INFO: thousands a second in a busy indexer.
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)
