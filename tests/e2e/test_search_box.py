"""In a real browser: type into the search box, pick a suggestion with the keyboard, land on
the product page; search with facets on /search/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.integration.catalogue_seed import create_products

pytestmark = [pytest.mark.browser]


@pytest.fixture
def lamps(es, names):
    return create_products(es, names, [
        {"title": "Brass desk lamp", "category": "lighting", "price": "49.90"},
        {"title": "Brass door knob", "category": "hardware", "price": "12.00"},
        {"title": "Copper kettle", "category": "kitchen", "price": "35.00"},
        {"title": "Brass floor lamp", "category": "lighting", "price": "120.00", "status": 0},
    ])


def test_keyboard_pick_of_a_suggestion_opens_the_product(page, live_server, lamps, screenshot):
    page.goto(f"{live_server.url}/search/")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    box = page.locator("header [data-autocomplete-input]")
    box.press_sequentially("bras", delay=40)

    options = page.locator("#autocomplete-list [role=option]")
    expect(options).to_have_count(2)  # the inactive floor lamp is never suggested
    titles = options.all_inner_texts()
    assert sorted(titles) == ["Brass desk lamp", "Brass door knob"]
    assert page.evaluate("window.__sameDocument") is True
    box.press("ArrowDown")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_class("active")
    box.press("ArrowUp")
    expect(options.nth(0)).to_have_class("active")
    screenshot("search-box-suggestions")

    chosen = next(p for p in lamps if p.title == titles[0])
    box.press("Enter")
    page.wait_for_url(f"{live_server.url}/products/{chosen.pk}/")
    expect(page.locator("h1")).to_contain_text(chosen.title)


def test_typo_in_the_search_box_still_suggests(page, live_server, lamps):
    page.goto(f"{live_server.url}/search/")
    page.locator("header [data-autocomplete-input]").press_sequentially("copr", delay=40)
    expect(page.locator("#autocomplete-list [role=option]")).to_have_text(["Copper kettle"])


def test_search_page_highlights_matches_and_filters_by_facet(page, live_server, lamps):
    page.goto(f"{live_server.url}/search/")
    page.get_by_label("Search terms").fill("brass")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".hit")).to_have_count(3)
    expect(page.locator(".hit-title mark").first).to_have_text("Brass")

    page.locator("a[data-facet=category]", has_text="lighting").click()
    expect(page.locator(".hit")).to_have_count(2)
    expect(page.locator("a[data-facet=category].selected")).to_contain_text("lighting")

    page.locator("a[data-facet=status]", has_text="inactive").click()
    expect(page.locator(".hit")).to_have_count(1)
    expect(page.locator(".hit-title")).to_have_text("Brass floor lamp")


def test_search_page_explains_an_empty_result(page, live_server, lamps):
    page.goto(f"{live_server.url}/search/?q=zeppelin")
    expect(page.locator(".empty-state")).to_contain_text("No product title or description matches")
