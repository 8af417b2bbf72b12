"""The dispatcher (stream → broker), the stuck-product sweep and the task's compare-then-write,
against the real Redis stream, the real SQLite file and (for the daemon) real processes."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from shared.events import ChangeEvent
from shared.heartbeat import alive
from shared.names import THUMBNAILS_GROUP
from tests.network_guard import catalog_argv
from tests.sample_images import jpeg
from tests.waiting import wait_until
from web.products.models import Product
from web.thumbnails.dispatch import Dispatcher
from web.thumbnails.sweep import sweep
from web.thumbnails.tasks import generate_thumbnails

pytest_plugins = ["tests.cdc_fixtures", "tests.thumbnail_fixtures"]
pytestmark = pytest.mark.usefixtures("clean_changelog")
TABLE = Product._meta.db_table


def _event(seq: int, op: str, product: Product, old: dict | None = None) -> dict[str, str]:
    row = {"id": product.pk, "title": product.title, "image_url": product.image_url}
    return ChangeEvent(seq=seq, table=TABLE, op=op, pk=str(product.pk), row=row, old=old,
                       ts=0).to_fields()


def _upload(settings, name: str, data: bytes) -> str:
    path = settings.media / "uploads" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"{settings.media_url}uploads/{name}"


class Recorder:
    def __init__(self, fail_times: int = 0):
        self.jobs: list[tuple] = []
        self.fail_times = fail_times

    def __call__(self, product_id, image_url, seq):
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionRefusedError("broker unreachable")
        self.jobs.append((product_id, image_url, seq))


def _dispatcher(settings, redis_client, enqueue, **changes) -> Dispatcher:
    d = Dispatcher(dataclasses.replace(settings, **changes), redis_client, table=TABLE,
                   consumer="test", enqueue=enqueue, sweep=lambda: None)
    d.ensure_group()
    d.pause = lambda: None
    d.backlog = False  # a fresh group: nothing of ours is pending yet
    return d


def _pending(redis_client, names) -> int:
    return redis_client.xpending(names.changes_stream, THUMBNAILS_GROUP)["pending"]


def test_only_inserts_and_image_changes_become_jobs(thumbnail_settings, redis_client, names):
    p = Product.objects.create(title="a", image_url="http://x.test/1.jpg")
    stream = names.changes_stream
    redis_client.xadd(stream, _event(1, "insert", p), id="1-0")
    redis_client.xadd(stream, _event(2, "update", p, old={"image_url": p.image_url}), id="2-0")
    redis_client.xadd(stream, _event(3, "update", p, old={"image_url": "http://x.test/0.jpg"}),
                      id="3-0")
    redis_client.xadd(stream, _event(4, "delete", p), id="4-0")
    other = ChangeEvent(seq=5, table="auth_user", op="insert", pk="1", row={}, old=None, ts=0)
    redis_client.xadd(stream, other.to_fields(), id="5-0")
    jobs = Recorder()
    d = _dispatcher(thumbnail_settings, redis_client, jobs)
    d.dispatch(d.read_batch())
    assert jobs.jobs == [(p.pk, p.image_url, 1), (p.pk, p.image_url, 3)]
    assert _pending(redis_client, names) == 0


def test_entry_is_acknowledged_only_after_the_broker_took_the_job(
    thumbnail_settings, redis_client, names
):
    p = Product.objects.create(title="a", image_url="http://x.test/1.jpg")
    redis_client.xadd(names.changes_stream, _event(1, "insert", p), id="1-0")
    jobs = Recorder(fail_times=2)
    d = _dispatcher(thumbnail_settings, redis_client, jobs)
    for _ in range(2):
        d.dispatch(d.read_batch())
        assert jobs.jobs == [] and _pending(redis_client, names) == 1
    d.dispatch(d.read_batch())  # the broker is back: the pending entry is re-read and sent
    assert jobs.jobs == [(p.pk, p.image_url, 1)]
    assert _pending(redis_client, names) == 0


def test_poison_entries_go_to_the_dlq_and_the_stream_keeps_flowing(
    thumbnail_settings, redis_client, names
):
    p = Product.objects.create(title="a", image_url="http://x.test/1.jpg")
    stream = names.changes_stream
    redis_client.xadd(stream, {**_event(1, "insert", p), "row": "{not json"}, id="1-0")
    no_image = ChangeEvent(seq=2, table=TABLE, op="insert", pk="9", row={"id": 9}, old=None,
                           ts=0)
    redis_client.xadd(stream, no_image.to_fields(), id="2-0")
    redis_client.xadd(stream, _event(3, "insert", p), id="3-0")
    jobs = Recorder()
    d = _dispatcher(thumbnail_settings, redis_client, jobs)
    d.dispatch(d.read_batch())
    assert jobs.jobs == [(p.pk, p.image_url, 3)]
    letters = redis_client.xrange(names.dlq_stream)
    assert [(f["entry_id"], f["reason"]) for _, f in letters] == [
        ("1-0", "row is not JSON: Expecting property name enclosed in double quotes: "
                "line 1 column 2 (char 1)"),
        ("2-0", "row has no image_url"),
    ]
    assert all(f["consumer"] == "thumbnails/test" for _, f in letters)
    assert _pending(redis_client, names) == 0


def test_entries_pending_on_a_dead_dispatcher_are_claimed_and_dispatched(
    thumbnail_settings, redis_client, names
):
    p = Product.objects.create(title="a", image_url="http://x.test/1.jpg")
    redis_client.xadd(names.changes_stream, _event(1, "insert", p), id="1-0")
    _dispatcher(thumbnail_settings, redis_client, Recorder())  # creates the group
    # A dispatcher read the entry and died before acknowledging it.
    redis_client.xreadgroup(THUMBNAILS_GROUP, "dead", {names.changes_stream: ">"}, count=10)
    jobs = Recorder()
    d = _dispatcher(thumbnail_settings, redis_client, jobs, indexer_claim_idle_ms=0)
    assert [eid for eid, _ in d.claim_stale()] == ["1-0"]
    d.dispatch(d.read_batch())
    assert jobs.jobs == [(p.pk, p.image_url, 1)]
    assert _pending(redis_client, names) == 0


def _age(product: Product, seconds: float) -> None:
    Product.objects.filter(pk=product.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds))


def test_sweep_redispatches_stuck_products_then_gives_up_after_the_budget(thumbnail_settings):
    stuck = Product.objects.create(title="stuck", image_url="http://x.test/s.jpg")
    fresh = Product.objects.create(title="fresh", image_url="http://x.test/f.jpg")
    done = Product.objects.create(title="done", image_url="http://x.test/d.jpg",
                                  status=Product.Status.ACTIVE)
    _age(done, 3600)
    jobs = Recorder()
    for attempt in (1, 2):
        _age(stuck, 120)  # THUMBNAIL_STUCK_SECONDS is 60 here
        assert sweep(thumbnail_settings, jobs).redispatched == 1
        assert Product.objects.get(pk=stuck.pk).thumbnail_attempts == attempt
        assert sweep(thumbnail_settings, jobs).redispatched == 0  # not stuck again yet
    assert jobs.jobs == [(stuck.pk, stuck.image_url, None)] * 2
    _age(stuck, 120)
    result = sweep(thumbnail_settings, jobs)  # THUMBNAIL_MAX_ATTEMPTS is 3
    assert (result.redispatched, result.given_up) == (0, 1)
    stuck.refresh_from_db()
    assert stuck.status == Product.Status.INACTIVE
    assert stuck.failure_reason == "no thumbnails after 3 attempts (jobs lost or timed out)"
    assert Product.objects.get(pk=fresh.pk).status == Product.Status.PROCESSING
    assert Product.objects.get(pk=done.pk).status == Product.Status.ACTIVE


def test_sweep_once_command_puts_the_job_on_the_namespace_queue(
    thumbnail_settings, redis_client, pipeline
):
    stuck = Product.objects.create(title="stuck", image_url="http://x.test/s.jpg")
    _age(stuck, 120)
    out = subprocess.run(catalog_argv("thumbnails", "sweep", "--once"), env=dict(os.environ),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "re-dispatched 1, gave up on 0" in out.stdout
    queue = f"{thumbnail_settings.catalog_namespace}:celery:{pipeline.queue}"
    assert redis_client.llen(queue) == 1


def test_dispatcher_beats_and_stops_gracefully_on_sigterm(pipeline, redis_client, names):
    dispatcher = pipeline.dispatcher()
    beats = wait_until(lambda: [v for k, v in alive(redis_client, names).items()
                                if k.startswith("thumbnails/")],
                       timeout=30, message=dispatcher.output())
    assert beats[0]["pid"] == dispatcher.pid
    assert {"dispatched", "dead_letters", "pending", "given_up"} <= set(beats[0])
    assert dispatcher.stop() == 0
    assert "stopped after dispatching 0 jobs" in dispatcher.output()


def test_job_for_a_replaced_or_deleted_product_changes_nothing(thumbnail_settings):
    new_url = _upload(thumbnail_settings, "new.jpg", jpeg(100, 100))
    p = Product.objects.create(title="a", image_url=new_url)
    before = Product.objects.filter(pk=p.pk).values().get()
    assert generate_thumbnails.apply(args=[p.pk, "/media/uploads/old.jpg", 1]).get() == "skipped"
    assert Product.objects.filter(pk=p.pk).values().get() == before
    p.delete()
    assert generate_thumbnails.apply(args=[p.pk, new_url, 2]).get() == "skipped"
    assert not (thumbnail_settings.media / "thumbs").exists()


def test_job_delivered_twice_renders_once_and_writes_nothing_the_second_time(
    thumbnail_settings
):
    url = _upload(thumbnail_settings, "twice.jpg", jpeg(300, 200))
    p = Product.objects.create(title="a", image_url=url)
    assert generate_thumbnails.apply(args=[p.pk, url, 1]).get() == "active"
    first = Product.objects.get(pk=p.pk)
    assert generate_thumbnails.apply(args=[p.pk, url, 1]).get() == "done"
    assert Product.objects.get(pk=p.pk).updated_at == first.updated_at
    assert sorted(first.thumbnails) == ["256", "512", "64"]


def test_job_over_its_time_limit_is_retried_then_gives_up_with_the_reason(
    thumbnail_settings, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    from web.thumbnails import tasks

    calls = []

    def too_slow(*args):
        calls.append(args)
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(tasks, "make_thumbnails", too_slow)
    p = Product.objects.create(title="a", image_url="http://x.test/a.jpg")
    # apply() runs retries eagerly, one after another: THUMBNAIL_MAX_ATTEMPTS is 3.
    generate_thumbnails.apply(args=[p.pk, p.image_url, 1])
    p.refresh_from_db()
    assert len(calls) == 3
    assert p.status == Product.Status.INACTIVE
    assert p.failure_reason == "gave up after 3 attempts: job took longer than its 63s time limit"
