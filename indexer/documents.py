"""Row → document: the one mapping from a products row (as the triggers record it) to
the Elasticsearch document, used by the indexer, backfill, verify and repair alike.

A deleted product is not removed from the index: it becomes a tombstone document
(`deleted: true`, no content) indexed with the delete's version. Elasticsearch forgets
delete markers after `index.gc_deletes`; a tombstone document never expires, so an old
insert replayed any time later is still rejected as a version conflict. The read alias
filters tombstones out (indexer/index.py), so searches never see them.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

STATUS_NAMES = {0: "inactive", 1: "active", 2: "processing"}
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
    """Seconds from add to active, for the dashboard's percentiles (the server has no
    scripting, so the figure is stored). Approximated by updated_at - created_at of an
    active product: the thumbnail worker's activation is normally its last write."""
    if status != 1 or created in (None, "") or updated in (None, ""):
        return None
    if created == updated:
        return 0.0
    start, end = _as_utc(created), _as_utc(updated)
    return max(0.0, round((end - start).total_seconds(), 3))


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
