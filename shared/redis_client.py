"""The one way our processes open Redis (decoded strings, bounded timeouts, health checks)."""

from __future__ import annotations

import redis

from shared.settings import Settings


def connect(settings: Settings, *, timeout: float = 5.0) -> redis.Redis:
    return redis.Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_connect_timeout=timeout,
        socket_timeout=None,  # blocking XREADGROUP calls wait longer than any fixed timeout
        health_check_interval=30,
        retry_on_timeout=False,
    )
