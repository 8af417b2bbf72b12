"""Decode untrusted image bytes with Pillow under limits, and render the thumbnails.

A decompression bomb is refused from its header (pixel count over THUMBNAIL_MAX_PIXELS)
before any pixel is decoded; a file that is not an image, or is cut short, is refused
rather than half-rendered.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from web.thumbnails.errors import PermanentError

FORMAT = "WEBP"
EXTENSION = "webp"
QUALITY = 80


def open_image(data: bytes, *, max_pixels: int, largest_width: int) -> Image.Image:
    """A fully decoded, upright image, or PermanentError saying why the bytes are refused."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with warnings.catch_warnings():
        # Pillow only warns between 1x and 2x the limit; both are refusals here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(data))
            # JPEG: decode at a reduced scale that is still >= the largest thumbnail.
            image.draft("RGB", (largest_width, largest_width))
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PermanentError(f"image too large to decode (over {max_pixels} pixels)") from exc
        except UnidentifiedImageError:
            raise PermanentError("not an image (unrecognised file format)") from None
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise PermanentError(f"corrupt or truncated image: {exc}") from None
    return _upright(image)


def _upright(image: Image.Image) -> Image.Image:
    # A broken EXIF block is no reason to refuse the pixels.
    with contextlib.suppress(Exception):
        image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    return image.convert("RGB") if image.mode != "RGB" else image


def render(image: Image.Image, widths: list[int]) -> Iterator[tuple[int, bytes]]:
    """(width, encoded bytes) per requested width, largest first; never upscales."""
    for width in sorted(set(widths), reverse=True):
        target = min(width, image.width)
        height = max(1, round(image.height * target / image.width))
        thumb = image.resize((target, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        out = io.BytesIO()
        thumb.save(out, FORMAT, quality=QUALITY, method=4)
        yield width, out.getvalue()
