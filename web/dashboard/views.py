"""The live dashboard: a page that draws itself from GET /api/analytics every few seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from web.dashboard import freshness
from web.dashboard.analytics import analytics, analytics_body
from web.dashboard.pipeline import pipeline_lag
from web.search import client
from web.search.unavailable import json_when_down, page_when_down

REFRESH_SECONDS = 3


def current_analytics() -> dict:
    s = settings.CATALOG
    return freshness.recent((s.elasticsearch_url, s.index_alias), compute_analytics)


def compute_analytics() -> dict:
    figures = analytics(client.search(request_cache=True, **analytics_body()))
    figures["pipeline"] = pipeline_lag(settings.CATALOG)
    figures["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return figures


@require_GET
@json_when_down
def analytics_api(request: HttpRequest) -> JsonResponse:
    return JsonResponse(current_analytics())


@require_GET
@page_when_down
def dashboard_page(request: HttpRequest):
    context = {"initial": current_analytics(), "refresh_ms": REFRESH_SECONDS * 1000}
    return render(request, "dashboard/dashboard.html", context)
