"""Install the CDC triggers on products_product (cdc/changelog.py generates them).

Later migrations that change the table's columns are followed by cdc's post_migrate
handler (cdc/apps.py), which regenerates the triggers.
"""

from django.conf import settings
from django.db import migrations


def install(apps, schema_editor):
    from cdc import changelog

    existing = set(schema_editor.connection.introspection.table_names())
    tables = [t for t in settings.CATALOG.tracked_tables if t in existing]
    with schema_editor.connection.cursor() as cur:
        changelog.install(cur, tables)


def uninstall(apps, schema_editor):
    from cdc import changelog

    with schema_editor.connection.cursor() as cur:
        changelog.uninstall(cur, settings.CATALOG.tracked_tables)


class Migration(migrations.Migration):
    dependencies = [("products", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
