"""Index management: versioned indexes behind two aliases.

- `<alias>` (e.g. `products`): what the site searches. Points at one index and filters
  out tombstones (`deleted: true`), so searches and counts see live products only.
- `<alias>-all`: every index that must receive writes. Normally the same one index;
  during `catalog reindex` the new index too, so the live indexer feeds both while the
  new one is backfilled, and the read alias can swap at any moment.
"""

from __future__ import annotations

import re

from elasticsearch import Elasticsearch, NotFoundError

from indexer.mapping import index_body
from shared.names import Names

LIVE_FILTER = {"term": {"deleted": False}}


def write_alias(names: Names) -> str:
    return f"{names.index_alias}-all"


def read_index(es: Elasticsearch, names: Names) -> str | None:
    """The index the read alias points at, or None before the first start."""
    try:
        return next(iter(es.indices.get_alias(name=names.index_alias)))
    except NotFoundError:
        return None


def write_targets(es: Elasticsearch, names: Names) -> list[str]:
    try:
        return sorted(es.indices.get_alias(name=write_alias(names)))
    except NotFoundError:
        return []


def ensure_index(es: Elasticsearch, names: Names, refresh_interval: str = "1s") -> str:
    """Create `<alias>-v1` and both aliases if the read alias does not exist yet."""
    current = read_index(es, names)
    if current:
        return current
    index = names.index_name(1)
    es.options(ignore_status=400).indices.create(index=index, **index_body(refresh_interval))
    es.indices.update_aliases(actions=[
        {"add": {"index": index, "alias": names.index_alias, "filter": LIVE_FILTER}},
        {"add": {"index": index, "alias": write_alias(names)}},
    ])
    return index


def next_version(es: Elasticsearch, names: Names) -> int:
    pattern = re.compile(re.escape(names.index_alias) + r"-v(\d+)$")
    existing = es.options(ignore_status=404).indices.get(index=f"{names.index_alias}-v*")
    versions = [int(m.group(1)) for name in existing if (m := pattern.match(name))]
    return max(versions, default=0) + 1


def create_index(es: Elasticsearch, names: Names, version: int, refresh_interval: str) -> str:
    index = names.index_name(version)
    es.indices.create(index=index, **index_body(refresh_interval))
    return index


def add_write_target(es: Elasticsearch, names: Names, index: str) -> None:
    es.indices.update_aliases(actions=[{"add": {"index": index, "alias": write_alias(names)}}])


def swap_read_alias(es: Elasticsearch, names: Names, new_index: str) -> str | None:
    """Point the read alias at new_index in one atomic step; return the old index."""
    old = read_index(es, names)
    actions = [{"add": {"index": new_index, "alias": names.index_alias, "filter": LIVE_FILTER}}]
    if old and old != new_index:
        actions.insert(0, {"remove": {"index": old, "alias": names.index_alias}})
    es.indices.update_aliases(actions=actions)
    return old
