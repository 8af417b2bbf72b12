"""Fixtures of the CDC tests; a test module loads them with pytest_plugins = ["tests.cdc_fixtures"].

pytest-django's test database file is shared by the tests of a session and the cdc_*
tables are not Django's, so flushes leave them (and their DELETEs are captured too):
`clean_changelog` empties them so a test sees only its own events, from seq 1.
"""

from __future__ import annotations

import sqlite3

import pytest

from cdc import changelog
from shared import sqlite as db


@pytest.fixture
def clean_changelog(catalog_settings) -> sqlite3.Connection:
    conn = db.connect(catalog_settings.database)
    changelog.install_sqlite(conn, catalog_settings.tracked_tables)
    changelog.reset(conn)
    yield conn
    conn.close()
