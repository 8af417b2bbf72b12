"""In a real browser: the dashboard draws its charts and redraws them by itself (no reload)
after new products are indexed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.integration.catalogue_seed import create_products

pytestmark = [pytest.mark.browser]


def bar_values(page, chart: str) -> list[float]:
    return page.eval_on_selector_all(
        f"#chart-{chart} rect.bar", "bars => bars.map(b => Number(b.dataset.value || 0))"
    )


def test_charts_render_and_update_after_new_products_are_indexed(
    page, live_server, es, names, screenshot
):
    create_products(es, names, [
        {"title": "Brass desk lamp", "category": "lighting", "price": "49.90"},
        {"title": "Copper kettle", "category": "kitchen", "price": "35.00"},
        {"title": "Oak stool", "category": "furniture", "price": "150.00", "status": 2},
    ])
    page.goto(f"{live_server.url}/dashboard/")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("[data-field=total]")).to_have_text("3")
    assert sum(bar_values(page, "per-minute")) == 3
    assert bar_values(page, "status") == [1, 2, 0]  # processing, active, inactive
    expect(page.locator("#chart-categories text.label")).to_have_count(3)
    expect(page.locator("#chart-prices rect.bar")).to_have_count(8)
    expect(page.locator("#chart-activation text.value").first).not_to_have_text("\u2013")
    screenshot("dashboard-initial")

    create_products(es, names, [
        {"title": f"Lamp {i}", "category": "lighting", "price": "20.00"} for i in range(4)
    ])
    expect(page.locator("[data-field=total]")).to_have_text("7", timeout=15_000)
    assert sum(bar_values(page, "per-minute")) == 7
    assert bar_values(page, "status") == [1, 6, 0]
    expect(page.locator("#chart-categories text.label").first).to_have_text("lighting")
    assert page.evaluate("window.__sameDocument") is True
    screenshot("dashboard-after-new-products")
