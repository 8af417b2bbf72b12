"""Pure logic of search: parameter validation, request bodies, answer shaping."""

from __future__ import annotations

from decimal import Decimal

from web.dashboard.pipeline import summarize
from web.search.forms import SearchForm
from web.search.queries import (
    SearchParams,
    autocomplete_body,
    empty_reason,
    search_body,
    smallest_thumbnail,
    suggestions,
)


def option(pid: str, title: str) -> dict:
    return {"_id": pid, "text": title, "_source": {"title": title, "thumbnails": {}}}


def test_suggestions_put_exact_before_fuzzy_and_keep_each_product_once():
    response = {"suggest": {
        "exact": [{"options": [option("2", "Lamp"), option("3", "Lamp shade")]}],
        "fuzzy": [{"options": [option("9", "Lamb"), option("2", "Lamp")]}],
    }}
    assert [s["id"] for s in suggestions(response)] == [2, 3, 9]


def test_suggestions_stop_at_ten():
    many = [option(str(i), f"Lamp {i}") for i in range(12)]
    response = {"suggest": {"exact": [{"options": many}], "fuzzy": [{"options": many}]}}
    assert len(suggestions(response)) == 10


def test_autocomplete_asks_for_active_products_only():
    body = autocomplete_body("lam")
    for name in ("exact", "fuzzy"):
        assert body["suggest"][name]["completion"]["contexts"] == {"status": ["1"]}
    assert "fuzzy" in body["suggest"]["fuzzy"]["completion"]
    assert "fuzzy" not in body["suggest"]["exact"]["completion"]


def test_smallest_thumbnail_is_the_narrowest_width():
    assert smallest_thumbnail({"512": "/l", "64": "/s", "256": "/m"}) == "/s"
    assert smallest_thumbnail({}) is None


def test_each_facet_is_counted_without_its_own_filter():
    params = SearchParams(category="lamps", status="active", min_price=Decimal("10"))
    body = search_body(params)
    assert len(body["post_filter"]["bool"]["filter"]) == 3
    category_filters = body["aggs"]["category"]["filter"]["bool"]["filter"]
    assert {"term": {"category": "lamps"}} not in category_filters
    assert {"term": {"status": 1}} in category_filters


def test_pages_map_to_offsets():
    assert search_body(SearchParams(page=3))["from"] == 40


def test_form_rejects_inverted_price_range_and_unknown_sort():
    form = SearchForm({"min_price": "50", "max_price": "10", "sort": "cheap"})
    assert not form.is_valid()
    assert set(form.errors) == {"__all__", "sort"}


def test_form_defaults():
    form = SearchForm({})
    assert form.is_valid()
    assert form.params() == SearchParams()


def test_empty_reason_names_the_filters_that_excluded_matches():
    params = SearchParams(q="lamp", category="kitchen", max_price=Decimal("5"))
    reason = empty_reason(params, 0, {"matching": {"doc_count": 4}})
    assert reason.startswith("4 products match “lamp”, but none in category “kitchen”")
    assert "priced up to 5" in reason


def test_pipeline_summary_is_unknown_without_redis():
    assert summarize({"installed": True, "redis_error": "refused"})["known"] is False
    assert summarize({"installed": False, "note": "no changelog"}) == {
        "known": False, "reason": "no changelog"}
