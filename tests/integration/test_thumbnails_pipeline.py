"""Invariant 5 end to end: a committed product → CDC tailer → dispatcher → Celery worker →
thumbnails on disk and status active, with nothing enqueued by the request itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.image_server import Route
from tests.sample_images import jpeg, png
from tests.thumbnail_support import (
    decoded_thumbnails,
    loopback_url,
    settled,
)
from tests.waiting import wait_until
from web.products.models import Product
from web.thumbnails.storage import expected_urls

pytest_plugins = ["tests.cdc_fixtures", "tests.thumbnail_fixtures"]
pytestmark = pytest.mark.usefixtures("clean_changelog")


def _celery_queue_length(redis_client, pipeline) -> int:
    # kombu's Redis transport: the queue is a list under the namespace's global_keyprefix.
    return redis_client.llen(f"{pipeline.settings.catalog_namespace}:celery:{pipeline.queue}")


def test_added_product_ends_active_with_upright_thumbnails_on_disk(pipeline, image_server):
    image_server.add("/sofa.jpg", Route(body=jpeg(1200, 900, orientation=6)))
    url = loopback_url(image_server, "/sofa.jpg")
    pipeline.start()
    product = Product.objects.create(title="Sofa", image_url=url)

    done = wait_until(lambda: settled([product.pk]), timeout=60, message=pipeline.logs())
    product = done[product.pk]
    assert product.status == Product.Status.ACTIVE, product.failure_reason
    assert product.failure_reason == ""
    sizes = decoded_thumbnails(product, pipeline.settings.media, pipeline.settings.media_url)
    # EXIF orientation 6: the 1200x900 landscape pixels are shown as a 900x1200 portrait.
    assert sizes == {"64": (64, 85), "256": (256, 341), "512": (512, 683)}
    assert all(re.fullmatch(rf"/media/thumbs/{product.pk}/[0-9a-f]{{16}}-\d+\.webp", u)
               for u in product.thumbnails.values())
    assert image_server.paths_requested() == ["/sofa.jpg"]
    assert pipeline.forbidden_connects() == ""


def test_form_upload_ends_active_and_the_request_enqueues_nothing(
    pipeline, redis_client, settings
):
    client = Client()
    page = client.get("/products/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    upload = SimpleUploadedFile("chair.png", png(700, 350, "RGB"), content_type="image/png")
    response = client.post("/products/", {"csrfmiddlewaretoken": token, "title": "Chair",
                                          "image": upload})
    assert response.status_code in (302, 303), response.content[:500]
    product = Product.objects.get(title="Chair")
    assert product.image_url.startswith("/media/uploads/")
    # The request only wrote SQLite: no job exists until the pipeline reads the commit.
    assert _celery_queue_length(redis_client, pipeline) == 0
    assert not redis_client.keys(f"{pipeline.settings.catalog_namespace}:celery:*")

    pipeline.start()
    product = wait_until(lambda: settled([product.pk]), timeout=60,
                         message=pipeline.logs())[product.pk]
    assert product.status == Product.Status.ACTIVE, product.failure_reason
    sizes = decoded_thumbnails(product, Path(settings.MEDIA_ROOT), pipeline.settings.media_url)
    assert sizes == {"64": (64, 32), "256": (256, 128), "512": (512, 256)}


def test_changed_image_gets_new_thumbnails_and_old_urls_are_replaced(pipeline, image_server):
    image_server.add("/a.jpg", Route(body=jpeg(400, 400)))
    image_server.add("/b.png", Route(body=png(800, 200), content_type="image/png"))
    pipeline.start()
    product = Product.objects.create(title="Lamp", image_url=loopback_url(image_server, "/a.jpg"))
    first = wait_until(lambda: settled([product.pk]), timeout=60,
                       message=pipeline.logs())[product.pk]
    assert first.status == Product.Status.ACTIVE

    Product.objects.filter(pk=product.pk).update(
        image_url=loopback_url(image_server, "/b.png"), status=Product.Status.PROCESSING)

    def regenerated():
        p = Product.objects.get(pk=product.pk)
        return p if p.status == Product.Status.ACTIVE and p.thumbnails != first.thumbnails else None

    second = wait_until(regenerated, timeout=60, message=pipeline.logs())
    sizes = decoded_thumbnails(second, pipeline.settings.media, pipeline.settings.media_url)
    assert sizes == {"64": (64, 16), "256": (256, 64), "512": (512, 128)}
    assert image_server.paths_requested() == ["/a.jpg", "/b.png"]


def test_edits_that_keep_the_image_dispatch_no_new_job(pipeline, image_server):
    image_server.add("/a.jpg", Route(body=jpeg(300, 300)))
    pipeline.start()
    product = Product.objects.create(title="Rug", image_url=loopback_url(image_server, "/a.jpg"))
    wait_until(lambda: settled([product.pk]), timeout=60, message=pipeline.logs())
    Product.objects.filter(pk=product.pk).update(title="Red rug", description="wool")
    marker = Product.objects.create(title="Marker", image_url=loopback_url(image_server, "/a.jpg"))
    wait_until(lambda: settled([marker.pk]), timeout=60, message=pipeline.logs())
    # One fetch per job: the product's own insert and the marker's insert, not the title edit.
    assert image_server.paths_requested() == ["/a.jpg", "/a.jpg"]


def test_image_replaced_while_its_job_runs_ends_with_the_new_images_thumbnails(
    pipeline, image_server
):
    image_server.add("/slow.jpg", Route(body=jpeg(500, 500), delay=1.5))
    image_server.add("/fast.png", Route(body=png(600, 300), content_type="image/png"))
    pipeline.start()
    slow_url = loopback_url(image_server, "/slow.jpg")
    product = Product.objects.create(title="Vase", image_url=slow_url)
    wait_until(lambda: "/slow.jpg" in image_server.paths_requested(), timeout=60,
               message=pipeline.logs())
    new_url = loopback_url(image_server, "/fast.png")
    Product.objects.filter(pk=product.pk).update(image_url=new_url)

    def finished():
        p = Product.objects.get(pk=product.pk)
        logs = pipeline.logs()
        return p if p.status == Product.Status.ACTIVE and logs.count("succeeded") >= 2 else None

    final = wait_until(finished, timeout=60, message=pipeline.logs())
    sizes = decoded_thumbnails(final, pipeline.settings.media, pipeline.settings.media_url)
    assert sizes == {"64": (64, 32), "256": (256, 128), "512": (512, 256)}
    assert final.thumbnails == expected_urls(product.pk, new_url, [64, 256, 512], "/media/")
    # The slow job found the image replaced at its compare-then-write and left no files.
    on_disk = {p.name for p in (pipeline.settings.media / "thumbs").glob("**/*.webp")}
    assert on_disk == {u.rsplit("/", 1)[1] for u in final.thumbnails.values()}
