"""Hostile images and URLs through the real pipeline: each product ends inactive with the
reason on its row, and no process ever connected to a forbidden address.

The workers run behind tests.network_guard: a connect to anything but loopback is refused
and logged, so `forbidden_connects() == ""` proves the guard refused before connecting.
The allow-list holds only `images.loopback.test` (→ 127.0.0.1); 127.0.0.1 itself is not
on it, as in production, where the list is empty.
"""

from __future__ import annotations

import pytest

from tests.image_server import Route
from tests.sample_images import TEXT_NAMED_JPG, bomb_png, jpeg, truncated_jpeg
from tests.thumbnail_support import (
    PRIVATE_IP,
    PRIVATE_NAME,
    loopback_url,
    settled,
)
from tests.waiting import wait_until
from web.products.models import Product

pytest_plugins = ["tests.cdc_fixtures", "tests.thumbnail_fixtures"]
pytestmark = pytest.mark.usefixtures("clean_changelog")


def test_hostile_urls_and_images_each_end_inactive_with_their_reason(
    pipeline, image_server, thumbnail_settings
):
    s = image_server
    s.add("/direct.jpg", Route(body=jpeg(50, 50)))
    s.add("/to-metadata", Route(status=302, location="http://169.254.169.254/latest/meta-data"))
    s.add("/to-private", Route(status=302, location=f"http://{PRIVATE_NAME}/x.jpg"))
    s.add("/huge.jpg", Route(stream_bytes=50 * 1024 * 1024))
    s.add("/huge-declared.jpg", Route(body=b"x", declared_length=50 * 1024 * 1024))
    s.add("/bomb.png", Route(body=bomb_png(), content_type="image/png"))
    s.add("/notes.jpg", Route(body=TEXT_NAMED_JPG))
    s.add("/cut.jpg", Route(body=truncated_jpeg()))
    s.add("/hang.jpg", Route(hang=True))
    upload = thumbnail_settings.media / "uploads" / "text.jpg"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(TEXT_NAMED_JPG)

    cases = {
        s.url("/direct.jpg"): "blocked address: 127.0.0.1 resolves to loopback address",
        f"http://{PRIVATE_NAME}:{s.port}/cat.jpg":
            f"blocked address: {PRIVATE_NAME} resolves to private address {PRIVATE_IP}",
        "http://10.0.0.1/literal.jpg": "blocked address: 10.0.0.1 resolves to private address",
        loopback_url(s, "/to-metadata"): "link-local address 169.254.169.254",
        loopback_url(s, "/to-private"): f"private address {PRIVATE_IP}",
        loopback_url(s, "/huge.jpg"): "image too large: over 10485760 bytes",
        loopback_url(s, "/huge-declared.jpg"): "image too large: 52428800 bytes",
        loopback_url(s, "/bomb.png"): "image too large to decode",
        loopback_url(s, "/notes.jpg"): "not an image",
        "/media/uploads/text.jpg": "not an image",
        "/media/../../etc/passwd": "outside the media folder",
        loopback_url(s, "/cut.jpg"): "corrupt or truncated image",
        loopback_url(s, "/missing.jpg"): "HTTP 404",
        loopback_url(s, "/hang.jpg"): "gave up after 3 attempts: timed out",
        "ftp://files.example.test/a.jpg": "unsupported URL scheme 'ftp'",
    }
    ids = {Product.objects.create(title=f"hostile {n}", image_url=url).pk: url
           for n, url in enumerate(cases)}
    pipeline.start()

    products = wait_until(lambda: settled(ids), timeout=120, message=pipeline.logs())
    outcome = {ids[pk]: (p.get_status_display(), p.failure_reason, p.thumbnails)
               for pk, p in products.items()}
    for url, reason in cases.items():
        status, failure_reason, thumbnails = outcome[url]
        assert (status, thumbnails) == ("inactive", {}), url
        assert reason in failure_reason, (url, failure_reason)
    assert pipeline.forbidden_connects() == ""
    assert "/direct.jpg" not in s.paths_requested()
    assert s.paths_requested().count("/hang.jpg") == 3  # retried with backoff, then gave up
    assert not list((thumbnail_settings.media / "thumbs").glob("**/*.webp"))
