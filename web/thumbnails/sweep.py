"""No product stays `processing` forever: re-dispatch the stuck, give up after the budget.

A product is stuck when it has been processing for THUMBNAIL_STUCK_SECONDS without a
write (a lost job: worker killed before the broker redelivers, a dropped message). Each
re-dispatch counts in thumbnail_attempts; at THUMBNAIL_MAX_ATTEMPTS it becomes inactive
with the reason. Writes are compare-and-set on updated_at, so a job that finishes at the
same moment wins and the sweep leaves the product alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from web.products.models import Product

log = logging.getLogger(__name__)

# (product id, image_url, seq) -> None; raises if the broker did not take the job.
Enqueue = Callable[[int, str, int | None], None]


@dataclass
class SweepResult:
    redispatched: int = 0
    given_up: int = 0


def sweep(settings, enqueue: Enqueue, *, limit: int = 500) -> SweepResult:
    cutoff = timezone.now() - timedelta(seconds=settings.thumbnail_stuck_seconds)
    stuck = Product.objects.filter(
        status=Product.Status.PROCESSING, updated_at__lt=cutoff
    ).order_by("updated_at").values("id", "image_url", "updated_at", "thumbnail_attempts")
    result = SweepResult()
    for row in stuck[:limit]:
        same = Product.objects.filter(
            pk=row["id"], status=Product.Status.PROCESSING, updated_at=row["updated_at"],
            image_url=row["image_url"],
        )
        if row["thumbnail_attempts"] + 1 >= settings.thumbnail_max_attempts:
            reason = (f"no thumbnails after {row['thumbnail_attempts'] + 1} attempts "
                      "(jobs lost or timed out)")
            result.given_up += same.update(
                status=Product.Status.INACTIVE, failure_reason=reason, updated_at=timezone.now()
            )
            continue
        # Count first, then enqueue: a crash in between costs one attempt, never a lost job
        # (the product stays processing and the next sweep finds it again).
        if same.update(thumbnail_attempts=F("thumbnail_attempts") + 1, updated_at=timezone.now()):
            enqueue(row["id"], row["image_url"], None)
            result.redispatched += 1
    if result.redispatched or result.given_up:
        log.info("sweep: re-dispatched %d, gave up on %d", result.redispatched, result.given_up)
    return result
