"""The products index: mapping and settings. Only what the server core supports
(this distribution has no analysis-common or mapper-extras): the standard analyzer,
text with index_prefixes, keyword, completion with a category context, date, double.
"""

from __future__ import annotations

from typing import Any

from indexer.documents import SUGGEST_CONTEXT

MAPPING_VERSION = 2  # bump when the mapping changes; `catalog reindex` builds the new index


def index_body(refresh_interval: str = "1s") -> dict[str, Any]:
    return {
        "settings": {
            "number_of_shards": 1,
            "number_of_replicas": 0,
            "refresh_interval": refresh_interval,
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "deleted": {"type": "boolean"},
                # the product id as a number: verify streams documents sorted by it
                # (sorting on _id needs fielddata, off by default).
                "id": {"type": "long"},
                "seq": {"type": "long"},
                "title": {
                    "type": "text",
                    "index_prefixes": {"min_chars": 1, "max_chars": 10},
                    "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
                },
                "description": {"type": "text"},
                "category": {"type": "keyword"},
                "price": {"type": "double"},
                "status": {"type": "byte"},
                "status_name": {"type": "keyword"},
                "image_url": {"type": "keyword", "index": False},
                "thumbnails": {"type": "object", "enabled": False},
                "failure_reason": {"type": "keyword", "index": False},
                "created_at": {"type": "date"},
                "updated_at": {"type": "date"},
                "activation_seconds": {"type": "double"},
                "suggest": {
                    "type": "completion",
                    "contexts": [{"name": SUGGEST_CONTEXT, "type": "category"}],
                },
            },
        },
    }
