"""The Django project: products, search and dashboard apps, and the Celery app."""

from web.celery import app as celery_app

__all__ = ["celery_app"]
