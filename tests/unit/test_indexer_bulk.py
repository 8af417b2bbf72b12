"""Pure logic of the versioned bulk writer: how a bulk item is classified, backoff caps."""

from __future__ import annotations

from indexer.bulk import APPLIED, CONFLICT, REJECTED, Backoff, _classify


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
