"""Images for thumbnail tests, made with Pillow (and by hand for the hostile ones)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def jpeg(width: int = 640, height: int = 480, *, orientation: int | None = None,
         color=(200, 40, 40)) -> bytes:
    """A JPEG with a gradient; `orientation` sets the EXIF Orientation tag."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste(Image.new("RGB", (width // 4, height // 4), color), (0, 0))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


def png(width: int = 320, height: int = 200, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (10, 120, 200, 128)[: len(mode)]).save(out, "PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A few hundred bytes that declare 2.5 gigapixels of zeros (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" * (1 + width // 8)
    idat = zlib.compress(row * 64, 9)  # the first rows; the header alone is the bomb
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(
        b"IEND", b""
    )


def truncated_jpeg() -> bytes:
    data = jpeg(800, 600)
    return data[: len(data) // 2]


TEXT_NAMED_JPG = b"This is a plain text file that someone named photo.jpg.\n" * 20
