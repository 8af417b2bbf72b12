"""The indexer under failure: a consumer killed mid-batch, Elasticsearch down for 30 s.

Elasticsearch is stopped only in a PRIVATE instance on its own port (the shared one
on 9200 is never touched), started with the project's own service script.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from indexer.index import write_alias
from shared import settings as settings_module
from shared.names import INDEXER_GROUP
from tests.indexer_support import caught_up, event, publish
from tests.waiting import wait_until

pytestmark = pytest.mark.chaos

ROOT = Path(__file__).resolve().parents[2]
# A fixed port (INDEXER_CHAOS_ES_PORT) keeps its data folder between runs; default: a free one.
PRIVATE_ES_PORT = int(os.environ.get("INDEXER_CHAOS_ES_PORT", "0"))
CACHE = os.environ.get("CATALOG_CACHE", "/var/cache/catalog-sync")


def _versions(es: Elasticsearch, index: str) -> dict[str, int]:
    es.indices.refresh(index=index)
    out, after = {}, None
    while True:
        page = es.search(index=index, size=5000, version=True, sort=[{"_doc": "asc"}],
                         search_after=after, query={"match_all": {}})["hits"]["hits"]
        if not page:
            return out
        out.update({h["_id"]: h["_version"] for h in page})
        after = page[-1]["sort"]


def _history(products: int, revisions: int, first_seq: int = 1) -> list:
    events, seq = [], first_seq
    for rev in range(revisions):
        for pk in range(1, products + 1):
            events.append(event(seq, pk, "insert" if rev == 0 and first_seq == 1 else "update"))
            seq += 1
    return events


def _pending_of(r, names, consumer: str) -> int:
    try:
        consumers = r.xinfo_consumers(names.changes_stream, INDEXER_GROUP)
    except redis.ResponseError:  # the group is not there yet
        return 0
    for c in consumers:
        if c["name"] == consumer:
            return int(c["pending"])
    return 0


def test_kill_9_of_one_of_two_indexers_mid_batch_loses_no_event(
    catalog_settings, names, redis_client, es, daemons
):
    events = _history(products=2000, revisions=10)
    publish(redis_client, names, events)
    a = daemons.catalog("indexer", "run", "--consumer", "a", "--batch-size", "200")
    b = daemons.catalog("indexer", "run", "--consumer", "b", "--batch-size", "200")
    # Kill `a` while it holds a batch it has not acknowledged.
    wait_until(lambda: _pending_of(redis_client, names, "a") > 0, timeout=60,
               interval=0.005, message=a.output())
    a.kill(signal.SIGKILL)
    orphaned = _pending_of(redis_client, names, "a")
    assert orphaned > 0

    wait_until(lambda: caught_up(redis_client, names), timeout=180,
               message=f"b caught up\n{b.output()[-3000:]}")
    assert _pending_of(redis_client, names, "a") == 0  # claimed by b, applied and acked
    versions = _versions(es, write_alias(names))
    newest = {e.pk: e.seq for e in events}
    assert versions == newest
    assert redis_client.xlen(names.dlq_stream) == 0


def _es_script(action: str, url: str) -> None:
    # A second node for a few thousand documents: a small heap leaves the machine be.
    env = {**os.environ, "ELASTICSEARCH_URL": url, "CATALOG_CACHE": CACHE, "ES_HEAP": "1g"}
    subprocess.run([str(ROOT / "scripts/services/elasticsearch"), action], env=env,
                   check=True, timeout=300, capture_output=True)


def _data_dir(port: int) -> Path:
    return Path(CACHE) / f"es-data-{port}"  # where scripts/services/elasticsearch keeps it


def _stop_es(url: str) -> None:
    """Stop the private node and wait for its JVM to exit (it holds the data folder lock)."""
    pidfile = _data_dir(int(url.rsplit(":", 1)[1])) / "es.pid"
    pid = int(pidfile.read_text()) if pidfile.exists() else None
    _es_script("stop", url)
    if pid:
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), timeout=60,
                   message="private Elasticsearch exited")


def _answers(es: Elasticsearch) -> bool:
    try:
        es.cluster.health(timeout="1s")
        return True
    except Exception:
        return False


def _free_port_pair() -> int:
    """A loopback port P with P+100 (its transport port) free too, away from 9200/9300."""
    for _ in range(200):
        port = random.randint(9400, 9899)
        if all(_port_free(p) for p in (port, port + 100)):
            return port
    raise AssertionError("no free port pair for a private Elasticsearch")


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def private_es(monkeypatch, catalog_settings):
    """A private single-node Elasticsearch on a port of this run's own (concurrent runs of
    this suite must not stop each other's node), its data folder removed afterwards."""
    port = PRIVATE_ES_PORT or _free_port_pair()
    url = f"http://127.0.0.1:{port}"
    assert port != 9200
    _es_script("start", url)
    monkeypatch.setenv("ELASTICSEARCH_URL", url)
    client = Elasticsearch(url, request_timeout=30, max_retries=0)
    yield client
    _stop_es(url)
    if not PRIVATE_ES_PORT:
        shutil.rmtree(_data_dir(port), ignore_errors=True)


def test_elasticsearch_down_for_30_seconds_during_writes_then_everything_arrives(
    names, redis_client, private_es, daemons
):
    es = private_es
    s = settings_module.load()
    assert s.elasticsearch_url != "http://127.0.0.1:9200"  # never the shared node
    batch = 100
    indexer = daemons.catalog("indexer", "run", "--consumer", "solo", "--batch-size", str(batch))
    before = _history(products=300, revisions=2)
    publish(redis_client, names, before)
    wait_until(lambda: caught_up(redis_client, names), timeout=60, message=indexer.output())

    _stop_es(s.elasticsearch_url)
    assert not _answers(es)
    # Writes go on for 30 s while Elasticsearch is down: 100 events/s.
    during = _history(products=300, revisions=10, first_seq=len(before) + 1)
    outage_end = time.monotonic() + 30
    for start in range(0, len(during), 100):
        publish(redis_client, names, during[start:start + 100])
        # Memory stays bounded: the indexer holds one batch, it does not read ahead.
        assert _pending_of(redis_client, names, "solo") <= batch
        time.sleep(max(0.0, (outage_end - time.monotonic()) / max(1, (len(during) - start) // 100)))
    assert indexer.alive(), indexer.output()
    assert not caught_up(redis_client, names)
    assert redis_client.xlen(names.dlq_stream) == 0

    _es_script("start", s.elasticsearch_url)
    wait_until(lambda: caught_up(redis_client, names), timeout=180,
               message=f"caught up after the outage\n{indexer.output()[-3000:]}")
    newest = {e.pk: e.seq for e in before + during}
    assert _versions(es, write_alias(names)) == newest
    assert redis_client.xlen(names.dlq_stream) == 0
    assert "retry" in indexer.output()
