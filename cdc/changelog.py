"""The changelog table and the triggers that fill it, generated from each tracked table's columns.

Every INSERT/UPDATE/DELETE on a tracked table writes one `cdc_changelog` row in the
writer's own transaction, whoever the writer is (Django, raw SQL, the sqlite3 shell).
SQLite serialises writers, so AUTOINCREMENT `seq` order is commit order, and a rolled
back write leaves neither its row nor a gap. AUTOINCREMENT (not plain ROWID) also means a
seq is never reused after pruning.

Every UPDATE statement that touches a row produces an event, even one that changes no
value: no update is skipped, so consumers never depend on a rule about which columns matter.

Functions here take a DB-API cursor and never open transactions themselves, so the same
code runs inside a Django migration, a post_migrate handler and `catalog cdc install`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from cdc import position
from shared import sqlite as db
from shared.events import ChangeEvent, encoded_fields

CHANGELOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS cdc_changelog (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl TEXT NOT NULL,
    pk TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    row TEXT NOT NULL,
    old TEXT,
    ts INTEGER NOT NULL
)
"""
# Index on ts so the tailer finds the retention boundary without a scan.
CHANGELOG_TS_INDEX = "CREATE INDEX IF NOT EXISTS cdc_changelog_ts ON cdc_changelog (ts)"

# Milliseconds since the epoch, from inside a trigger (unixepoch('subsec') needs SQLite 3.42).
NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"

TRIGGER_OPS = ("insert", "update", "delete")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Django declares JSONField columns on SQLite as text with this CHECK; their values go into
# the event as JSON objects, not as strings holding JSON.
_JSON_CHECK = re.compile(r'JSON_VALID\(\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s*\)', re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    name: str
    is_json: bool


@dataclass(frozen=True)
class TableShape:
    table: str
    pk: str
    columns: tuple[Column, ...]


class NotInstallable(RuntimeError):
    """A tracked table that cannot carry triggers (missing, no single-column primary key)."""


def trigger_name(table: str, op: str) -> str:
    return f"cdc_{table}_{op}"


def _checked(identifier: str) -> str:
    if not _IDENTIFIER.match(identifier):
        raise NotInstallable(f"{identifier!r} is not a plain SQL identifier")
    return identifier


def _rows(cur, sql: str) -> list[tuple]:
    cur.execute(sql)
    return [tuple(r) for r in cur.fetchall()]


def table_shape(cur, table: str) -> TableShape:
    """The columns of `table` as SQLite has them now (PRAGMA table_info)."""
    _checked(table)
    info = _rows(cur, f"PRAGMA table_info('{table}')")
    if not info:
        raise NotInstallable(f"table {table} does not exist (run `catalog migrate` first?)")
    ddl = _rows(cur, f"SELECT sql FROM sqlite_master WHERE type='table' AND name='{table}'")
    json_columns = set(_JSON_CHECK.findall(ddl[0][0] or "")) if ddl else set()
    pks = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
    if len(pks) != 1:
        raise NotInstallable(f"table {table} needs a single-column primary key, has {pks}")
    columns = tuple(Column(_checked(r[1]), r[1] in json_columns) for r in info)
    return TableShape(table=table, pk=pks[0], columns=columns)


def _row_json(shape: TableShape, ref: str) -> str:
    """json_object(...) of NEW or OLD; a JSON column that is not valid JSON stays a string."""
    parts = []
    for c in shape.columns:
        value = f'{ref}."{c.name}"'
        if c.is_json:
            value = f"CASE WHEN json_valid({value}) THEN json({value}) ELSE {value} END"
        parts.append(f"'{c.name}', {value}")
    return "json_object(" + ", ".join(parts) + ")"


def trigger_sql(shape: TableShape, op: str) -> str:
    """CREATE TRIGGER for one op; its text changes whenever the table's columns change."""
    ref = "OLD" if op == "delete" else "NEW"
    row = _row_json(shape, ref)
    old = _row_json(shape, "OLD") if op == "update" else "NULL"
    return (
        f"CREATE TRIGGER {trigger_name(shape.table, op)} AFTER {op.upper()} ON \"{shape.table}\"\n"
        "BEGIN\n"
        "  INSERT INTO cdc_changelog (tbl, pk, op, row, old, ts)\n"
        f"  VALUES ('{shape.table}', CAST({ref}.\"{shape.pk}\" AS TEXT), '{op}',\n"
        f"          {row},\n"
        f"          {old},\n"
        f"          {NOW_MS});\n"
        "END"
    )


def ensure_tables(cur) -> None:
    """The changelog and position tables (idempotent)."""
    cur.execute(CHANGELOG_SCHEMA)
    cur.execute(CHANGELOG_TS_INDEX)
    cur.execute(position.SCHEMA)


def install(cur, tables: Iterable[str]) -> list[str]:
    """Create the cdc tables and (re)create every trigger whose SQL differs from the wanted one.

    Returns the names of the triggers created or replaced (empty: all were up to date).
    The caller holds the transaction, so the swap is atomic for concurrent writers.
    """
    ensure_tables(cur)
    tables = list(tables)
    changed = _drop_untracked(cur, tables)
    for table in tables:
        shape = table_shape(cur, table)
        for op in TRIGGER_OPS:
            name = trigger_name(table, op)
            wanted = trigger_sql(shape, op)
            have = _rows(
                cur, f"SELECT sql FROM sqlite_master WHERE type='trigger' AND name='{name}'"
            )
            if have and have[0][0] == wanted:
                continue
            cur.execute(f"DROP TRIGGER IF EXISTS {name}")
            cur.execute(wanted)
            changed.append(name)
    return changed


def _drop_untracked(cur, tables: list[str]) -> list[str]:
    """Drop our triggers on tables no longer tracked (CDC_TABLES shrank)."""
    dropped = []
    for name, table in _rows(cur, "SELECT name, tbl_name FROM sqlite_master WHERE type='trigger'"):
        ours = any(name == trigger_name(table, op) for op in TRIGGER_OPS)
        if ours and table not in tables:
            cur.execute(f"DROP TRIGGER IF EXISTS {_checked(name)}")
            dropped.append(name)
    return dropped


def uninstall(cur, tables: Iterable[str]) -> None:
    """Drop the triggers (the changelog stays: it may hold unpublished rows)."""
    for table in tables:
        for op in TRIGGER_OPS:
            cur.execute(f"DROP TRIGGER IF EXISTS {trigger_name(_checked(table), op)}")


def installed_triggers(cur) -> list[str]:
    return [r[0] for r in _rows(cur, "SELECT name FROM sqlite_master WHERE type='trigger' "
                                     "AND name LIKE 'cdc\\_%' ESCAPE '\\' ORDER BY name")]


def install_sqlite(conn: sqlite3.Connection, tables: Iterable[str]) -> list[str]:
    """install() in its own IMMEDIATE transaction on an autocommit connection of ours."""
    with db.write(conn):
        return install(conn.cursor(), list(tables))


def reset(conn: sqlite3.Connection) -> None:
    """Empty the changelog and positions and restart seq at 1. Tests only: loses history."""
    with db.write(conn):
        ensure_tables(conn.cursor())
        conn.execute("DELETE FROM cdc_changelog")
        conn.execute("DELETE FROM cdc_position")
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'cdc_changelog'")


# --- reading, for the tailer and status -------------------------------------------------

_SELECT = "SELECT seq, tbl, pk, op, row, old, ts FROM cdc_changelog"


def to_event(row: tuple) -> ChangeEvent:
    seq, tbl, pk, op, raw_row, raw_old, ts = row
    return ChangeEvent(
        seq=seq, table=tbl, op=op, pk=pk, row=json.loads(raw_row),
        old=json.loads(raw_old) if raw_old is not None else None, ts=ts,
    )


def to_entry(row: tuple) -> tuple[int, dict[str, str]]:
    """(seq, stream fields) of a raw changelog row, its JSON passed through unparsed."""
    seq, tbl, pk, op, raw_row, raw_old, ts = row
    return seq, encoded_fields(tbl, op, pk, raw_row, raw_old, ts)


def read_after(conn: sqlite3.Connection, seq: int, limit: int) -> list[tuple]:
    """Raw changelog rows with seq > `seq`, in seq order, at most `limit`."""
    return conn.execute(f"{_SELECT} WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)).fetchall()


def head(conn: sqlite3.Connection) -> int:
    """The highest seq ever assigned (survives pruning: sqlite_sequence), 0 if none."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'cdc_changelog'").fetchone()
    return int(row[0]) if row else 0


def floor(conn: sqlite3.Connection) -> int | None:
    """The lowest retained seq, None when the changelog is empty."""
    row = conn.execute("SELECT MIN(seq) FROM cdc_changelog").fetchone()
    return row[0] if row else None


def ts_of(conn: sqlite3.Connection, seq: int) -> int | None:
    row = conn.execute("SELECT ts FROM cdc_changelog WHERE seq = ?", (seq,)).fetchone()
    return row[0] if row else None


def last_seq_before(conn: sqlite3.Connection, ts_ms: int) -> int:
    """The highest seq committed before `ts_ms` (0 if none): the retention boundary."""
    # Walk the ts index from the boundary down; commit order and clock order agree closely
    # enough for a retention window measured in minutes or hours.
    row = conn.execute(
        "SELECT seq FROM cdc_changelog WHERE ts < ? ORDER BY ts DESC LIMIT 1", (ts_ms,)
    ).fetchone()
    return row[0] if row else 0


def prune_through(conn: sqlite3.Connection, seq: int) -> int:
    """Delete changelog rows with seq <= `seq`; returns how many went."""
    with db.write(conn):
        return conn.execute("DELETE FROM cdc_changelog WHERE seq <= ?", (seq,)).rowcount
