"""Pillow under limits: bombs, non-images and truncated files are refused; output is upright."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.sample_images import TEXT_NAMED_JPG, bomb_png, jpeg, png, truncated_jpeg
from web.thumbnails import imaging, storage
from web.thumbnails.errors import PermanentError


def _open(data: bytes, max_pixels: int = 40_000_000) -> Image.Image:
    return imaging.open_image(data, max_pixels=max_pixels, largest_width=512)


def test_decompression_bomb_is_refused_from_its_header():
    with pytest.raises(PermanentError, match="image too large to decode"):
        _open(bomb_png())


def test_image_just_over_the_pixel_limit_is_refused_not_only_warned_about():
    with pytest.raises(PermanentError, match="over 50000 pixels"):
        _open(png(300, 300), max_pixels=50_000)  # 90k pixels: Pillow would only warn


def test_text_named_jpg_is_not_an_image():
    with pytest.raises(PermanentError, match="not an image"):
        _open(TEXT_NAMED_JPG)


def test_truncated_jpeg_is_refused_rather_than_half_rendered():
    with pytest.raises(PermanentError, match="truncated"):
        _open(truncated_jpeg())


def test_exif_orientation_is_applied_before_resizing():
    image = _open(jpeg(640, 480, orientation=6))  # stored landscape, shown portrait
    assert image.size == (480, 640)


def test_each_width_is_rendered_as_webp_without_upscaling():
    rendered = dict(imaging.render(_open(png(300, 150)), [64, 256, 512]))
    sizes = {w: Image.open(io.BytesIO(b)).size for w, b in rendered.items()}
    formats = {Image.open(io.BytesIO(b)).format for b in rendered.values()}
    assert sizes == {64: (64, 32), 256: (256, 128), 512: (300, 150)}
    assert formats == {"WEBP"}


def test_upload_paths_cannot_escape_the_media_folder(tmp_path):
    (tmp_path / "media" / "uploads").mkdir(parents=True)
    (tmp_path / "secret.jpg").write_bytes(jpeg(10, 10))
    (tmp_path / "media" / "uploads" / "ok.jpg").write_bytes(b"ok")
    read = dict(media_url="/media/", media_root=tmp_path / "media", max_bytes=100)
    assert storage.read_upload("/media/uploads/ok.jpg", **read) == b"ok"
    for url in ("/media/../secret.jpg", "/media/uploads/%2e%2e/%2e%2e/secret.jpg", "/media/"):
        with pytest.raises(PermanentError, match="outside the media folder"):
            storage.read_upload(url, **read)
    with pytest.raises(PermanentError, match="missing"):
        storage.read_upload("/media/uploads/gone.jpg", **read)


def test_thumbnail_names_are_stable_per_product_image_and_width():
    a = storage.relative_name(7, "http://x.test/a.jpg", 256)
    assert a == storage.relative_name(7, "http://x.test/a.jpg", 256)
    assert a.startswith("thumbs/7/") and a.endswith("-256.webp")
    assert a != storage.relative_name(7, "http://x.test/b.jpg", 256)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "thumbs" / "1" / "x-64.webp"
    storage.write_atomically(target, b"one")
    storage.write_atomically(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["x-64.webp"]
