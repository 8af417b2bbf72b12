"""GET /api/autocomplete against the real Elasticsearch with a seeded catalogue."""

from __future__ import annotations

import pytest

from tests.integration.catalogue_seed import index_rows, product

ROWS = [
    product(1, "Red Wool Sweater", category="clothing", price="49.99"),
    product(2, "Blue Cotton Shirt", category="clothing", price="19.50"),
    product(3, "Wireless Headphones", category="electronics", price="129"),
    product(4, "Wired Headphones Pro", status=0, category="electronics", price="89"),
    product(5, "Headphone Stand", status=2, category="electronics", price="25"),
    product(6, "Wool Socks", category="clothing", price="9.99"),
    product(7, "Sweater Vest", category="clothing", price="30"),
    product(8, "Stainless Kettle", category="kitchen", price="35", thumbnails={}),
]


@pytest.fixture
def catalogue(es, names):
    index_rows(es, names, ROWS)
    # 7 is deleted after it was indexed: a tombstone with a higher version replaces it.
    index_rows(es, names, [], deleted_ids=(7,))


def suggest(client, q: str) -> list[dict]:
    response = client.get("/api/autocomplete", {"q": q})
    assert response.status_code == 200, response.content
    return response.json()["suggestions"]


def ids(suggestions: list[dict]) -> list:
    return [s["id"] for s in suggestions]


def test_prefix_of_the_first_word_suggests_the_product(client, catalogue):
    assert ids(suggest(client, "wirel")) == [3]


def test_prefix_of_a_later_word_suggests_the_product(client, catalogue):
    assert 1 in ids(suggest(client, "swea"))


def test_typo_still_suggests_the_right_product(client, catalogue):
    assert ids(suggest(client, "headphnes")) == [3]
    assert 8 in ids(suggest(client, "stainles ket"))


def test_inactive_and_processing_products_are_never_suggested(client, catalogue):
    assert 4 not in ids(suggest(client, "wired"))
    found = ids(suggest(client, "head"))
    assert 3 in found and 4 not in found and 5 not in found


def test_deleted_products_are_never_suggested(client, catalogue):
    assert 7 not in ids(suggest(client, "sweater"))
    assert ids(suggest(client, "vest")) == []


def test_product_that_became_inactive_is_no_longer_suggested(client, es, names, catalogue):
    assert ids(suggest(client, "blue cot")) == [2]
    index_rows(es, names, [product(2, "Blue Cotton Shirt", status=0)])
    assert ids(suggest(client, "blue cot")) == []


def test_each_product_is_suggested_once_even_when_several_words_match(client, catalogue):
    found = ids(suggest(client, "wool"))
    assert sorted(found) == [1, 6]


def test_at_most_ten_suggestions_best_first(client, es, names):
    lamps = [product(100 + i, f"Lamp {'x' * i}") for i in range(15)]
    index_rows(es, names, [*lamps, product(99, "Lamb Chop")])
    found = suggest(client, "lamp")
    assert len(found) == 10 and len(set(ids(found))) == 10
    assert 99 not in ids(found)  # exact prefix matches outrank the one-typo match


def test_exact_prefix_ranks_before_typo_match(client, es, names):
    index_rows(es, names, [product(1, "Lamb Chop"), product(2, "Lamp Shade")])
    assert ids(suggest(client, "lamp")) == [2, 1]


def test_suggestion_carries_title_id_and_smallest_thumbnail(client, catalogue):
    (first,) = suggest(client, "wirel")
    assert first == {
        "id": 3, "title": "Wireless Headphones", "thumbnail": "/media/thumbs/3-64.webp",
        "url": "/products/3/",
    }
    (kettle,) = suggest(client, "stainless")
    assert kettle["thumbnail"] is None


def test_empty_query_suggests_nothing(client, catalogue):
    assert suggest(client, "") == []
    assert suggest(client, "   ") == []


def test_query_over_the_length_limit_is_a_400_with_a_message(client, catalogue):
    response = client.get("/api/autocomplete", {"q": "a" * 10_000})
    assert response.status_code == 400
    assert "q:" in response.json()["error"] and "200" in response.json()["error"]


def test_before_anything_is_indexed_there_are_no_suggestions(client, catalog_settings):
    assert suggest(client, "anything") == []


def test_longest_allowed_query_is_answered_not_refused(client, catalogue):
    long_words = " ".join(["sweater"] * 25)[:200]
    # Every word is "sweater", so the later-word match may offer the sweater, and only it.
    assert {s["title"] for s in suggest(client, long_words)} <= {"Red Wool Sweater"}
    assert suggest(client, "x" * 200) == []
