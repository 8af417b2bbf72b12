"""Row → document: the one mapping from a products row (as the triggers record it) to
the Elasticsearch document, used by the indexer, backfill, verify and repair alike.
Backfill has SQLite render it for ordinary rows (DOCUMENT_SQL, at the end of this file).

A deleted product is not removed from the index: it becomes a tombstone document
(`deleted: true`, no content) indexed with the delete's version. Elasticsearch forgets
delete markers after `index.gc_deletes`; a tombstone document never expires, so an old
insert replayed any time later is still rejected as a version conflict. The read alias
filters tombstones out (indexer/index.py), so searches never see them.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

STATUS_NAMES = {0: "inactive", 1: "active", 2: "processing"}
MILLISECOND = timedelta(milliseconds=1)
SUGGEST_CONTEXT = "status"
# The fields verify compares; the rest of a document is derived from these.
COMPARED_FIELDS = (
    "title", "description", "category", "price", "status", "image_url",
    "thumbnails", "failure_reason", "created_at", "updated_at",
)


def to_document(row: dict[str, Any]) -> dict[str, Any]:
    """The document for a live products row (from the changelog JSON or a SELECT)."""
    title = row.get("title") or ""
    status = int(row.get("status") if row.get("status") is not None else 2)
    return {
        "deleted": False,
        "id": int(row["id"]) if row.get("id") is not None else None,
        "title": title,
        "description": row.get("description") or "",
        "category": row.get("category") or "",
        "price": normalize_price(row.get("price")),
        "status": status,
        "status_name": STATUS_NAMES.get(status, "unknown"),
        "image_url": row.get("image_url") or "",
        "thumbnails": normalize_thumbnails(row.get("thumbnails")),
        "failure_reason": row.get("failure_reason") or "",
        "created_at": normalize_time(row.get("created_at")),
        "updated_at": normalize_time(row.get("updated_at")),
        "activation_seconds": activation_seconds(
            status, row.get("created_at"), row.get("updated_at")
        ),
        "suggest": {"input": suggest_inputs(title), "contexts": {SUGGEST_CONTEXT: [str(status)]}},
    }


def tombstone() -> dict[str, Any]:
    return {"deleted": True}


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """The compared fields of a document (or of to_document(row)), for verify."""
    return {f: doc.get(f) for f in COMPARED_FIELDS}


def suggest_inputs(title: str) -> list[str]:
    """Completion input: the whole title. One input per product: an input per title word
    cost a third of Elasticsearch's indexing throughput; later words ("sweat" for "Red Wool
    Sweater") are found by autocomplete's title query (index_prefixes) instead."""
    return [title]


def activation_seconds(status: int, created: Any, updated: Any) -> float | None:
    """Seconds from add to active, in whole milliseconds, for the dashboard's percentiles
    (the server has no scripting, so the figure is stored). Approximated by updated_at -
    created_at of an active product: the thumbnail worker's activation is normally its
    last write. Truncated, not rounded: integer arithmetic SQLite repeats exactly."""
    if status != 1 or created in (None, "") or updated in (None, ""):
        return None
    if created == updated:
        return 0.0
    start, end = _as_utc(created), _as_utc(updated)
    return max(0, (end - start) // MILLISECOND) / 1000


def normalize_price(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and math.isfinite(value) and round(value, 2) == value:
        return value  # already exact to the cent: what quantize would give, without Decimal
    try:
        return float(Decimal(str(value)).quantize(Decimal("0.01")))
    except InvalidOperation:
        return None


def normalize_thumbnails(value: Any) -> dict[str, str]:
    # JSONField arrives as JSON text from SQLite (trigger or SELECT), as a dict from Python.
    if value == "{}":  # the common case, without a parse
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else {}
        except json.JSONDecodeError:
            return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def normalize_time(value: Any) -> str | None:
    """Django stores aware datetimes in SQLite as UTC text ("2026-11-28 07:33:00.123456")."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and len(value) == 26 and value[10] == " " and value[19] == ".":
        # That exact UTC format: same result as parsing, without it (backfill/verify hot path).
        return f"{value[:10]}T{value[11:]}Z"
    return _as_utc(value).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# -- The same mapping, rendered by SQLite --------------------------------------------------
# Backfill turns every row into a document. In Python (row → dict → to_document → JSON)
# that was half of its CPU, on a machine it shares with Elasticsearch. For a row in the
# form the site writes (text where text belongs, a price to the cent, Django's timestamp
# format, thumbnails a flat object of strings), DOCUMENT_SQL has SQLite render the same
# document as JSON; for any other row it is NULL and to_document builds it. Change one,
# change the other: tests/integration/test_documents_sql.py holds them to the same
# documents, row by row, for ordinary and odd rows alike.

_TEXT_COLUMNS = ("title", "description", "category", "image_url", "failure_reason")


def _time_in_django_form(column: str) -> str:
    """normalize_time's fast path: 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    return (f"typeof({column}) = 'text' AND length({column}) = 26"
            f" AND substr({column}, 11, 1) = ' ' AND substr({column}, 20, 1) = '.'")


def _parses_as_a_time(column: str) -> str:
    """A real date and time, as datetime.fromisoformat would accept it."""
    return (f"datetime(substr({column}, 1, 19)) = substr({column}, 1, 19)"
            f" AND substr({column}, 21) GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]'")


def _iso_time(column: str) -> str:
    return f"substr({column}, 1, 10) || 'T' || substr({column}, 12) || 'Z'"


def _epoch_microseconds(column: str) -> str:
    return (f"(CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(substr({column}, 21) AS INTEGER))")


_CANONICAL = " AND ".join([
    "typeof(id) = 'integer'",
    *(f"typeof({c}) = 'text'" for c in _TEXT_COLUMNS),
    f"typeof(status) = 'integer' AND status IN ({', '.join(map(str, STATUS_NAMES))})",
    # A float exact to the cent (normalize_price's fast path) or an integer.
    "(price IS NULL OR (typeof(price) IN ('integer', 'real') AND abs(price) < 1e12"
    " AND round(price * 100) / 100.0 = price))",
    # A flat object of strings, no escapes or repeated keys: what json.loads gives back.
    "(thumbnails = '{}' OR (json_valid(thumbnails) AND json_type(thumbnails) = 'object'"
    " AND instr(thumbnails, '\\') = 0"
    " AND NOT EXISTS (SELECT 1 FROM json_each(thumbnails) WHERE type <> 'text')"
    " AND (SELECT count(*) = count(DISTINCT key) FROM json_each(thumbnails))))",
    _time_in_django_form("created_at"),
    _time_in_django_form("updated_at"),
    f"(status <> 1 OR created_at = updated_at OR ({_parses_as_a_time('created_at')}"
    f" AND {_parses_as_a_time('updated_at')}))",
])

_STATUS_NAME = ("CASE status "
                + " ".join(f"WHEN {k} THEN '{v}'" for k, v in STATUS_NAMES.items()) + " END")

_ACTIVATION = (
    "CASE WHEN status <> 1 THEN NULL WHEN created_at = updated_at THEN 0.0 ELSE"
    f" max(0, ({_epoch_microseconds('updated_at')} - {_epoch_microseconds('created_at')})"
    " / 1000) / 1000.0 END"
)

# The document of a products row as JSON (a BLOB of UTF-8), or NULL: use to_document.
DOCUMENT_SQL = f"""CASE WHEN {_CANONICAL} THEN CAST(json_object(
    'deleted', json('false'),
    'id', id,
    'title', title,
    'description', description,
    'category', category,
    'price', price * 1.0,
    'status', status,
    'status_name', {_STATUS_NAME},
    'image_url', image_url,
    'thumbnails', json(thumbnails),
    'failure_reason', failure_reason,
    'created_at', {_iso_time('created_at')},
    'updated_at', {_iso_time('updated_at')},
    'activation_seconds', {_ACTIVATION},
    'suggest', json_object('input', json_array(title),
                           'contexts', json_object('{SUGGEST_CONTEXT}',
                                                   json_array(CAST(status AS TEXT))))
) AS BLOB) END"""
