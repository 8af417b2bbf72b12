"""Poison entries go to the DLQ with their reason while the stream keeps flowing;
`catalog dlq list/replay` inspect and re-drive them."""

from __future__ import annotations

import json

from click.testing import CliRunner

from indexer.consumer import Indexer
from indexer.index import read_index
from shared.cli import main
from shared.dlq import DeadLetters
from tests.indexer_support import drain, event, publish, publish_raw, stored, visible_ids


def _poison_stream(redis_client, names):
    """Good events with a poison entry of each kind between them."""
    publish(redis_client, names, [event(1, 1, "insert")])
    bad_json = {**event(2, 2, "insert").to_fields(), "row": "{not json"}
    publish_raw(redis_client, names, 2, bad_json)
    publish(redis_client, names, [event(3, 3, "insert")])
    unknown_op = {**event(4, 4, "insert").to_fields(), "op": "upsert"}
    publish_raw(redis_client, names, 4, unknown_op)
    # status 300 is out of range for the mapping's byte field: Elasticsearch rejects it (400).
    publish(redis_client, names, [event(5, 5, "insert", status=300)])
    publish(redis_client, names, [event(6, 6, "insert", created_at="not a date")])
    publish(redis_client, names, [event(7, 7, "insert")])
    return {"2-0": bad_json, "4-0": unknown_op}


def test_poison_events_land_in_the_dlq_with_their_reason_and_later_events_are_indexed(
    catalog_settings, names, redis_client, es
):
    originals = _poison_stream(redis_client, names)
    indexer = Indexer(catalog_settings, consumer="c1")
    drain(indexer)

    assert visible_ids(es, names) == {"1", "3", "7"}
    letters = {d.entry_id: d for d in DeadLetters(redis_client, names).all()}
    assert set(letters) == {"2-0", "4-0", "5-0", "6-0"}
    assert "row is not JSON" in letters["2-0"].reason
    assert "unknown op 'upsert'" in letters["4-0"].reason
    assert "rejected by elasticsearch" in letters["5-0"].reason
    assert "400" in letters["5-0"].reason and "status" in letters["5-0"].reason
    assert "cannot build document" in letters["6-0"].reason
    assert letters["2-0"].fields == originals["2-0"]
    assert letters["4-0"].fields == originals["4-0"]
    assert {d.consumer for d in letters.values()} == {"indexer/c1"}
    assert indexer.metrics.dead_letters._value.get() == 4


def test_dlq_list_shows_each_dead_letter_as_text_and_json(
    catalog_settings, names, redis_client, es
):
    _poison_stream(redis_client, names)
    drain(Indexer(catalog_settings))
    runner = CliRunner()
    text = runner.invoke(main, ["dlq", "list"])
    assert text.exit_code == 0, text.output
    assert "entry 2-0" in text.output and "row is not JSON" in text.output
    as_json = runner.invoke(main, ["dlq", "list", "--json", "--limit", "2"])
    rows = [json.loads(line) for line in as_json.output.splitlines()]
    assert [r["entry_id"] for r in rows] == ["2-0", "4-0"]
    assert rows[0]["fields"]["row"] == "{not json"


def test_dlq_replay_applies_a_fixed_letter_and_keeps_a_still_poison_one(
    catalog_settings, names, redis_client, es
):
    _poison_stream(redis_client, names)
    drain(Indexer(catalog_settings))
    dlq = DeadLetters(redis_client, names)
    # A dead letter whose cause is gone (e.g. written while a mapping was wrong): valid now.
    good = event(8, 8, "insert")
    with redis_client.pipeline() as pipe:
        dlq.add(pipe, good.entry_id, good.to_fields(), "earlier mapping refused it", "old")
        pipe.execute()

    runner = CliRunner()
    fixed = runner.invoke(main, ["dlq", "replay", "8-0"])
    assert fixed.exit_code == 0, fixed.output
    assert "replayed 1" in fixed.output
    assert stored(es, names, 8)["_version"] == 8
    assert "8" in visible_ids(es, names)
    assert "8-0" not in {d.entry_id for d in dlq.all()}

    again = runner.invoke(main, ["dlq", "replay"])
    assert again.exit_code == 1
    assert "4 still dead" in again.output
    left = {d.entry_id: d for d in dlq.all()}
    assert set(left) == {"2-0", "4-0", "5-0", "6-0"}
    assert left["2-0"].consumer == "indexer/dlq-replay"

    unknown = runner.invoke(main, ["dlq", "replay", "999-0"])
    assert unknown.exit_code != 0 and "no dead letter with ID 999-0" in unknown.output


def test_replaying_an_old_dead_letter_never_overwrites_a_newer_document(
    catalog_settings, names, redis_client, es
):
    publish(redis_client, names, [event(1, 4, "insert"), event(2, 4, "delete")])
    drain(Indexer(catalog_settings))
    old = event(1, 4, "insert")
    dlq = DeadLetters(redis_client, names)
    with redis_client.pipeline() as pipe:
        dlq.add(pipe, old.entry_id, old.to_fields(), "timeout long ago", "old")
        pipe.execute()
    result = CliRunner().invoke(main, ["dlq", "replay"])
    assert result.exit_code == 0, result.output
    assert stored(es, names, 4).items() >= {"deleted": True, "seq": 2, "_version": 2}.items()
    assert dlq.length() == 0


def test_dlq_replay_leaves_another_groups_dead_letters_alone(
    catalog_settings, names, redis_client, es
):
    dlq = DeadLetters(redis_client, names)
    theirs = event(3, 3, "insert")
    with redis_client.pipeline() as pipe:
        dlq.add(pipe, theirs.entry_id, theirs.to_fields(), "job broker down", "thumbnails/w1")
        pipe.execute()
    result = CliRunner().invoke(main, ["dlq", "replay"])
    assert result.exit_code == 0, result.output
    assert "1 of other groups skipped" in result.output
    assert [d.consumer for d in dlq.all()] == ["thumbnails/w1"]
    assert read_index(es, names) is None  # nothing was applied to Elasticsearch
