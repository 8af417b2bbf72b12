"""The search engine behind one small interface: a client per endpoint, short timeouts,
and one exception the views turn into a friendly 503.

Clients are cached per URL (connection pools are expensive), never at import: tests point
settings.CATALOG at another endpoint and get a fresh client.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from elasticsearch import ApiError, Elasticsearch, TransportError

# A page must answer fast or say the search is down; never hang a worker on a dead node.
REQUEST_TIMEOUT_S = 2.0

log = logging.getLogger(__name__)
_clients: dict[str, Elasticsearch] = {}
_lock = threading.Lock()


class SearchUnavailable(Exception):
    """Elasticsearch did not answer usefully (down, timing out, or refusing the request)."""


def client() -> Elasticsearch:
    """The client for the current settings' elasticsearch_url."""
    url = settings.CATALOG.elasticsearch_url
    es = _clients.get(url)
    if es is None:
        with _lock:
            es = _clients.get(url)
            if es is None:
                es = Elasticsearch(
                    url,
                    request_timeout=REQUEST_TIMEOUT_S,
                    max_retries=0,
                    retry_on_timeout=False,
                    connections_per_node=32,
                )
                _clients[url] = es
    return es


def read_alias() -> str:
    """The filtered alias searches go to (tombstones hidden; see indexer/index.py)."""
    return settings.CATALOG.index_alias


def search(**body) -> dict:
    """Run a search on the read alias. A missing index reads as empty (nothing indexed yet);
    any transport or server failure becomes SearchUnavailable."""
    try:
        response = client().search(
            index=read_alias(), ignore_unavailable=True, allow_no_indices=True, **body
        )
    except ApiError as exc:
        if exc.status_code < 500:  # the request is ours, so this is a bug: log it loudly
            log.error("search request refused: %s %s", exc, body)
        raise SearchUnavailable(str(exc)) from exc
    except TransportError as exc:
        raise SearchUnavailable(str(exc)) from exc
    return response.body
