"""In a real browser, with the real tailer and indexer running: a product added through the
form shows up in the search box's suggestions once it is active, and picking it opens it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.waiting import wait_until
from web.products.models import Product

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_changelog")]


def indexed_status(es, names, pk: int) -> int | None:
    hits = es.search(index=names.index_alias, query={"ids": {"values": [str(pk)]}},
                     ignore_unavailable=True)["hits"]["hits"]
    return hits[0]["_source"]["status"] if hits else None


def test_product_added_through_the_form_is_suggested_once_active(
    page, live_server, es, names, daemons, screenshot
):
    daemons.catalog("cdc", "run")
    daemons.catalog("indexer", "run")
    page.goto(f"{live_server.url}/products/")
    page.get_by_label("Title").fill("Walnut reading lamp")
    page.get_by_label("Image URL").fill("https://img.example/walnut-lamp.png")
    page.get_by_role("button", name="Add product").click()
    expect(page.locator(".messages")).to_contain_text("Added “Walnut reading lamp”")
    product = Product.objects.get(title="Walnut reading lamp")

    wait_until(lambda: indexed_status(es, names, product.pk) == 2, timeout=30,
               message="indexed as processing")
    Product.objects.filter(pk=product.pk).update(status=Product.Status.ACTIVE)  # the worker's job
    wait_until(lambda: indexed_status(es, names, product.pk) == 1, timeout=30,
               message="indexed as active")

    page.goto(f"{live_server.url}/search/")
    box = page.locator("header [data-autocomplete-input]")
    box.press_sequentially("walnut rea", delay=40)
    expect(page.locator("#autocomplete-list [role=option]")).to_have_text(["Walnut reading lamp"])
    screenshot("search-box-live-pipeline")
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url(f"{live_server.url}/products/{product.pk}/")
