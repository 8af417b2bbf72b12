"""The Elasticsearch client of the sync commands (backfill, reindex, verify, repair)."""

from __future__ import annotations

import logging

from elasticsearch import Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from shared.settings import Settings


def search_client(settings: Settings) -> Elasticsearch:
    # One INFO line per request would bury the progress bar and the report.
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)
    # orjson: JSON encoding is a third of backfill's CPU time with the standard library.
    return Elasticsearch(settings.elasticsearch_url, request_timeout=120, max_retries=3,
                         retry_on_timeout=True, serializer=OrjsonSerializer())
