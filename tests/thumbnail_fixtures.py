"""Fixtures of the thumbnail tests; a test module loads them with
pytest_plugins = ["tests.thumbnail_fixtures"] (helpers are in tests/thumbnail_support.py)."""

from __future__ import annotations

import pytest

from shared import settings as settings_module
from tests.image_server import ImageServer
from tests.thumbnail_support import LOOPBACK_NAME, Pipeline


@pytest.fixture(name="thumbnail_settings")
def thumbnail_settings_fixture(catalog_settings, monkeypatch, settings):
    """Short timeouts and retries, the loopback test host allow-listed (not 127.0.0.1)."""
    for key, value in {
        "THUMBNAIL_ALLOWED_HOSTS": LOOPBACK_NAME,
        "THUMBNAIL_FETCH_TIMEOUT": "1",
        "THUMBNAIL_RETRY_BACKOFF": "0.2",
        "THUMBNAIL_RETRY_BACKOFF_MAX": "1",
        "THUMBNAIL_MAX_ATTEMPTS": "3",
        "THUMBNAIL_SWEEP_INTERVAL": "1",
        "THUMBNAIL_STUCK_SECONDS": "60",
    }.items():
        monkeypatch.setenv(key, value)
    s = settings_module.load()
    settings.CATALOG = s
    return s


@pytest.fixture(name="pipeline")
def pipeline_fixture(daemons, thumbnail_settings, tmp_path) -> Pipeline:
    return Pipeline(daemons, thumbnail_settings, tmp_path)


@pytest.fixture(name="image_server")
def image_server_fixture():
    with ImageServer() as server:
        yield server
