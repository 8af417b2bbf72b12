"""Pure logic of the versioned bulk writer: how a bulk item is classified, backoff caps."""

from __future__ import annotations

from types import SimpleNamespace

import orjson
from elastic_transport import ConnectionError as TransportConnectionError

from indexer import bulk as bulk_module
from indexer.bulk import APPLIED, CONFLICT, REJECTED, Backoff, VersionedBulk, Write, _classify


def _failed(status, kind="x", reason="r") -> dict:
    return {"index": {"status": status, "error": {"type": kind, "reason": reason}}}


def test_a_version_conflict_is_an_outcome_not_a_failure():
    assert _classify(False, _failed(409, "version_conflict_engine_exception"))[0] == CONFLICT


def test_mapping_errors_are_rejections_with_the_reason():
    status, text = _classify(False, _failed(400, "document_parsing_exception", "bad status"))
    assert status == REJECTED and "document_parsing_exception: bad status" in text


def test_overload_server_errors_and_write_blocks_are_retried():
    for item in (_failed(429), _failed(503), _failed(500), _failed(403, "cluster_block_exception"),
                 _failed("N/A")):
        assert _classify(False, item)[0] is None, item


def test_success_is_applied():
    assert _classify(True, {"index": {"status": 201}})[0] == APPLIED


def test_backoff_grows_exponentially_and_stays_under_its_cap():
    b = Backoff(base=0.1, cap=2.0)
    delays = [b.next_delay() for _ in range(12)]
    assert all(d <= 2.0 for d in delays)
    assert delays[-1] >= 1.0  # capped, jittered to at most half below the cap
    assert delays[0] <= 0.1


def _body_lines(bulk: VersionedBulk, writes: list[Write], targets: list[str]):
    out: list = []
    chunk = [(i, t) for i in range(len(writes)) for t in targets]
    requests = list(bulk._requests(writes, chunk, out))
    return out, [(sent, [orjson.loads(line) for line in body.splitlines()])
                 for sent, body in requests]


def test_the_bulk_body_is_ndjson_with_the_version_on_every_action():
    bulk = VersionedBulk(None, version_type="external_gte")
    writes = [Write("1", 7, {"title": "Crème Mug"}), Write("2", 7, {"title": "Tōkyō Kettle"})]

    rejected, requests = _body_lines(bulk, writes, ["a", "b"])

    assert rejected == []
    [(sent, lines)] = requests
    assert sent == [(0, "a"), (0, "b"), (1, "a"), (1, "b")]
    assert lines[0] == {"index": {"_index": "a", "_id": "1", "version": 7,
                                  "version_type": "external_gte"}}
    assert lines[1] == {"title": "Crème Mug"}
    assert [line["index"]["_index"] for line in lines[::2]] == ["a", "b", "a", "b"]


def test_a_write_that_is_not_json_is_rejected_alone_with_the_reason():
    writes = [Write("1", 3, {"id": 2**70}), Write("2", 3, {"id": 2})]

    rejected, [(sent, lines)] = _body_lines(VersionedBulk(None), writes, ["a"])

    assert [(pairs, status) for pairs, status, _ in rejected] == [([(0, "a")], REJECTED)]
    assert "not serialisable" in rejected[0][2]
    assert sent == [(1, "a")] and lines[1] == {"id": 2}


def test_requests_are_split_below_the_size_cap_without_losing_a_write(monkeypatch):
    monkeypatch.setattr(bulk_module, "MAX_REQUEST_BYTES", 10_000)
    writes = [Write(str(i), 1, {"description": "x" * 1000}) for i in range(25)]

    _, requests = _body_lines(VersionedBulk(None), writes, ["a"])

    assert len(requests) > 1
    assert all(len(b"".join(orjson.dumps(x) + b"\n" for x in lines)) <= 10_000
               for _, lines in requests)
    assert [i for sent, _ in requests for i, _t in sent] == list(range(25))


class _UnreachableOnce:
    """A bulk endpoint that accepts the first request, then is unreachable once."""

    def __init__(self):
        self.bodies: list[bytes] = []

    def bulk(self, operations, filter_path):
        self.bodies.append(operations)
        if len(self.bodies) == 2:
            raise TransportConnectionError("connection refused")
        return SimpleNamespace(body={"errors": False})


def test_after_a_failed_request_it_and_every_later_one_are_retried_not_dropped(monkeypatch):
    monkeypatch.setattr(bulk_module, "MAX_REQUEST_BYTES", 3_000)  # two writes per request
    monkeypatch.setattr(bulk_module.time, "sleep", lambda _: None)
    es = _UnreachableOnce()
    writes = [Write(str(i), 1, {"description": "x" * 1000}) for i in range(9)]

    outcome = VersionedBulk(es, concurrency=1).write(writes, ["a"])

    assert outcome.status == [APPLIED] * 9 and outcome.retries == 1
    sent_ids = [orjson.loads(line)["index"]["_id"]
                for body in es.bodies for line in body.splitlines()[::2]]
    # 0-1 applied, 2-3 failed, then 2-8 resent: the failed request and all after it.
    assert sent_ids == ["0", "1", "2", "3"] + [str(i) for i in range(2, 9)]
