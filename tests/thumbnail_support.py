"""The thumbnail pipeline as real processes for tests: CDC tailer, dispatcher, Celery worker.

Workers and dispatchers run behind tests.network_guard: any connect to a non-loopback
address is refused and logged to `guard_log` (so "no fetch to a forbidden address" is an
assertion), and `images.loopback.test` resolves to 127.0.0.1 (the one allow-listed host:
127.0.0.1 itself is NOT on the allow-list) while `images.internal.test` resolves to a
private address, without any real DNS.

Its fixtures (thumbnail_settings, pipeline, image_server) live in tests/thumbnail_fixtures.py:
a test module loads them with pytest_plugins = ["tests.thumbnail_fixtures"].
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from tests.image_server import ImageServer
from tests.network_guard import catalog_argv, worker_argv
from web.products.models import Product

LOOPBACK_NAME = "images.loopback.test"
PRIVATE_NAME = "images.internal.test"
PRIVATE_IP = "10.20.30.40"

SETTLED = (Product.Status.ACTIVE, Product.Status.INACTIVE)


class Pipeline:
    def __init__(self, daemons, settings, tmp_path: Path):
        self.daemons = daemons
        self.settings = settings
        self.guard_log = tmp_path / "network-guard.log"
        self.queue = f"{settings.catalog_namespace}-thumbnails"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "NETWORK_GUARD_LOG": str(self.guard_log),
            "NETWORK_GUARD_HOSTS": f"{LOOPBACK_NAME}=127.0.0.1,{PRIVATE_NAME}={PRIVATE_IP}",
            **extra,
        }

    def tailer(self):
        return self.daemons.catalog("cdc", "run")

    def dispatcher(self, **extra: str):
        return self.daemons.spawn(catalog_argv("thumbnails", "run"), "dispatcher",
                                  **self.env(**extra))

    def worker(self, pool: str = "solo", **extra: str):
        return self.daemons.spawn(worker_argv(self.queue, pool), f"worker-{pool}",
                                  **self.env(**extra))

    def start(self, pool: str = "solo"):
        return self.tailer(), self.dispatcher(), self.worker(pool)

    def forbidden_connects(self) -> str:
        return self.guard_log.read_text() if self.guard_log.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {d.log_path.name}\n{d.output()[-3000:]}"
                         for d in self.daemons.started)


def loopback_url(server: ImageServer, path: str) -> str:
    return server.url(path, host=LOOPBACK_NAME)


def settled(ids) -> dict[int, Product] | None:
    """{id: product} once every product is active or inactive, else None."""
    products = {p.pk: p for p in Product.objects.filter(pk__in=list(ids))}
    if len(products) == len(ids) and all(p.status in SETTLED for p in products.values()):
        return products
    return None


def decoded_thumbnails(product: Product, media_root: Path, media_url: str) -> dict[str, tuple]:
    """{width: (w, h)} of each recorded thumbnail file, fully decoded (fails if corrupt)."""
    sizes = {}
    for width, url in product.thumbnails.items():
        path = media_root / url[len(media_url):]
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            image.load()
            sizes[width] = image.size
    return sizes
