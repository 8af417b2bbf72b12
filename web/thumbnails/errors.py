"""The two ways a thumbnail job can fail: worth retrying, or never going to work."""

from __future__ import annotations


class ThumbnailError(Exception):
    """Base of both; the message is the product's readable failure reason."""


class TransientError(ThumbnailError):
    """Timeouts, 5xx, refused connections: the task retries with backoff."""


class PermanentError(ThumbnailError):
    """Not an image, 404, too large, blocked address: the product becomes inactive."""
