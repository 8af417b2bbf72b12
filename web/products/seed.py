"""Seed data: realistic products for demos and benchmarks, a million in minutes.

Rows go in through plain SQL `executemany` in large IMMEDIATE transactions, so the CDC
triggers still fire and every row gets its changelog entry (invariant 1): seeding is a
write like any other. Image URLs are uploads under MEDIA_URL (`/media/seed/<category>/
<colour>.jpg`), real files drawn once into MEDIA_ROOT by web/products/seed_images.py, so the
thumbnail worker renders them and the products become active; nothing is fetched from afar.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared import sqlite
from web.products import seed_images

TABLE = "products_product"
COLUMNS = (
    "status", "title", "image_url", "description", "category", "price", "thumbnails",
    "failure_reason", "thumbnail_attempts", "created_at", "updated_at",
)
BATCH = 50_000

ADJECTIVES = (
    "Red", "Blue", "Green", "Vintage", "Classic", "Rustic", "Modern", "Compact", "Deluxe",
    "Organic", "Handmade", "Sturdy", "Soft", "Bright", "Matte", "Glossy", "Slim", "Cozy",
    "Crème", "Café", "Naïve", "Jalapeño", "Smörgås", "Größe", "Tōkyō", "Ærø", "Ñandú",
    "Piñata", "Blåbær", "Čokoláda", "Zürich", "Fjällräven", "Œuvre", "Ελληνικό", "Русский",
    "日本の", "한국", "Ünlü", "Señorita", "Déjà-vu",
)
MATERIALS = (
    "Wool", "Cotton", "Linen", "Oak", "Walnut", "Steel", "Copper", "Bamboo", "Leather",
    "Ceramic", "Glass", "Marble", "Cashmere", "Silk", "Denim", "Porcelain", "Granite",
)
NOUNS = {
    "apparel": ("Sweater", "Scarf", "Jacket", "Hoodie", "Beanie", "Socks", "Gloves", "Shirt"),
    "home": ("Mug", "Lamp", "Vase", "Blanket", "Cushion", "Teapot", "Bowl", "Candle"),
    "kitchen": ("Knife", "Skillet", "Cutting Board", "Kettle", "Whisk", "Grater", "Ladle"),
    "outdoor": ("Tent", "Backpack", "Lantern", "Hammock", "Compass", "Thermos", "Tarp"),
    "office": ("Notebook", "Pen", "Desk Organizer", "Stapler", "Planner", "Bookend"),
    "toys": ("Puzzle", "Kite", "Yo-yo", "Robot", "Teddy Bear", "Spinning Top", "Blocks"),
    "music": ("Ukulele", "Harmonica", "Metronome", "Tambourine", "Capo", "Kalimba"),
    "garden": ("Trowel", "Watering Can", "Planter", "Pruner", "Bird Feeder", "Hose"),
}
CATEGORIES = tuple(NOUNS)
SENTENCES = (
    "Made to last and easy to care for.", "A favourite for everyday use.",
    "Designed in small batches.", "Pairs well with the rest of the collection.",
    "Gift-ready packaging included.", "Ships within two days.",
    "Fait à la main avec soin.", "Hergestellt aus nachhaltigen Materialien.",
    "Diseñado para durar.", "丁寧に作られました。",
)
STATUSES = {"active": 1, "processing": 2, "inactive": 0}


@dataclass
class SeedResult:
    count: int
    first_id: int | None
    last_id: int | None
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def product_rows(count: int, rng: random.Random, status: int, *,
                 media_url: str = "/media/") -> Iterator[tuple]:
    """`count` rows in COLUMNS order: titles like "Vintage Wool Sweater", prices, dates."""
    now = datetime.now(UTC)
    colours = tuple(seed_images.COLOURS)
    # A processing row is one just added, its thumbnails still to come: dated now, so the
    # dashboard's activation times are the pipeline's and the stuck sweep leaves it alone.
    # Settled rows (benchmarks) spread over the past year.
    spread = 1 if status == STATUSES["processing"] else 365 * 86400
    for n in range(count):
        category = rng.choice(CATEGORIES)
        noun = rng.choice(NOUNS[category])
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {noun}"
        if rng.random() < 0.3:
            title += f" {rng.choice(('Mini', 'XL', 'Pro', 'Set of 2', 'No. ' + str(n % 97)))}"
        created = now - timedelta(seconds=rng.randrange(spread))
        stamp = created.strftime("%Y-%m-%d %H:%M:%S.%f")
        yield (
            status,
            title[:100],
            seed_images.image_url(media_url, category, rng.choice(colours)),
            " ".join(rng.sample(SENTENCES, 2)),
            category,
            f"{rng.randrange(199, 49999) / 100:.2f}",
            "{}",
            "",
            0,
            stamp,
            stamp,
        )


def seed(
    conn: sqlite3.Connection, count: int, *, status: int = 1, random_seed: int | None = None,
    batch: int = BATCH, progress: Callable[[int], None] | None = None,
    media_root: Path | None = None, media_url: str = "/media/",
) -> SeedResult:
    """Insert `count` products in transactions of `batch` rows; the triggers record each.

    With `media_root`, the images the rows name are drawn there first (if missing), so the
    thumbnail worker finds them; benchmarks that never render thumbnails leave it out.
    """
    if media_root is not None:
        seed_images.ensure(media_root, CATEGORIES)
    rng = random.Random(random_seed)
    rows = product_rows(count, rng, status, media_url=media_url)
    sql = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.monotonic()
    first = last = None
    done = 0
    while done < count:
        size = min(batch, count - done)
        with sqlite.write(conn):
            conn.executemany(sql, (next(rows) for _ in range(size)))
            last = conn.execute("SELECT max(id) FROM " + TABLE).fetchone()[0]
        first = first if first is not None else last - size + 1
        done += size
        if progress:
            progress(size)
    return SeedResult(count, first, last, time.monotonic() - started)
