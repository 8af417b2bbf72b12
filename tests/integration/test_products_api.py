"""The JSON API: 202 on create, per-field 400s, 401 without a token, 405, 404, bad bodies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from tests.product_images import png_upload, text_upload
from web.products.models import ApiToken, Product

pytestmark = pytest.mark.django_db

LAMP = {"title": "Lamp", "image_url": "https://img.example/lamp.png", "price": 12.5,
        "category": "lighting"}


@pytest.fixture
def token() -> ApiToken:
    user = get_user_model().objects.create(username="api-client")
    return ApiToken.objects.create(user=user, name="tests")


@pytest.fixture
def auth(token: ApiToken) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def post_json(client, body, auth: dict, path: str = "/api/products"):
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, payload, content_type="application/json", **auth)


def test_post_json_is_accepted_as_processing_with_id_and_elapsed_time(client, auth):
    response = post_json(client, LAMP, auth)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "processing"
    assert body["url"] == f"/api/products/{body['id']}" == response["Location"]
    assert 0 < body["elapsed_ms"] < 10_000
    assert response["Server-Timing"].startswith("app;dur=")
    product = Product.objects.get(pk=body["id"])
    assert (product.title, product.status, str(product.price)) == ("Lamp", 2, "12.50")


def test_post_form_encoded_is_accepted(client, auth):
    response = client.post("/api/products", {"title": "p2", "image_url": "https://x.test/p.png"},
                           **auth)
    assert response.status_code == 202
    assert Product.objects.get(pk=response.json()["id"]).title == "p2"


def test_trailing_slash_is_the_same_endpoint(client, auth):
    assert post_json(client, LAMP, auth, path="/api/products/").status_code == 202


def test_invalid_data_is_400_with_errors_per_field(client, auth):
    response = post_json(client, {"title": "", "image_url": "", "price": -3}, auth)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"title", "image_url", "price"}
    assert errors["title"] == ["This field is required."]
    assert Product.objects.count() == 0


def test_client_cannot_set_status(client, auth):
    response = post_json(client, {**LAMP, "status": 1}, auth)
    assert response.status_code == 400
    assert "status" in response.json()["errors"]
    assert Product.objects.count() == 0


def test_nested_json_values_are_field_errors(client, auth):
    response = post_json(client, {**LAMP, "title": {"en": "Lamp"}}, auth)
    assert response.status_code == 400
    assert "title" in response.json()["errors"]


@pytest.mark.parametrize("body", ['{"title": ', "[1, 2]", b"\xff\xfe"])
def test_malformed_json_is_400_json_not_500(client, auth, body):
    response = post_json(client, body, auth)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_oversized_body_is_413_json(client, auth, settings, content_type):
    body = "title=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post("/api/products", body, content_type=content_type, **auth)
    assert response.status_code == 413
    assert "too large" in response.json()["error"]


def test_missing_token_is_401_json_with_challenge_not_a_redirect(client):
    response = post_json(client, LAMP, {})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert "create_token" in response.json()["detail"]
    assert Product.objects.count() == 0


@pytest.mark.parametrize("header", ["Token wrong-key", "Token", "Bearer abc", "Basic dTpw"])
def test_bad_token_is_401(client, header):
    response = client.get("/api/products/1", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"] in {"invalid or revoked token",
                                        "malformed Authorization header"}


def test_token_of_a_deactivated_user_is_401(client, auth, token):
    token.user.is_active = False
    token.user.save()
    assert post_json(client, LAMP, auth).status_code == 401


@pytest.mark.parametrize("method, path", [("get", "/api/products"), ("delete", "/api/products"),
                                          ("post", "/api/products/1"), ("put", "/api/products/1")])
def test_wrong_method_is_405_json_with_allow(client, auth, method, path):
    response = getattr(client, method)(path, **auth)
    assert response.status_code == 405
    assert response["Allow"] in {"GET", "POST"}
    assert "not allowed" in response.json()["error"]


def test_get_returns_the_product_json(client, auth):
    created = post_json(client, {**LAMP, "description": "warm"}, auth).json()
    response = client.get(created["url"], **auth)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body | {"created_at": None, "updated_at": None} == {
        "id": created["id"], "status": "processing", "title": "Lamp",
        "image_url": LAMP["image_url"], "description": "warm", "category": "lighting",
        "price": "12.50", "thumbnails": {}, "failure_reason": "", "url": created["url"],
        "page": f"/products/{created['id']}/", "created_at": None, "updated_at": None,
    }


def test_get_of_a_missing_product_is_404_json(client, auth):
    response = client.get("/api/products/999999", **auth)
    assert response.status_code == 404
    assert response.json() == {"error": "no product with id 999999"}


def test_multipart_upload_through_the_api_sets_image_url(client, auth, settings, tmp_path: Path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    response = client.post("/api/products", {"title": "Photo", "image": png_upload()}, **auth)
    assert response.status_code == 202, response.content
    product = Product.objects.get(pk=response.json()["id"])
    assert product.image_url.startswith("/media/uploads/")
    assert (tmp_path / "media" / product.image_url.removeprefix("/media/")).is_file()


def test_multipart_non_image_is_a_400_field_error(client, auth):
    response = client.post("/api/products", {"title": "Photo", "image": text_upload()}, **auth)
    assert response.status_code == 400
    assert "image" in response.json()["errors"]


def test_seed_style_post_to_products_with_token_is_accepted_like_the_api(client, auth):
    response = client.post("/products/", {"title": "p2", "image_url": "https://x.test/p.png"},
                           **auth)
    assert response.status_code == 202
    assert response.json()["status"] == "processing"


def test_seed_style_post_to_products_without_token_explains_what_is_needed(client):
    response = Client(enforce_csrf_checks=True).post(
        "/products/", {"title": "p2", "image_url": "https://x.test/p.png"}
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Authorization: Token <key>" in text
    assert "python -m web create_token <username>" in text
    assert Product.objects.count() == 0


def test_create_token_command_creates_the_user_and_prints_a_working_key(client, capsys):
    call_command("create_token", "scripter", "--name", "seed")
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(key=key)
    assert (token.user.username, token.name) == ("scripter", "seed")
    assert not token.user.has_usable_password()
    response = post_json(client, LAMP, {"HTTP_AUTHORIZATION": f"Token {key}"})
    assert response.status_code == 202
