"""`catalog seed` through the real pipeline: the demo catalogue ends active, with thumbnails,
searchable and suggested (the tailer, indexer, dispatcher and Celery worker as processes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.network_guard import catalog_argv
from tests.processes import ROOT
from tests.waiting import wait_until
from web.products.models import Product

pytest_plugins = ["tests.cdc_fixtures", "tests.thumbnail_fixtures"]
pytestmark = pytest.mark.usefixtures("clean_changelog")

COUNT = 24


def _all_active_with_thumbnails() -> list[Product] | None:
    products = list(Product.objects.all())
    if len(products) == COUNT and all(p.status != Product.Status.PROCESSING for p in products):
        return products
    return None


def test_seeded_products_end_active_with_thumbnails_and_are_found(
    pipeline, daemons, client, es, names
):
    pipeline.start()
    daemons.catalog("indexer", "run")

    seeded = subprocess.run(catalog_argv("seed", "--count", str(COUNT), "--random-seed", "3"),
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert seeded.returncode == 0, seeded.stderr

    products = wait_until(_all_active_with_thumbnails, timeout=120, interval=0.5,
                          message=pipeline.logs())
    reasons = {p.pk: p.failure_reason for p in products if p.status != Product.Status.ACTIVE}
    assert reasons == {}
    media = Path(pipeline.settings.media)
    for p in products:
        assert p.image_url.startswith(pipeline.settings.media_url + "seed/")
        assert sorted(p.thumbnails, key=int) == ["64", "256", "512"]
        for url in p.thumbnails.values():
            assert (media / url[len(pipeline.settings.media_url):]).is_file(), url

    # Search and autocomplete read Elasticsearch only: wait for the indexer's active versions.
    first = products[0]
    found = wait_until(
        lambda: _search_total(client) == COUNT and _search(client, first.title), timeout=60,
        interval=0.5, message=pipeline.logs())
    assert first.pk in [r["id"] for r in found]
    suggested = client.get("/api/autocomplete", {"q": first.title[:6]}).json()["suggestions"]
    assert first.pk in [s["id"] for s in suggested], suggested
    # The dashboard: a demo added just now, activated in the pipeline's time, not months.
    figures = client.get("/api/analytics").json()
    assert figures["added_last_hour"] == COUNT, figures
    assert figures["status"]["active"] == COUNT, figures
    assert figures["time_to_active_s"]["count"] == COUNT, figures
    assert figures["time_to_active_s"]["p99"] < 120, figures
    assert "sweep: re-dispatched" not in pipeline.logs()  # none looked stuck
    assert pipeline.forbidden_connects() == ""


def _search_total(client) -> int:
    response = client.get("/api/search", {"status": "active"})
    return response.json()["total"] if response.status_code == 200 else -1


def _search(client, q: str) -> list[dict]:
    response = client.get("/api/search", {"q": q, "status": "active"})
    return response.json()["results"] if response.status_code == 200 else []
