"""In a real browser: add a product through the form and see it listed as processing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from web.products.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_adding_a_product_through_the_form_lists_it_as_processing(page, live_server, screenshot):
    page.goto(f"{live_server.url}/products/")
    page.get_by_label("Title").fill("Brass desk lamp")
    page.get_by_label("Image URL").fill("https://img.example/brass-lamp.png")
    page.get_by_label("Category").fill("lighting")
    page.get_by_label("Price").fill("49.90")
    page.get_by_role("button", name="Add product").click()

    expect(page.locator(".messages")).to_contain_text("Added “Brass desk lamp”")
    product = Product.objects.get(title="Brass desk lamp")
    row = page.locator(f"#product-{product.pk}")
    expect(row).to_contain_text("Brass desk lamp")
    expect(row.locator(".badge")).to_have_text("processing")
    assert page.url == f"{live_server.url}/products/?added={product.pk}"
    screenshot("products-page-after-add")

    row.get_by_role("link", name="Brass desk lamp").click()
    expect(page.locator("h1")).to_contain_text("Brass desk lamp")
    expect(page.locator("dl.fields")).to_contain_text("49.90")


def test_invalid_form_shows_field_errors_in_the_browser(page, live_server):
    page.goto(f"{live_server.url}/products/")
    page.get_by_label("Price").fill("-5")
    page.get_by_role("button", name="Add product").click()
    expect(page.locator(".field.has-error")).to_have_count(3)
    expect(page.get_by_text("Give an image URL or upload an image file.")).to_be_visible()
    assert Product.objects.count() == 0
