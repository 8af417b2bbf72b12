"""GET /api/analytics and /dashboard/ against the real Elasticsearch (and the pipeline's
own status from SQLite and Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.catalogue_seed import index_rows, product


def ago(**delta) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


def rows() -> list[dict]:
    """Built when the test runs: times are relative to now, and a session can be long."""
    return [
        product(1, "Red Wool Sweater", category="clothing", price="49.99", created=ago(minutes=2),
                active_after=2),
        product(2, "Blue Cotton Shirt", category="clothing", price="19.50", created=ago(minutes=2),
                active_after=4),
        product(3, "Wireless Headphones", category="electronics", price="129",
                created=ago(minutes=2), active_after=6),
        product(4, "Wired Headphones", status=0, category="electronics", price="1500",
                created=ago(minutes=10)),
        product(5, "Headphone Stand", status=2, category="electronics", price="5",
                created=ago(minutes=10)),
        product(6, "Old Lamp", status=2, category="home", price=None, created=ago(hours=3)),
        product(7, "Deleted Vest", category="clothing", price="30", created=ago(minutes=1)),
    ]


@pytest.fixture
def catalogue(es, names):
    index_rows(es, names, rows())
    index_rows(es, names, [], deleted_ids=(7,))


def get_analytics(client) -> dict:
    response = client.get("/api/analytics")
    assert response.status_code == 200, response.content
    return response.json()


def test_products_added_per_minute_cover_the_last_hour(client, catalogue):
    body = get_analytics(client)
    buckets = body["added_per_minute"]
    assert len(buckets) in (61, 62)  # the hour's minutes, both ends included
    assert sum(b["count"] for b in buckets) == 5 == body["added_last_hour"]
    assert max(b["count"] for b in buckets) == 3


def test_status_breakdown_and_total_exclude_deleted_products(client, catalogue):
    body = get_analytics(client)
    assert body["total"] == 6
    assert body["status"] == {"processing": 2, "active": 3, "inactive": 1}


def test_top_categories_best_first(client, catalogue):
    assert get_analytics(client)["top_categories"] == [
        {"category": "electronics", "count": 3},
        {"category": "clothing", "count": 2},
        {"category": "home", "count": 1},
    ]


def test_price_distribution_counts_each_range(client, catalogue):
    body = get_analytics(client)
    counts = {b["range"]: b["count"] for b in body["price_distribution"]}
    assert counts == {"< 10": 1, "10-25": 1, "25-50": 1, "50-100": 0, "100-250": 1,
                      "250-500": 0, "500-1000": 0, "≥ 1000": 1}
    assert body["price_stats"] == {"min": 5.0, "avg": 340.7, "max": 1500.0}


def test_time_from_add_to_active_percentiles_use_active_products(client, catalogue):
    t = get_analytics(client)["time_to_active_s"]
    assert t["count"] == 3
    assert 2 <= t["p50"] <= 6 and t["p50"] <= t["p90"] <= t["p99"] <= 6


def test_pipeline_lag_comes_from_the_cdc_status(client, catalogue, redis_client, names):
    pipeline = get_analytics(client)["pipeline"]
    assert pipeline["known"] is True
    assert isinstance(pipeline["changelog_head_seq"], int)


def test_empty_catalogue_gives_zeroes_not_errors(client, catalog_settings):
    body = get_analytics(client)
    assert body["total"] == 0 and body["status"] == {"processing": 0, "active": 0, "inactive": 0}
    assert body["time_to_active_s"]["p50"] is None


def test_dashboard_page_embeds_the_figures_and_the_charts(client, catalogue):
    response = client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="analytics-initial"' in html and '"total": 6' in html
    for chart in ("per-minute", "status", "categories", "prices", "activation"):
        assert f'id="chart-{chart}"' in html
