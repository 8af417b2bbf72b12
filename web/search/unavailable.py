"""Elasticsearch down: a friendly 503 instead of a 500, for pages and JSON alike.
The rest of the site (adding products) never calls these views, so it keeps working."""

from __future__ import annotations

import functools
import logging

from django.http import JsonResponse
from django.shortcuts import render

from web.search.client import SearchUnavailable

log = logging.getLogger(__name__)
MESSAGE = (
    "Search is temporarily unavailable: the search engine is not answering. "
    "Products can still be added; they will appear here once search is back."
)
RETRY_AFTER_S = "10"


def _when_down(respond):
    """A view decorator turning SearchUnavailable into `respond(request)` with a 503."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except SearchUnavailable as exc:
                log.warning("search unavailable for %s: %s", request.path, exc)
                response = respond(request)
                response["Retry-After"] = RETRY_AFTER_S
                return response

        return wrapper

    return decorator


json_when_down = _when_down(lambda request: JsonResponse({"error": MESSAGE}, status=503))
page_when_down = _when_down(
    lambda request: render(request, "search/unavailable.html", {"message": MESSAGE}, status=503)
)
