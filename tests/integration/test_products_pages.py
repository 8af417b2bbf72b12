"""The HTML pages: list (newest first, paginated), the CSRF-protected add form, detail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.product_images import png_bytes, png_upload, text_upload
from web.products.models import Product
from web.products.views import PAGE_SIZE

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_client() -> Client:
    """A client that, like a browser, must present the CSRF token the page gave it."""
    return Client(enforce_csrf_checks=True)


def csrf_token(client: Client) -> str:
    page = client.get("/products/")
    assert page.status_code == 200
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]


def make(n: int, **fields) -> list[Product]:
    return [Product.objects.create(title=f"item {i}", image_url=f"https://x.test/{i}.png",
                                   **fields) for i in range(n)]


def test_list_shows_newest_first_and_paginates(client):
    make(PAGE_SIZE + 3)
    first = client.get("/products/").content.decode()
    assert first.index(f"item {PAGE_SIZE + 2}") < first.index(f"item {PAGE_SIZE + 1}")
    assert "item 0<" not in first
    assert "page 1 of 2" in first
    second = client.get("/products/?page=2").content.decode()
    assert "item 0<" in second and f"item {PAGE_SIZE + 2}<" not in second


def test_list_shows_status_category_price_and_the_64px_thumbnail(client):
    Product.objects.create(title="Lamp", image_url="https://x.test/l.png", category="lighting",
                           price="9.99", status=Product.Status.ACTIVE,
                           thumbnails={"64": "/media/thumbs/1-64.webp",
                                       "256": "/media/thumbs/1-256.webp"})
    html = client.get("/products/").content.decode()
    assert 'data-status="active"' in html
    assert "lighting" in html and "9.99" in html
    assert '<img src="/media/thumbs/1-64.webp" width="64"' in html
    assert "1-256.webp" not in html
    # The product's own image URL may be any host: the page never makes the browser fetch it.
    assert 'src="https://x.test' not in html


def test_form_post_without_csrf_token_is_refused(browser_client):
    response = browser_client.post("/products/", {"title": "p", "image_url": "https://x.test/p"})
    assert response.status_code == 403
    assert Product.objects.count() == 0


def test_form_post_with_csrf_token_redirects_and_lists_the_product_as_processing(browser_client):
    token = csrf_token(browser_client)
    response = browser_client.post(
        "/products/", {"csrfmiddlewaretoken": token, "title": "Desk lamp",
                       "image_url": "https://x.test/desk.png", "price": "20"},
        follow=True,
    )
    assert response.redirect_chain[0][1] == 303
    product = Product.objects.get()
    assert product.status == Product.Status.PROCESSING
    html = response.content.decode()
    assert f'id="product-{product.pk}" class="just-added"' in html
    assert "Added “Desk lamp”" in html
    assert 'data-status="processing"' in html


def test_invalid_form_is_400_with_field_errors_shown(browser_client):
    token = csrf_token(browser_client)
    response = browser_client.post(
        "/products/", {"csrfmiddlewaretoken": token, "title": "", "image_url": "", "price": "-1"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="errorlist') >= 3
    assert "Give an image URL or upload an image file." in html
    assert Product.objects.count() == 0


def test_form_upload_stores_the_png_under_media(browser_client, settings, tmp_path: Path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    token = csrf_token(browser_client)
    response = browser_client.post(
        "/products/", {"csrfmiddlewaretoken": token, "title": "Photo", "image": png_upload()}
    )
    assert response.status_code == 303
    product = Product.objects.get()
    stored = tmp_path / "media" / product.image_url.removeprefix(settings.MEDIA_URL)
    assert stored.read_bytes() == png_bytes()


def test_form_upload_of_a_non_image_shows_a_field_error(browser_client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    token = csrf_token(browser_client)
    response = browser_client.post(
        "/products/", {"csrfmiddlewaretoken": token, "title": "Photo", "image": text_upload()}
    )
    assert response.status_code == 400
    assert "Upload a valid image" in response.content.decode()
    assert not (tmp_path / "media" / "uploads").exists()


def test_detail_page_shows_all_fields_and_thumbnails_at_each_size(client):
    product = Product.objects.create(
        title="Chair", image_url="https://x.test/c.png", description="Oak.", category="seating",
        price="45.00", status=Product.Status.ACTIVE,
        thumbnails={"512": "/media/t/c-512.webp", "64": "/media/t/c-64.webp"},
    )
    html = client.get(f"/products/{product.pk}/").content.decode()
    for text in ("Chair", "Oak.", "seating", "45.00", "https://x.test/c.png", "active"):
        assert text in html
    assert html.index('src="/media/t/c-64.webp" width="64"') < html.index(
        'src="/media/t/c-512.webp" width="512"')


def test_detail_page_shows_why_an_inactive_product_failed(client):
    product = Product.objects.create(title="Broken", image_url="https://x.test/b.png",
                                     status=Product.Status.INACTIVE,
                                     failure_reason="image fetch failed: 404")
    html = client.get(f"/products/{product.pk}/").content.decode()
    assert 'role="alert">Inactive: image fetch failed: 404' in html


def test_detail_of_a_missing_product_is_404(client):
    assert client.get("/products/987654/").status_code == 404


def test_admin_lists_products_for_staff(admin_client):
    make(2, category="lighting")
    response = admin_client.get("/admin/products/product/?q=item&status__exact=2")
    assert response.status_code == 200
    assert "item 1" in response.content.decode()
    assert admin_client.get("/admin/products/apitoken/add/").status_code == 200


def test_oversized_form_post_is_a_client_error_not_500(browser_client, settings):
    token = csrf_token(browser_client)
    body = {"csrfmiddlewaretoken": token, "title": "t", "image_url": "https://x.test/p",
            "description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = browser_client.post("/products/", body)
    assert response.status_code == 400
    assert Product.objects.count() == 0


def test_navigation_marks_the_products_section_current(client):
    html = client.get("/products/").content.decode()
    assert '<a href="/products/" aria-current="page">Products</a>' in html
    assert '<a href="/search/">Search</a>' in html
