"""A seeded catalogue for the search and dashboard tests: rows → documents through the one
mapping (indexer.documents.to_document), written the way the indexer writes them
(version = seq, external), into an index behind the test's own aliases."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.documents import to_document, tombstone
from indexer.index import ensure_index, write_alias
from shared.names import Names

_seq = itertools.count(1)


def product(pid: int, title: str, *, status: int = 1, category: str = "", price: Any = None,
            description: str = "", created: datetime | None = None,
            active_after: float = 3.0, thumbnails: dict | None = None) -> dict[str, Any]:
    """A products row as the triggers record it."""
    created = created or datetime.now(UTC) - timedelta(minutes=5)
    updated = created + timedelta(seconds=active_after)
    return {
        "id": pid, "title": title, "status": status, "category": category, "price": price,
        "description": description, "image_url": f"https://img.example/{pid}.jpg",
        "thumbnails": thumbnails if thumbnails is not None else {
            "64": f"/media/thumbs/{pid}-64.webp", "256": f"/media/thumbs/{pid}-256.webp"},
        "failure_reason": "", "created_at": created.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "updated_at": updated.strftime("%Y-%m-%d %H:%M:%S.%f"),
    }


def index_rows(es: Elasticsearch, names: Names, rows: list[dict[str, Any]],
               deleted_ids: tuple[int, ...] = ()) -> None:
    """Index rows (and tombstones for deleted_ids) and refresh so searches see them."""
    ensure_index(es, names, refresh_interval="100ms")
    actions = [_action(names, str(r["id"]), to_document(r)) for r in rows]
    actions += [_action(names, str(pid), tombstone()) for pid in deleted_ids]
    helpers.bulk(es, actions, refresh=True)


def _action(names: Names, pid: str, doc: dict[str, Any]) -> dict[str, Any]:
    seq = next(_seq)
    return {"_index": write_alias(names), "_id": pid, "_source": {**doc, "seq": seq},
            "version": seq, "version_type": "external"}


def index_products(es: Elasticsearch, names: Names, pks: list[int]) -> None:
    """Index products as they are in SQLite now (what the indexer would do after CDC)."""
    from web.products.models import Product

    index_rows(es, names, list(Product.objects.filter(pk__in=pks).values()))


def create_products(es: Elasticsearch, names: Names, specs: list[dict[str, Any]]) -> list:
    """Create products in SQLite (status active unless given) and index them."""
    from web.products.models import Product

    made = [Product.objects.create(**{"status": 1, "image_url": "https://img.example/x.jpg",
                                      **spec}) for spec in specs]
    index_products(es, names, [p.pk for p in made])
    return made
