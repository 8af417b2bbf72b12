"""Elasticsearch unreachable: search, autocomplete and the dashboard answer 503 with a
friendly message; adding products (form and API) keeps working. The shared server is never
stopped: the settings point at a loopback port nobody listens on."""

from __future__ import annotations

import dataclasses
import socket
import time

import pytest
from django.contrib.auth.models import User

from web.products.models import ApiToken, Product


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def search_down(settings, catalog_settings):
    url = f"http://127.0.0.1:{closed_port()}"
    settings.CATALOG = dataclasses.replace(catalog_settings, elasticsearch_url=url)
    return url


@pytest.mark.parametrize("path", [
    "/api/autocomplete?q=lamp", "/api/search?q=lamp", "/api/analytics",
])
def test_apis_answer_503_json_without_leaking_the_error(client, search_down, path):
    started = time.monotonic()
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"]
    message = response.json()["error"]
    assert "temporarily unavailable" in message
    assert "127.0.0.1" not in message and "Connection" not in message
    assert time.monotonic() - started < 5  # refused fast, not hung


@pytest.mark.parametrize("path", ["/search/?q=lamp", "/dashboard/"])
def test_pages_answer_503_with_a_friendly_page(client, search_down, path):
    response = client.get(path)
    assert response.status_code == 503
    html = response.content.decode()
    assert "Search is taking a break" in html and "Products can still be added" in html
    assert "Traceback" not in html and search_down not in html


def test_bad_parameters_are_still_400_while_search_is_down(client, search_down):
    assert client.get("/api/search", {"sort": "nope"}).status_code == 400


def test_adding_products_keeps_working_while_search_is_down(client, search_down):
    token = ApiToken.objects.create(user=User.objects.create_user("writer"))
    response = client.post(
        "/api/products", {"title": "Lamp while down", "image_url": "https://img.example/l.jpg"},
        content_type="application/json", headers={"Authorization": f"Token {token.key}"},
    )
    assert response.status_code == 202, response.content
    response = client.post(
        "/products/", {"title": "Form lamp", "image_url": "https://img.example/f.jpg"},
    )
    assert response.status_code == 303, response.content
    assert set(Product.objects.values_list("title", flat=True)) == {
        "Lamp while down", "Form lamp"}
    assert client.get("/products/").status_code == 200
