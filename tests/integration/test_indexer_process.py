"""`catalog indexer run` as a real process: applies events, serves metrics, beats,
stops gracefully on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import urllib.request

from indexer.status import index_status
from shared.heartbeat import alive
from tests.indexer_support import caught_up, event, publish, stored
from tests.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _metric(port: int, name: str) -> float | None:
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
    except OSError:
        return None
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_indexer_process_applies_events_reports_metrics_and_heartbeat_then_stops_on_sigterm(
    catalog_settings, names, redis_client, es, daemons
):
    port = _free_port()
    indexer = daemons.catalog("indexer", "run", METRICS_PORT=str(port))
    publish(redis_client, names, [event(s, s % 10, "update") for s in range(1, 101)])
    wait_until(lambda: caught_up(redis_client, names), timeout=60, message="caught up")
    for pk in range(10):
        assert stored(es, names, pk)["_version"] == (90 + pk if pk else 100)

    # Conflicts: the same range again cannot regress anything; each is counted.
    redis_client.xgroup_setid(names.changes_stream, "indexer", id="0")
    wait_until(lambda: (_metric(port, "catalog_indexer_conflicts_total") or 0) >= 10,
               timeout=30, message=indexer.output())
    assert _metric(port, "catalog_indexer_applied_total") >= 10
    beats = wait_until(lambda: alive(redis_client, names), timeout=10)
    (name, figures), = beats.items()
    assert name.startswith("indexer/") and figures["applied"] >= 10
    assert json.dumps(figures)
    # `catalog status` figures come from the heartbeat, refreshed every 2 s.
    status = wait_until(lambda: (st := index_status(es, redis_client, names))["conflicts"] >= 10
                        and st, timeout=10)
    assert status["indexers_alive"] == 1 and status["applied"] >= 10
    assert status["dlq_length"] == 0 and status["pending"] == 0

    indexer.kill(signal.SIGTERM)  # one signal: finish the batch, exit cleanly
    assert indexer.proc.wait(timeout=15) == 0, indexer.output()
    assert "stopped" in indexer.output()


def test_signals_while_elasticsearch_is_unreachable_first_stops_cleanly_second_at_once(
    catalog_settings, names, redis_client, daemons
):
    dead_es = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    publish(redis_client, names, [event(1, 1, "insert")])
    first = daemons.catalog("indexer", "run", ELASTICSEARCH_URL=dead_es)
    wait_until(lambda: "retrying" in first.output(), timeout=30, message=first.output())
    first.kill(signal.SIGTERM)
    assert first.proc.wait(timeout=15) == 0, first.output()
    assert "stopped" in first.output()

    second = daemons.catalog("indexer", "run", ELASTICSEARCH_URL=dead_es)
    wait_until(lambda: "retrying" in second.output(), timeout=30, message=second.output())
    os.kill(second.pid, signal.SIGTERM)  # graceful: would wait out the backoff sleep...
    os.kill(second.pid, signal.SIGINT)  # ...but a second signal exits at once
    # (Python runs the pending handlers in signal-number order: SIGINT's first.)
    assert second.proc.wait(timeout=2) in (128 + signal.SIGINT, 128 + signal.SIGTERM)
    assert "second signal" in second.output()


def test_indexer_process_recovers_when_the_stream_and_its_group_vanish(
    catalog_settings, names, redis_client, es, daemons
):
    indexer = daemons.catalog("indexer", "run")
    publish(redis_client, names, [event(1, 1, "insert")])
    wait_until(lambda: caught_up(redis_client, names), timeout=30, message=indexer.output())
    # What Redis coming back empty looks like to the indexer (only our namespace's key).
    redis_client.delete(names.changes_stream)
    publish(redis_client, names, [event(2, 1, "update", title="after the loss")])
    wait_until(lambda: (stored(es, names, 1) or {}).get("_version") == 2, timeout=30,
               message=indexer.output())
    assert stored(es, names, 1)["title"] == "after the loss"
    assert indexer.alive()
