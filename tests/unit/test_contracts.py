"""The contracts in shared/: event schema round trip and rejection, settings parsing, names."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared import settings
from shared.events import ChangeEvent, EventError, entry_id, seq_of
from shared.names import Names

README = Path(__file__).resolve().parents[2] / "README.md"


def _event(**changes) -> ChangeEvent:
    base = dict(seq=42, table="products_product", op="update", pk="7",
                row={"id": 7, "title": "Ünïcødé \"quoted\" ☃", "price": None},
                old={"id": 7, "title": "before"}, ts=1_764_000_000_000)
    return ChangeEvent(**{**base, **changes})


def test_event_survives_the_stream_field_round_trip_byte_for_byte():
    event = _event()
    assert ChangeEvent.from_entry(entry_id(event.seq), event.to_fields()) == event


def test_event_without_old_row_round_trips_with_none():
    event = _event(op="insert", old=None)
    fields = event.to_fields()
    assert "old" not in fields
    assert ChangeEvent.from_entry("42-0", fields).old is None


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda f: f.update(row="{not json"), "row is not JSON"),
        (lambda f: f.update(row="[1, 2]"), "row is not a JSON object"),
        (lambda f: f.update(op="upsert"), "unknown op"),
        (lambda f: f.update(v="99"), "unsupported schema version"),
        (lambda f: f.pop("pk"), "missing field(s): pk"),
        (lambda f: f.update(ts="yesterday"), "ts is not an integer"),
    ],
)
def test_poison_entries_are_rejected_with_the_reason(mutate, reason):
    fields = _event().to_fields()
    mutate(fields)
    with pytest.raises(EventError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        ChangeEvent.from_entry("42-0", fields)


def test_entry_ids_map_back_to_changelog_seq():
    assert seq_of("123-0") == 123
    assert seq_of(b"5") == 5
    with pytest.raises(ValueError):
        seq_of("1700000000000-3")


def test_settings_come_from_the_environment_with_types():
    s = settings.load({"CDC_BATCH_SIZE": "17", "DEBUG": "yes", "CDC_POLL_INTERVAL": "0.25"})
    assert (s.cdc_batch_size, s.debug, s.cdc_poll_interval) == (17, True, 0.25)
    assert settings.load({}).redis_url == "redis://127.0.0.1:6379/0"


def test_bad_setting_names_the_variable():
    with pytest.raises(ValueError, match="CDC_BATCH_SIZE"):
        settings.load({"CDC_BATCH_SIZE": "lots"})


def test_default_namespace_gives_the_architecture_names():
    names = Names.from_settings(settings.load({}))
    assert names.changes_stream == "catalog:changes"
    assert names.dlq_stream == "catalog:dlq"
    assert names.index_name(3) == "products-v3"


def test_readme_documents_every_setting():
    text = README.read_text()
    missing = [name for name, _, _ in settings.table() if f"`{name}`" not in text]
    assert missing == []
