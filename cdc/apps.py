"""cdc as a Django app: triggers off while migrations run, regenerated from the columns after.

A migration that adds a column, or one that makes SQLite rebuild the table (which drops
its triggers), is followed by post_migrate; regenerating here means a new column appears
in events without anyone editing trigger SQL. Before migrations run (pre_migrate with a
non-empty plan) the triggers are dropped: SQLite refuses ALTER TABLE DROP COLUMN on a
column a trigger names. Writes made while migrations run are therefore not captured:
migrate with writers stopped (or run `catalog verify --repair` after).
"""

from __future__ import annotations

import logging

from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate

log = logging.getLogger(__name__)


def drop_before_migrate(sender, using: str = "default", plan=None, **kwargs) -> None:
    from django.conf import settings
    from django.db import connections

    from cdc import changelog

    connection = connections[using]
    if not plan or connection.vendor != "sqlite":
        return  # nothing to migrate (e.g. a test flush): keep capturing
    with connection.cursor() as cur:
        if changelog.installed_triggers(cur):
            log.warning("cdc triggers dropped while migrations run; writes meanwhile are "
                        "not captured")
            changelog.uninstall(cur, settings.CATALOG.tracked_tables)


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
        pre_migrate.connect(drop_before_migrate, sender=self,
                            dispatch_uid="cdc.drop_before_migrate")
        post_migrate.connect(install_after_migrate, sender=self,
                             dispatch_uid="cdc.install_after_migrate")
