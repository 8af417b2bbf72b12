"""The real pipeline feeding search: a product added through the API travels triggers →
tailer → indexer into Elasticsearch, is searchable at once, and appears in autocomplete
only once it is active (set through the ORM, as the thumbnail worker would)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.waiting import wait_until
from web.products.models import ApiToken, Product

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")


def suggested_ids(client, q: str) -> list:
    response = client.get("/api/autocomplete", {"q": q})
    return [s["id"] for s in response.json().get("suggestions", [])]


def searched(client, q: str) -> dict:
    return {r["id"]: r for r in client.get("/api/search", {"q": q}).json().get("results", [])}


def test_product_added_through_the_api_is_suggested_once_active(client, daemons):
    tailer = daemons.catalog("cdc", "run")
    indexer = daemons.catalog("indexer", "run")
    logs = lambda: tailer.output()[-2000:] + indexer.output()[-2000:]  # noqa: E731
    token = ApiToken.objects.create(user=User.objects.create_user("writer"))

    response = client.post(
        "/api/products",
        {"title": "Walnut Reading Lamp", "image_url": "https://img.example/lamp.jpg",
         "category": "lighting", "price": "89.00"},
        content_type="application/json", headers={"Authorization": f"Token {token.key}"},
    )
    assert response.status_code == 202, response.content
    pid = Product.objects.get(title="Walnut Reading Lamp").pk

    found = wait_until(lambda: searched(client, "walnut").get(pid), timeout=30,
                       message=f"searchable while processing\n{logs()}")
    assert found["status"] == "processing"
    assert pid not in suggested_ids(client, "walnut")  # not active yet

    Product.objects.filter(pk=pid).update(status=Product.Status.ACTIVE,
                                          thumbnails={"64": "/media/t/lamp-64.webp"})
    suggestions = wait_until(lambda: suggested_ids(client, "waln"), timeout=30,
                             message=f"suggested once active\n{logs()}")
    assert suggestions == [pid]
    (first,) = client.get("/api/autocomplete", {"q": "readin"}).json()["suggestions"]
    assert first == {"id": pid, "title": "Walnut Reading Lamp",
                     "thumbnail": "/media/t/lamp-64.webp", "url": f"/products/{pid}/"}

    Product.objects.filter(pk=pid).delete()
    wait_until(lambda: suggested_ids(client, "waln") == [], timeout=30,
               message=f"deleted product no longer suggested\n{logs()}")


def test_dashboard_reports_the_indexer_lag_from_the_pipeline_status(client, daemons):
    daemons.catalog("cdc", "run")
    daemons.catalog("indexer", "run")
    Product.objects.create(title="Oak Stool", image_url="https://img.example/s.jpg", status=1)

    def caught_up():
        body = client.get("/api/analytics").json()
        indexer = body["pipeline"].get("groups", {}).get("indexer")
        return body["total"] == 1 and indexer and indexer["lag_events"] == 0 and body

    body = wait_until(caught_up, timeout=30, message="indexed, and the indexer shows no lag")
    assert body["pipeline"]["known"] is True
    assert body["pipeline"]["groups"]["indexer"]["pending"] == 0
