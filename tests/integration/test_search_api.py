"""GET /api/search and the /search/ page against the real Elasticsearch."""

from __future__ import annotations

import pytest

from tests.integration.catalogue_seed import index_rows, product

ROWS = [
    product(1, "Red Wool Sweater", category="clothing", price="49.99",
            description="Warm knit for winter"),
    product(2, "Blue Cotton Shirt", category="clothing", price="19.50"),
    product(3, "Wireless Headphones", category="electronics", price="129"),
    product(4, "Wired Headphones Pro", status=0, category="electronics", price="89"),
    product(5, "Headphone Stand", status=2, category="electronics", price="25"),
    product(6, "Wool Socks", category="clothing", price="9.99"),
    product(7, "Sweater Vest", category="clothing", price="30"),
    product(8, "Stainless Kettle", category="kitchen", price="35",
            description="Boils water fast; a sweater for your tea"),
    product(9, "Café Crème Mug", category="kitchen", price="500"),
]


@pytest.fixture
def catalogue(es, names):
    index_rows(es, names, ROWS)
    index_rows(es, names, [], deleted_ids=(7,))


def search(client, **params) -> dict:
    response = client.get("/api/search", params)
    assert response.status_code == 200, response.content
    return response.json()


def ids(body: dict) -> list:
    return [r["id"] for r in body["results"]]


def facet(body: dict, name: str) -> dict:
    return {b["value"]: b["count"] for b in body["facets"][name]}


def test_words_in_the_title_rank_above_a_mention_in_the_description(client, catalogue):
    assert ids(search(client, q="sweater")) == [1, 8]


def test_matches_are_highlighted_and_escaped(client, es, names, catalogue):
    body = search(client, q="sweater")
    assert body["results"][0]["title_html"] == "Red Wool <mark>Sweater</mark>"
    assert "<mark>sweater</mark>" in body["results"][1]["snippet_html"]
    index_rows(es, names, [product(20, "<b>Bold</b> sweater & co")])
    (hit,) = [r for r in search(client, q="bold")["results"] if r["id"] == 20]
    assert hit["title_html"].startswith("&lt;b&gt;<mark>Bold</mark>&lt;")
    assert "<b>" not in hit["title_html"] and "&amp; co" in hit["title_html"]


def test_prefix_finds_products_as_you_type(client, catalogue):
    assert sorted(ids(search(client, q="headph"))) == [3, 4, 5]


def test_typo_finds_the_right_product(client, catalogue):
    assert ids(search(client, q="sweeter"))[0] == 1
    assert ids(search(client, q="kettel")) == [8]


def test_unicode_titles_are_found_with_their_accents(client, catalogue):
    assert ids(search(client, q="crème")) == [9]


def test_deleted_products_are_never_found(client, catalogue):
    assert 7 not in ids(search(client, q="vest"))
    assert search(client, q="")["total"] == 8


def test_facets_count_the_whole_result_set(client, catalogue):
    body = search(client)
    assert facet(body, "category") == {"clothing": 3, "electronics": 3, "kitchen": 2}
    assert facet(body, "status") == {"active": 6, "inactive": 1, "processing": 1}
    assert facet(body, "price") == {
        "under 10": 1, "10 to 50": 4, "50 to 100": 1, "100 to 500": 1, "500 and over": 1,
    }


def test_a_chosen_filter_narrows_results_and_the_other_facets(client, catalogue):
    body = search(client, category="electronics")
    assert sorted(ids(body)) == [3, 4, 5] and body["total"] == 3
    assert facet(body, "status") == {"active": 1, "inactive": 1, "processing": 1}
    # The chosen facet keeps counting its other values, so the shopper can switch.
    assert facet(body, "category") == {"clothing": 3, "electronics": 3, "kitchen": 2}
    assert [b["value"] for b in body["facets"]["category"] if b["selected"]] == ["electronics"]


def test_filters_combine_with_the_query(client, catalogue):
    body = search(client, q="headphones", status="active")
    assert ids(body) == [3]
    body = search(client, min_price="10", max_price="49.99")
    assert sorted(ids(body)) == [1, 2, 5, 8]
    price = [b for b in body["facets"]["price"] if b["selected"]]
    assert [b["value"] for b in price] == ["10 to 50"] and price[0]["count"] == 4


def test_sorting_by_price(client, catalogue):
    assert ids(search(client, sort="price_asc"))[:3] == [6, 2, 5]
    assert ids(search(client, sort="price_desc"))[:2] == [9, 3]


def test_pagination_walks_every_result_once(client, es, names):
    index_rows(es, names, [product(100 + i, f"Lamp {i}") for i in range(45)])
    pages = [search(client, q="lamp", sort="title", page=p) for p in (1, 2, 3)]
    assert [len(p["results"]) for p in pages] == [20, 20, 5]
    assert pages[0]["pages"] == 3 and pages[0]["total"] == 45
    seen = [i for p in pages for i in ids(p)]
    assert sorted(seen) == list(range(100, 145))
    past = search(client, q="lamp", page=4)
    assert past["results"] == [] and "only 45 results" in past["empty_reason"]


def test_empty_state_says_the_query_matched_nothing(client, catalogue):
    body = search(client, q="zeppelin")
    assert body["results"] == [] and body["total"] == 0
    assert "No product title or description matches “zeppelin”" in body["empty_reason"]


def test_empty_state_says_which_filters_excluded_the_matches(client, catalogue):
    body = search(client, q="headphones", category="kitchen")
    assert body["results"] == []
    assert body["empty_reason"].startswith("3 products match “headphones”, but none")
    assert "in category “kitchen”" in body["empty_reason"]


def test_empty_state_of_an_empty_catalogue(client, catalog_settings):
    body = search(client)
    assert body["total"] == 0 and "no products have been indexed yet" in body["empty_reason"]


@pytest.mark.parametrize(("params", "names_in_message"), [
    ({"page": "-1"}, ["page"]),
    ({"page": "abc"}, ["page"]),
    ({"page": "100000"}, ["page"]),
    ({"sort": "cheapest"}, ["sort"]),
    ({"q": "x" * 10_000}, ["q", "200"]),
    ({"min_price": "abc"}, ["min_price"]),
    ({"max_price": "-5"}, ["max_price"]),
    ({"min_price": "NaN"}, ["min_price"]),
    ({"min_price": "50", "max_price": "10"}, ["min_price must not be greater than max_price"]),
    ({"status": "deleted"}, ["status"]),
])
def test_bad_parameters_are_a_400_with_a_clear_message(client, catalogue, params, names_in_message):
    response = client.get("/api/search", params)
    assert response.status_code == 400
    message = response.json()["error"]
    assert message.startswith("Invalid search parameters.")
    for name in names_in_message:
        assert name in message


def test_search_page_renders_results_facets_and_highlights(client, catalogue):
    response = client.get("/search/", {"q": "sweater"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Red Wool <mark>Sweater</mark>" in html
    assert 'href="/products/1/"' in html
    assert "?q=sweater&amp;category=clothing" in html


def test_search_page_explains_an_empty_result(client, catalogue):
    html = client.get("/search/", {"q": "zeppelin"}).content.decode()
    assert "Nothing found" in html and "zeppelin" in html


def test_search_page_with_bad_parameters_is_a_400_page(client, catalogue):
    response = client.get("/search/", {"sort": "nope"})
    assert response.status_code == 400
    assert "sort:" in response.content.decode()


def test_longest_allowed_query_is_answered_not_refused(client, catalogue):
    body = search(client, q=" ".join(["sweater"] * 25)[:200])
    assert ids(body)[0] == 1
    assert search(client, q="ß" * 200)["total"] == 0
