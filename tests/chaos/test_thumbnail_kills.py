"""Invariant 5 under kill -9: the worker and the dispatcher die mid-job, twice; after restart
every product ends active (or inactive with a reason), and every thumbnail file on disk
decodes completely: a job killed mid-write leaves no corrupt file under its final name."""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal

import pytest
from PIL import Image

from tests.image_server import Route
from tests.sample_images import jpeg, png
from tests.thumbnail_support import decoded_thumbnails, loopback_url, settled
from tests.waiting import wait_until
from web.products.models import Product

pytest_plugins = ["tests.cdc_fixtures", "tests.thumbnail_fixtures"]
pytestmark = [pytest.mark.chaos, pytest.mark.usefixtures("clean_changelog")]

SIZES = [(1600, 1200), (900, 1400), (640, 480), (2400, 1000)]


def _active_count(ids) -> int:
    return Product.objects.filter(pk__in=ids, status=Product.Status.ACTIVE).count()


def _add(image_server, n: int) -> int:
    w, h = SIZES[n % len(SIZES)]
    image_server.add(f"/{n}.jpg", Route(body=jpeg(w, h, color=(n * 9 % 255, 90, 30)),
                                        delay=0.15))
    return Product.objects.create(title=f"chaos {n}",
                                  image_url=loopback_url(image_server, f"/{n}.jpg")).pk


def test_killing_worker_and_dispatcher_mid_job_loses_no_product_and_corrupts_no_file(
    pipeline, image_server, monkeypatch
):
    # Lost jobs (a killed worker's unacknowledged task) come back through the sweep.
    monkeypatch.setenv("THUMBNAIL_STUCK_SECONDS", "8")
    monkeypatch.setenv("THUMBNAIL_MAX_ATTEMPTS", "6")
    tailer = pipeline.tailer()
    ids = [_add(image_server, n) for n in range(12)]
    killed = []
    for round_ in range(2):
        dispatcher, worker = pipeline.dispatcher(), pipeline.worker("prefork")
        target = 3 + 5 * round_
        wait_until(lambda t=target, i=list(ids): _active_count(i) >= t, timeout=90,
                   message=pipeline.logs())
        assert _active_count(ids) < len(ids), "killed too late to be mid-job"
        wait_until(lambda w=worker: _mid_job(w.output()), timeout=30, interval=0.01,
                   message=worker.output())
        worker.kill()  # SIGKILL to the whole process group: parent and pool child
        killed.append(worker)
        dispatcher.kill()
        ids += [_add(image_server, n) for n in range(12 + 4 * round_, 16 + 4 * round_)]
    pipeline.dispatcher()
    pipeline.worker("prefork")

    products = wait_until(lambda: settled(ids), timeout=180, message=pipeline.logs())
    assert tailer.alive()
    failed = {p.pk: p.failure_reason for p in products.values()
              if p.status == Product.Status.INACTIVE}
    assert all(failed.values()), failed  # inactive only ever with a reason
    assert failed == {}  # every image here is good: each job completed at least once
    media, media_url = pipeline.settings.media, pipeline.settings.media_url
    for product in products.values():
        sizes = decoded_thumbnails(product, media, media_url)
        assert sorted(sizes, key=int) == ["64", "256", "512"]
    for path in (media / "thumbs").glob("**/*.webp"):
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            image.load()  # raises on a truncated or corrupt file
    assert pipeline.forbidden_connects() == ""
    # The kills did land mid-job: a killed worker had received a task it never finished,
    # and that product still got its thumbnails (the sweep re-dispatched it).
    assert any(_unfinished_tasks(w.output()) for w in killed), pipeline.logs()
    assert "sweep: re-dispatched" in pipeline.logs()


def _unfinished_tasks(log: str) -> set[str]:
    received = set(re.findall(r"Task thumbnails\.generate\[([0-9a-f-]+)\] received", log))
    finished = set(re.findall(r"Task thumbnails\.generate\[([0-9a-f-]+)\] succeeded", log))
    return received - finished


def _pool_children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def _lost(log: str) -> int:
    return log.count("exited with 'signal 9 (SIGKILL)'")


def _mid_job(log: str) -> bool:
    """The worker's last word about a task is that it received it: a job is running."""
    events = re.findall(r"\] (received|succeeded|raised error)|(exited with)", log)
    events = [a or b for a, b in events]
    return bool(events) and events[-1] == "received"


def test_killed_pool_process_mid_render_is_redelivered_at_once_without_the_sweep(
    pipeline, image_server
):
    """acks_late + reject_on_worker_lost: the parent sees its child die and requeues the job."""
    pipeline.tailer()
    pipeline.dispatcher()
    worker = pipeline.worker("prefork")
    ids = []
    for n in range(4):  # big PNGs: decoding and resizing take long enough to be killed inside
        image_server.add(f"/big{n}.png", Route(body=png(4000, 3000, "RGB"),
                                               content_type="image/png"))
        ids.append(Product.objects.create(
            title=f"big {n}", image_url=loopback_url(image_server, f"/big{n}.png")).pk)
    for kill in range(1, 4):
        wait_until(lambda: _mid_job(worker.output()), timeout=60, interval=0.01,
                   message=worker.output())
        for child in _pool_children(worker.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        wait_until(lambda k=kill: _lost(worker.output()) == k, timeout=30,
                   message=worker.output())

    products = wait_until(lambda: settled(ids), timeout=120, message=worker.output())
    assert {p.status for p in products.values()} == {Product.Status.ACTIVE}
    for product in products.values():
        assert decoded_thumbnails(product, pipeline.settings.media, pipeline.settings.media_url)
    assert "sweep: re-dispatched" not in pipeline.logs()  # THUMBNAIL_STUCK_SECONDS is 60
