"""ProductForm: what a client may send, what is refused, and where uploads go."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from PIL import Image

from tests.product_images import png_bytes, png_upload, text_upload
from web.products.forms import ProductForm
from web.products.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def valid(**overrides) -> dict:
    return {"title": "Lamp", "image_url": "https://img.example/lamp.png", "price": "12.50",
            "category": "lighting", "description": "A lamp.", **overrides}


def test_valid_form_creates_a_processing_product():
    form = ProductForm(valid())
    assert form.is_valid(), form.errors
    product = form.save()
    assert product.pk is not None
    assert product.status == Product.Status.PROCESSING
    assert (product.title, product.price, product.category) == ("Lamp", Decimal("12.50"),
                                                                "lighting")


def test_status_sent_by_a_client_is_ignored_new_products_are_processing():
    form = ProductForm(valid(status="1"))
    assert form.is_valid()
    assert "status" not in form.fields
    assert form.save().status == Product.Status.PROCESSING


@pytest.mark.parametrize("title", ["", "   "])
def test_blank_title_is_a_field_error(title):
    form = ProductForm(valid(title=title))
    assert not form.is_valid()
    assert "title" in form.errors


def test_title_over_100_characters_is_a_field_error():
    form = ProductForm(valid(title="x" * 101))
    assert not form.is_valid()
    assert "at most 100" in form.errors["title"][0]


def test_image_url_over_255_characters_is_a_field_error():
    form = ProductForm(valid(image_url="https://img.example/" + "a" * 240))
    assert not form.is_valid()
    assert "at most 255" in form.errors["image_url"][0]


def test_missing_image_url_without_upload_says_what_to_give():
    form = ProductForm(valid(image_url=""))
    assert not form.is_valid()
    assert form.errors["image_url"] == ["Give an image URL or upload an image file."]


def test_image_url_must_be_http_or_a_media_path():
    assert not ProductForm(valid(image_url="ftp://host/x.png")).is_valid()
    assert not ProductForm(valid(image_url="javascript:alert(1)")).is_valid()
    assert ProductForm(valid(image_url="/media/uploads/x.png")).is_valid()


def test_negative_price_is_a_field_error():
    form = ProductForm(valid(price="-0.01"))
    assert not form.is_valid()
    assert "greater than or equal to 0" in form.errors["price"][0]


def test_price_is_optional():
    form = ProductForm(valid(price=""))
    assert form.is_valid()
    assert form.save().price is None


def test_uploaded_png_is_stored_under_media_and_becomes_the_image_url(media: Path):
    form = ProductForm(valid(image_url=""), {"image": png_upload()})
    assert form.is_valid(), form.errors
    product = form.save()
    assert product.image_url.startswith("/media/uploads/") and product.image_url.endswith(".png")
    stored = media / product.image_url.removeprefix("/media/")
    assert stored.read_bytes() == png_bytes()


def test_upload_replaces_a_given_image_url(media: Path):
    form = ProductForm(valid(), {"image": png_upload()})
    assert form.is_valid()
    assert form.save().image_url.startswith("/media/uploads/")


def test_non_image_upload_is_a_field_error_and_nothing_is_stored(media: Path):
    form = ProductForm(valid(image_url=""), {"image": text_upload()})
    assert not form.is_valid()
    assert "image" in form.errors
    assert "valid image" in form.errors["image"][0]
    assert not (media / "uploads").exists()


def test_upload_over_the_size_limit_is_a_field_error(media: Path, settings):
    settings.UPLOAD_MAX_BYTES = 100
    form = ProductForm(valid(image_url=""), {"image": png_upload(size=(200, 200))})
    assert not form.is_valid()
    assert "limit is 100 bytes" in form.errors["image"][0]


def test_unsupported_image_format_is_refused(media: Path):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="BMP")
    form = ProductForm(valid(), {"image": SimpleUploadedFile("x.bmp", buffer.getvalue())})
    assert not form.is_valid()
    assert "Unsupported image format BMP" in form.errors["image"][0]


def test_database_refuses_blank_title_and_image_url_and_unknown_status():
    for fields in ({"title": ""}, {"image_url": ""}, {"status": 7}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Product.objects.create(**{"title": "t", "image_url": "https://x/y.png", **fields})


def test_model_defaults_to_processing():
    product = Product.objects.create(title="t", image_url="https://x/y.png")
    product.refresh_from_db()
    assert product.status == Product.Status.PROCESSING
    assert product.thumbnails == {}
