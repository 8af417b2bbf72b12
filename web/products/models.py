"""The catalogue's one tracked table, and the API tokens that let clients write to it.

Every write to Product is captured by the CDC triggers (cdc/changelog.py) in the same
transaction; nothing here talks to Redis, Celery or Elasticsearch.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


class Product(models.Model):
    class Status(models.IntegerChoices):
        INACTIVE = 0, "inactive"
        ACTIVE = 1, "active"
        PROCESSING = 2, "processing"

    status = models.SmallIntegerField(choices=Status.choices, default=Status.PROCESSING)
    title = models.CharField(max_length=100)
    image_url = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    category = models.CharField(max_length=64, blank=True, default="")
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    # {"64": "/media/thumbs/12/ab12...-64.webp", ...}: written by the thumbnail task.
    thumbnails = models.JSONField(default=dict, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    thumbnail_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[0, 1, 2]), name="product_status_valid"
            ),
            models.CheckConstraint(condition=~models.Q(title=""), name="product_title_not_blank"),
            models.CheckConstraint(
                condition=~models.Q(image_url=""), name="product_image_url_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/products/{self.pk}/"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A bearer token for the JSON API (`Authorization: Token <key>`)."""

    key = models.CharField(max_length=64, unique=True, default=_new_token)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    name = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.name or self.key[:6]}…)"
