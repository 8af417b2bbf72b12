"""Fixtures shared by every suite: real Redis, real Elasticsearch, real SQLite files.

`scripts/test` starts the services before pytest runs. If one does not answer, the
session fails at once with the reason: integration tests are never skipped.
Each test gets its own namespace (Redis keys and streams) and index alias, so nothing
one test leaves behind can satisfy another's assertion.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from shared import settings as catalog_settings_module
from shared.names import Names
from shared.settings import Settings
from tests.processes import Daemon, catalog_argv


def _require_services() -> None:
    s = catalog_settings_module.load()
    problems = []
    try:
        redis.Redis.from_url(s.redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:
        problems.append(f"Redis at {s.redis_url}: {exc}")
    try:
        Elasticsearch(s.elasticsearch_url, request_timeout=5).cluster.health(
            wait_for_status="yellow", timeout="5s"
        )
    except Exception as exc:
        problems.append(f"Elasticsearch at {s.elasticsearch_url}: {exc}")
    if problems:
        pytest.exit(
            "real services are required (run the tests with scripts/test, which starts them):\n  "
            + "\n  ".join(problems),
            returncode=3,
        )


def pytest_sessionstart(session):
    _require_services()


@pytest.fixture
def catalog_settings(tmp_path: Path, monkeypatch, settings, transactional_db) -> Settings:
    """Settings of this test: a fresh namespace, index alias and media folder.

    Exported to the environment (child processes inherit them) and to Django's
    settings.CATALOG. The database is pytest-django's test database file.
    """
    from django.db import connection

    tag = uuid.uuid4().hex[:8]
    db_path = connection.settings_dict["NAME"]
    overrides = {
        "CATALOG_NAMESPACE": f"t{tag}",
        "INDEX_ALIAS": f"t{tag}-products",
        "DATABASE_PATH": str(db_path),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "INDEX_REFRESH_INTERVAL": "100ms",
        "CDC_POLL_INTERVAL": "0.2",
        "INDEXER_CLAIM_IDLE_MS": "2000",
    }
    for key, value in overrides.items():
        monkeypatch.setenv(key, value)
    s = catalog_settings_module.load()
    settings.CATALOG = s
    settings.MEDIA_ROOT = str(s.media)
    yield s
    _clean(s)


def _clean(s: Settings) -> None:
    names = Names.from_settings(s)
    r = redis.Redis.from_url(s.redis_url)
    keys = list(r.scan_iter(match=f"{names.namespace}:*", count=500))
    if keys:
        r.delete(*keys)
    es = Elasticsearch(s.elasticsearch_url)
    es.options(ignore_status=404).indices.delete(index=f"{s.index_alias}*", expand_wildcards="all")


@pytest.fixture
def names(catalog_settings: Settings) -> Names:
    return Names.from_settings(catalog_settings)


@pytest.fixture
def redis_client(catalog_settings: Settings) -> redis.Redis:
    client = redis.Redis.from_url(catalog_settings.redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def es(catalog_settings: Settings) -> Elasticsearch:
    client = Elasticsearch(catalog_settings.elasticsearch_url, request_timeout=30)
    yield client
    client.close()


@pytest.fixture
def daemons(tmp_path: Path, catalog_settings: Settings):
    """Start `catalog ...` (or any argv) as real processes; all are killed at teardown.

        tailer = daemons.catalog("cdc", "run")
    """

    class Daemons:
        started: list[Daemon] = []

        def spawn(self, argv: list[str], name: str, **extra_env: str) -> Daemon:
            env = {**os.environ, **extra_env}
            log = tmp_path / f"{name}-{len(self.started)}.log"
            daemon = Daemon(argv, env, log).start()
            self.started.append(daemon)
            return daemon

        def catalog(self, *args: str, **extra_env: str) -> Daemon:
            return self.spawn(catalog_argv(*args), "-".join(args[:2]), **extra_env)

    d = Daemons()
    d.started = []
    yield d
    for daemon in d.started:
        daemon.kill()


def with_settings(s: Settings, **changes) -> Settings:
    return dataclasses.replace(s, **changes)
