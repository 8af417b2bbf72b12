"""The services the suites run against are the real servers, not stand-ins."""

from __future__ import annotations

import uuid


def test_elasticsearch_is_a_real_server_with_a_healthy_cluster(es):
    # The integ-test distribution has no rest-root module, so `GET /` (es.info()) answers
    # 405; the nodes API reports the same version and the JVM it runs on.
    nodes = es.nodes.info(node_id="_local", metric="jvm")["nodes"]
    (node,) = nodes.values()
    assert node["version"].split(".")[0] == "9"
    assert int(node["jvm"]["version"].split(".")[0]) >= 21
    health = es.cluster.health(wait_for_status="yellow", timeout="10s")
    assert health["status"] in ("green", "yellow")


def test_redis_answers_ping_and_a_stream_round_trip(redis_client, names):
    assert redis_client.ping() is True
    stream = names.key("roundtrip", uuid.uuid4().hex)
    entry = redis_client.xadd(stream, {"k": "v"}, id="7-0")
    assert entry == "7-0"
    assert redis_client.xrange(stream) == [("7-0", {"k": "v"})]
    assert redis_client.info("server")["redis_version"].count(".") == 2
