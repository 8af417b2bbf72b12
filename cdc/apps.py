"""cdc as a Django app: after every migrate, bring the triggers up to date with the columns.

A migration that adds a column, or one that makes SQLite rebuild the table (which drops
its triggers), is followed by post_migrate; regenerating here means a new column appears
in events without anyone editing trigger SQL.
"""

from __future__ import annotations

import logging

from django.apps import AppConfig
from django.db.models.signals import post_migrate

log = logging.getLogger(__name__)


def install_after_migrate(sender, using: str = "default", **kwargs) -> None:
    from django.conf import settings
    from django.db import connections, transaction

    from cdc import changelog

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    existing = set(connection.introspection.table_names())
    tables = [t for t in settings.CATALOG.tracked_tables if t in existing]
    with transaction.atomic(using=using), connection.cursor() as cur:
        changed = changelog.install(cur, tables)
    if changed:
        log.info("cdc triggers updated after migrate: %s", ", ".join(changed))


class CdcConfig(AppConfig):
    name = "cdc"
    label = "cdc"
    verbose_name = "Change data capture"

    def ready(self) -> None:
        post_migrate.connect(install_after_migrate, sender=self,
                             dispatch_uid="cdc.install_after_migrate")
