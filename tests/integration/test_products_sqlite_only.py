"""The web tier writes only SQLite: no Redis, Celery or Elasticsearch in the request path.

Two proofs: the products modules import none of those clients, and serving the form and
API requests opens no network connection at all (every socket connect is recorded).
"""

from __future__ import annotations

import ast
import json
import socket
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.processes import ROOT
from web.products.models import ApiToken, Product

FORBIDDEN = ("redis", "celery", "kombu", "elasticsearch", "web.celery", "web.thumbnails",
             "web.search", "indexer", "cdc")
REQUEST_PATH_MODULES = ["api.py", "auth.py", "forms.py", "views.py", "urls.py", "models.py"]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", REQUEST_PATH_MODULES)
def test_request_path_modules_import_no_queue_or_search_client(module):
    imports = imported_modules(ROOT / "web" / "products" / module)
    offending = {m for m in imports for f in FORBIDDEN if m == f or m.startswith(f + ".")}
    assert not offending, f"web/products/{module} imports {offending}"


@pytest.fixture
def connects(monkeypatch) -> list:
    """Every socket connect() made while the test runs (SQLite needs none)."""
    seen: list = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock, address):
        seen.append(address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        seen.append(address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return seen


def test_creating_products_by_api_and_form_opens_no_network_connection(
    catalog_settings, settings, connects
):
    # Should anything still try Redis, point it at a closed port so the request would fail.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    token = ApiToken.objects.create(user=get_user_model().objects.create(username="u"))
    client = Client()
    api = client.post("/api/products", json.dumps({"title": "a", "image_url": "https://x.test/a"}),
                      content_type="application/json", HTTP_AUTHORIZATION=f"Token {token.key}")
    form = client.post("/products/", {"title": "b", "image_url": "https://x.test/b"})
    page = client.get(f"/products/{api.json()['id']}/")
    assert (api.status_code, form.status_code, page.status_code) == (202, 303, 200)
    assert Product.objects.filter(status=Product.Status.PROCESSING).count() == 2
    assert connects == []
