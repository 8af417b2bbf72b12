"""Trigger generation against a real SQLite file, without Django: shape, regeneration, rollback."""

from __future__ import annotations

import json

import pytest

from cdc import changelog, position
from shared import sqlite as db
from shared.status_cli import render

WIDGETS = """
CREATE TABLE widgets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    meta TEXT NOT NULL CHECK ((JSON_VALID("meta") OR "meta" IS NULL)),
    notes TEXT
)
"""


@pytest.fixture
def conn(tmp_path):
    c = db.connect(tmp_path / "unit.sqlite3")
    c.execute(WIDGETS)
    changelog.install_sqlite(c, ["widgets"])
    yield c
    c.close()


def _events(conn):
    return [changelog.to_event(tuple(r)) for r in changelog.read_after(conn, 0, 1000)]


def test_insert_event_holds_every_column_and_json_columns_as_objects(conn):
    conn.execute("INSERT INTO widgets (name, meta, notes) VALUES ('a', '{\"k\": [1, 2]}', NULL)")
    (event,) = _events(conn)
    assert (event.table, event.op, event.pk, event.seq) == ("widgets", "insert", "1", 1)
    assert event.row == {"id": 1, "name": "a", "meta": {"k": [1, 2]}, "notes": None}
    assert event.old is None and event.ts > 1_600_000_000_000


def test_update_carries_old_row_and_delete_carries_the_row_before(conn):
    conn.execute("INSERT INTO widgets (name, meta) VALUES ('a', '{}')")
    conn.execute("UPDATE widgets SET name = 'b'")
    conn.execute("DELETE FROM widgets")
    _, update, delete = _events(conn)
    assert (update.row["name"], update.old["name"]) == ("b", "a")
    assert delete.op == "delete" and delete.row["name"] == "b" and delete.old is None


def test_an_update_that_changes_nothing_still_produces_an_event(conn):
    conn.execute("INSERT INTO widgets (name, meta) VALUES ('a', '{}')")
    conn.execute("UPDATE widgets SET name = name")  # the rule: no update is ever skipped
    _, update = _events(conn)
    assert update.op == "update" and update.row == update.old


def test_new_column_appears_in_events_after_reinstall_and_reinstall_is_idempotent(conn):
    conn.execute("ALTER TABLE widgets ADD COLUMN colour TEXT DEFAULT 'red'")
    changed = changelog.install_sqlite(conn, ["widgets"])
    assert sorted(changed) == ["cdc_widgets_delete", "cdc_widgets_insert", "cdc_widgets_update"]
    assert changelog.install_sqlite(conn, ["widgets"]) == []
    conn.execute("INSERT INTO widgets (name, meta) VALUES ('a', '{}')")
    (event,) = _events(conn)
    assert event.row["colour"] == "red"


def test_triggers_of_a_table_no_longer_tracked_are_dropped(conn):
    conn.execute("CREATE TABLE gadgets (id INTEGER PRIMARY KEY, name TEXT)")
    changelog.install_sqlite(conn, ["widgets", "gadgets"])
    assert len(changelog.installed_triggers(conn.cursor())) == 6
    dropped = changelog.install_sqlite(conn, ["widgets"])
    assert sorted(dropped) == ["cdc_gadgets_delete", "cdc_gadgets_insert", "cdc_gadgets_update"]
    conn.execute("INSERT INTO gadgets (name) VALUES ('untracked')")
    assert _events(conn) == []


def test_rollback_leaves_no_row_and_no_seq_gap(conn):
    with pytest.raises(RuntimeError), db.write(conn):
        conn.execute("INSERT INTO widgets (name, meta) VALUES ('gone', '{}')")
        raise RuntimeError
    conn.execute("INSERT INTO widgets (name, meta) VALUES ('kept', '{}')")
    assert [(e.seq, e.row["name"]) for e in _events(conn)] == [(1, "kept")]


def test_seq_is_never_reused_after_pruning(conn):
    for n in range(3):
        conn.execute("INSERT INTO widgets (name, meta) VALUES (?, '{}')", (str(n),))
    assert changelog.prune_through(conn, 3) == 3
    assert changelog.floor(conn) is None and changelog.head(conn) == 3
    conn.execute("INSERT INTO widgets (name, meta) VALUES ('next', '{}')")
    assert [e.seq for e in _events(conn)] == [4]


def test_event_fields_round_trip_unicode_and_quotes(conn):
    name = "Ünï “q” 'single' \"double\" \\ 😀"
    conn.execute("INSERT INTO widgets (name, meta) VALUES (?, ?)",
                 (name, json.dumps({"s": name}, ensure_ascii=False)))
    (event,) = _events(conn)
    fields = event.to_fields()
    assert json.loads(fields["row"])["name"] == name
    assert json.loads(fields["row"])["meta"] == {"s": name}


def test_passed_through_json_fields_parse_to_the_same_event(conn):
    from shared.events import ChangeEvent

    conn.execute("INSERT INTO widgets (name, meta, notes) VALUES (?, ?, NULL)",
                 ("Ünï “q” \\ \n\t 😀", '{"price": 9.99, "n": [1, null, true]}'))
    conn.execute("UPDATE widgets SET name = 'b', meta = '{\"x\": 1.5e300}'")
    for raw in changelog.read_after(conn, 0, 10):
        seq, fields = changelog.to_entry(tuple(raw))
        event = changelog.to_event(tuple(raw))
        assert ChangeEvent.from_entry(f"{seq}-0", fields) == event
        assert fields.keys() == event.to_fields().keys()


def test_table_without_triggers_installable_is_refused(tmp_path):
    c = db.connect(tmp_path / "refuse.sqlite3")
    with pytest.raises(changelog.NotInstallable, match="does not exist"):
        changelog.install_sqlite(c, ["nope"])
    c.execute("CREATE TABLE pair (a INTEGER, b INTEGER, PRIMARY KEY (a, b))")
    with pytest.raises(changelog.NotInstallable, match="single-column primary key"):
        changelog.install_sqlite(c, ["pair"])
    c.close()


def test_position_only_moves_forward_and_keeps_the_backfill_flag(conn):
    position.record(conn, "s", seq=10, acked_seq=4)
    position.record(conn, "s", seq=7, acked_seq=2)
    position.flag_backfill(conn, "s", "rows 5..9 pruned")
    p = position.load(conn, "s")
    assert (p.seq, p.acked_seq, p.backfill_required, p.note) == (10, 4, True, "rows 5..9 pruned")
    position.clear_backfill(conn, "s")
    assert position.load(conn, "s").backfill_required is False
    assert position.load(conn, "other") == position.Position(stream="other")


def test_status_render_nests_sections():
    lines = render({"cdc": {"head": 3, "ok": True, "groups": {"indexer": {"lag": None}}}})
    assert lines[0] == "cdc:"
    assert any(line.strip().startswith("head:") and line.endswith(" 3") for line in lines)
    assert any(line.strip() == "indexer:" for line in lines)
    assert lines[-1].strip().endswith("-")
