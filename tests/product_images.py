"""Real image files for upload tests, drawn with Pillow (no fixtures on disk)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png_bytes(size: tuple[int, int] = (32, 24), color: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "photo.png", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(**kwargs), content_type="image/png")


def text_upload(name: str = "notes.png") -> SimpleUploadedFile:
    """A text file dressed as a PNG: only decoding it can tell."""
    return SimpleUploadedFile(name, b"this is not an image\n" * 10, content_type="image/png")
