"""The seed's pictures: one small real image per category and colour, under MEDIA_ROOT/seed/.

Seeded products point at these files as uploads (`<MEDIA_URL>seed/...`), so the thumbnail
worker reads them from disk like any uploaded image and the demo catalogue becomes active.
A handful of files serves any number of rows: they are drawn once and reused, and a
million-row seed costs no more than before. Each file is written to a temporary name and
renamed, so two seeds running at once never see half an image.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from web.thumbnails.storage import write_atomically

FOLDER = "seed"
SIZE = (640, 480)  # wider than the largest default thumbnail, small on disk
COLOURS = {
    "red": (200, 40, 50), "blue": (40, 90, 200), "green": (40, 150, 70),
    "amber": (230, 160, 30), "slate": (90, 100, 120),
}


def relative_name(category: str, colour: str) -> str:
    return f"{FOLDER}/{category}/{colour}.jpg"


def image_url(media_url: str, category: str, colour: str) -> str:
    """The URL a seeded product records: an upload under MEDIA_URL, read from MEDIA_ROOT."""
    return media_url + relative_name(category, colour)


def ensure(media_root: Path, categories: tuple[str, ...]) -> int:
    """Draw every category and colour image that is not on disk yet; returns how many."""
    drawn = 0
    for category in categories:
        for colour in COLOURS:
            path = media_root / relative_name(category, colour)
            if not path.is_file():
                write_atomically(path, picture(category, colour))
                drawn += 1
    return drawn


def picture(category: str, colour: str) -> bytes:
    """A JPEG: a gradient in the colour, a shape and the category's name, so they differ."""
    rgb = COLOURS[colour]
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    width, height = SIZE
    for y in range(height):
        shade = 0.55 + 0.45 * y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(c * shade) for c in rgb))
    sides = 3 + sorted(COLOURS).index(colour)
    draw.regular_polygon((width // 2, height // 2, height // 4), sides, fill=(245, 245, 240))
    draw.text((24, 24), category.upper(), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
