"""The thumbnail job: load the image, render the sizes, record them on the product.

Idempotent and safe to run twice or late: file names are stable, files are replaced
atomically, and the product is only written if it still exists with the same image_url
the job was queued for (compare, then write, in one transaction). Transient failures retry
with exponential backoff (Celery retry); permanent ones, or an exhausted retry budget, make
the product inactive with a readable reason. The product write goes through CDC like any other.
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings as django_settings
from django.db import transaction

from web.products.models import Product
from web.thumbnails import imaging, storage
from web.thumbnails.errors import PermanentError, TransientError
from web.thumbnails.fetch import Fetcher

log = logging.getLogger(__name__)
REASON_MAX = 255
RENDER_SECONDS = 60  # decoding 40 Mpx and encoding the widths takes a few seconds at most


@shared_task(bind=True, name="thumbnails.generate", acks_late=True, ignore_result=True)
def generate_thumbnails(self, product_id: int, image_url: str, seq: int | None = None) -> str:
    """Thumbnails for `product_id` as of `image_url` (from change `seq`); returns the outcome."""
    s = django_settings.CATALOG
    if not _still_wanted(product_id, image_url):
        log.info("product %s: image changed or product gone, skipping (seq %s)", product_id, seq)
        return "skipped"
    if _already_done(product_id, image_url, s):
        return "done"
    try:
        thumbnails = make_thumbnails(product_id, image_url, s)
    except PermanentError as exc:
        return record_failure(product_id, image_url, str(exc))
    except (TransientError, SoftTimeLimitExceeded) as exc:
        if isinstance(exc, SoftTimeLimitExceeded):
            exc = TransientError(f"job took longer than its {time_limit(s):.0f}s time limit")
        attempts = self.request.retries + 1
        if attempts >= s.thumbnail_max_attempts:
            reason = f"gave up after {attempts} attempts: {exc}"
            return record_failure(product_id, image_url, reason)
        countdown = get_exponential_backoff_interval(
            factor=s.thumbnail_retry_backoff, retries=self.request.retries,
            maximum=s.thumbnail_retry_backoff_max, full_jitter=False,
        )
        log.warning("product %s: %s; retry %d in %.1fs", product_id, exc, attempts, countdown)
        raise self.retry(
            exc=exc, countdown=countdown, max_retries=s.thumbnail_max_attempts
        ) from exc
    outcome = record_success(product_id, image_url, thumbnails)
    if outcome == "skipped":  # the image changed while we rendered: these files are orphans
        storage.remove(thumbnails, media_root=Path(django_settings.MEDIA_ROOT),
                       media_url=s.media_url)
    return outcome


def time_limit(s) -> float:
    """Seconds a job may run (prefork workers enforce it): the fetch deadline plus rendering."""
    return 3 * s.thumbnail_fetch_timeout + RENDER_SECONDS


def make_thumbnails(product_id: int, image_url: str, s) -> dict[str, str]:
    data = load_image(image_url, s)
    widths = s.thumbnail_widths
    image = imaging.open_image(data, max_pixels=s.thumbnail_max_pixels, largest_width=max(widths))
    return storage.store(
        product_id, image_url, imaging.render(image, widths),
        media_root=Path(django_settings.MEDIA_ROOT), media_url=s.media_url,
    )


def load_image(image_url: str, s) -> bytes:
    if storage.is_upload(image_url, s.media_url):
        return storage.read_upload(
            image_url, media_url=s.media_url, media_root=Path(django_settings.MEDIA_ROOT),
            max_bytes=s.thumbnail_max_bytes,
        )
    return Fetcher.from_settings(s).fetch(image_url)


def record_success(product_id: int, image_url: str, thumbnails: dict[str, str]) -> str:
    return _record(product_id, image_url, status=Product.Status.ACTIVE, thumbnails=thumbnails,
                   failure_reason="")


def record_failure(product_id: int, image_url: str, reason: str) -> str:
    log.warning("product %s: inactive: %s", product_id, reason)
    return _record(product_id, image_url, status=Product.Status.INACTIVE, thumbnails={},
                   failure_reason=reason[:REASON_MAX])


def _record(product_id: int, image_url: str, **changes) -> str:
    # IMMEDIATE transaction (DATABASES OPTIONS): the re-read and the write see the same row.
    with transaction.atomic():
        product = Product.objects.filter(pk=product_id).first()
        if product is None or product.image_url != image_url:
            return "skipped"
        for name, value in {**changes, "thumbnail_attempts": 0}.items():
            setattr(product, name, value)
        product.save(update_fields=[*changes, "thumbnail_attempts", "updated_at"])
    return "active" if changes["status"] == Product.Status.ACTIVE else "inactive"


def _still_wanted(product_id: int, image_url: str) -> bool:
    return Product.objects.filter(pk=product_id, image_url=image_url).exists()


def _already_done(product_id: int, image_url: str, s) -> bool:
    """A duplicate delivery of a job that completed: nothing to do, nothing to write."""
    product = Product.objects.filter(pk=product_id, image_url=image_url).first()
    if product is None or product.status != Product.Status.ACTIVE:
        return False
    expected = storage.expected_urls(product_id, image_url, s.thumbnail_widths, s.media_url)
    root = Path(django_settings.MEDIA_ROOT)
    return product.thumbnails == expected and all(
        (root / url[len(s.media_url):]).is_file() for url in expected.values()
    )
