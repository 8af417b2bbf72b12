"""Where images come from and where thumbnails go, under MEDIA_ROOT.

Thumbnail names are stable (product id, hash of the image URL, width), so a job that runs
twice writes the same files; each file is written to a temporary name and renamed into
place, so a worker killed mid-write never leaves a partial thumbnail behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import unquote

from web.thumbnails.errors import PermanentError
from web.thumbnails.imaging import EXTENSION

THUMBS_DIR = "thumbs"


def is_upload(image_url: str, media_url: str) -> bool:
    return bool(media_url) and image_url.startswith(media_url)


def read_upload(image_url: str, *, media_url: str, media_root: Path, max_bytes: int) -> bytes:
    """The bytes of an uploaded file named by its MEDIA_URL; never a file outside MEDIA_ROOT."""
    root = media_root.resolve()
    relative = unquote(image_url[len(media_url):].split("?", 1)[0])
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or path == root:
        raise PermanentError("uploaded image path points outside the media folder")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise PermanentError(f"image too large: {size} bytes (limit {max_bytes})")
        return path.read_bytes()
    except FileNotFoundError:
        raise PermanentError("uploaded image file is missing") from None
    except IsADirectoryError:
        raise PermanentError("uploaded image path is a folder") from None


def relative_name(product_id: int, image_url: str, width: int) -> str:
    digest = hashlib.sha256(image_url.encode("utf-8")).hexdigest()[:16]
    return f"{THUMBS_DIR}/{product_id}/{digest}-{width}.{EXTENSION}"


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store(
    product_id: int, image_url: str, rendered, *, media_root: Path, media_url: str
) -> dict[str, str]:
    """Write each (width, bytes); return {width: url} as recorded on the product."""
    urls = {}
    for width, data in rendered:
        name = relative_name(product_id, image_url, width)
        write_atomically(media_root / name, data)
        urls[str(width)] = media_url + name
    return dict(sorted(urls.items(), key=lambda kv: int(kv[0])))


def expected_urls(product_id: int, image_url: str, widths: list[int], media_url: str) -> dict:
    return {str(w): media_url + relative_name(product_id, image_url, w) for w in sorted(widths)}


def remove(urls: dict[str, str], *, media_root: Path, media_url: str) -> None:
    for url in urls.values():
        (media_root / url[len(media_url):]).unlink(missing_ok=True)
