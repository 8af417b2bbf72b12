"""The one form behind both ways of adding a product: the HTML page and the JSON API.

An uploaded image is checked (Pillow decodes it, size is bounded) and stored under
MEDIA as uploads/<uuid>.<ext>; its MEDIA_URL path becomes `image_url`. `status` is not
a field: a new product is always `processing` until the thumbnail pipeline decides.
"""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.validators import URLValidator
from django.db import transaction

from web.products.models import Product

# Pillow format name -> file extension of the stored upload; anything else is refused.
IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
UPLOAD_DIR = "uploads"
_http_url = URLValidator(schemes=["http", "https"])


def upload_storage() -> FileSystemStorage:
    """MEDIA storage built per call, so tests that move MEDIA_ROOT are honoured."""
    return FileSystemStorage(location=settings.MEDIA_ROOT, base_url=settings.MEDIA_URL)


class ProductForm(forms.ModelForm):
    image = forms.ImageField(
        required=False,
        help_text="JPEG, PNG, GIF or WebP; replaces the image URL.",
    )
    price = forms.DecimalField(min_value=0, max_digits=10, decimal_places=2, required=False)

    class Meta:
        model = Product
        fields = ["title", "image_url", "image", "description", "category", "price"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        labels = {"image_url": "Image URL"}
        help_texts = {"image_url": "http(s) URL of the picture, or upload a file below."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Blank is allowed here only because an upload can supply it; clean() decides.
        self.fields["image_url"].required = False
        self.fields["title"].strip = True

    def clean_image_url(self) -> str:
        url = (self.cleaned_data.get("image_url") or "").strip()
        if url and not url.startswith(settings.MEDIA_URL):
            _http_url(url)
        return url

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if not image:
            return image
        limit = settings.UPLOAD_MAX_BYTES
        if image.size > limit:
            raise forms.ValidationError(
                f"The image is {image.size} bytes; the limit is {limit} bytes.", code="too_large"
            )
        # forms.ImageField already ran Pillow's verify(); it leaves the decoded header here.
        fmt = getattr(image, "image", None) and image.image.format
        if fmt not in IMAGE_EXTENSIONS:
            raise forms.ValidationError(
                f"Unsupported image format {fmt or 'unknown'}: use JPEG, PNG, GIF or WebP.",
                code="invalid_image",
            )
        return image

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("image_url") and not data.get("image") and "image" not in self.errors:
            self.add_error("image_url", "Give an image URL or upload an image file.")
        return data

    def save(self, commit: bool = True) -> Product:
        """Insert the product as processing; an upload is stored first and removed if the
        insert fails, so no orphan file outlives a rolled-back row."""
        product: Product = super().save(commit=False)
        product.status = Product.Status.PROCESSING
        image = self.cleaned_data.get("image")
        stored = None
        if image:
            storage = upload_storage()
            ext = IMAGE_EXTENSIONS[image.image.format]
            stored = storage.save(f"{UPLOAD_DIR}/{uuid.uuid4().hex}.{ext}", image)
            product.image_url = storage.url(stored)
        if not commit:
            return product
        try:
            with transaction.atomic():
                product.save()
        except BaseException:
            if stored:
                upload_storage().delete(stored)
            raise
        return product
