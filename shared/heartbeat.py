"""Daemon liveness: each daemon refreshes a Redis key with a TTL; `catalog status` reads them."""

from __future__ import annotations

import json
import os
import socket
import time

import redis

from shared.names import Names

TTL_SECONDS = 15


def beat(r: redis.Redis, names: Names, daemon: str, consumer: str, **figures) -> None:
    """Say `daemon`/`consumer` is alive, with any figures worth showing in status."""
    value = {"host": socket.gethostname(), "pid": os.getpid(), "at": time.time(), **figures}
    r.set(names.key("heartbeat", daemon, consumer), json.dumps(value), ex=TTL_SECONDS)


def alive(r: redis.Redis, names: Names) -> dict[str, dict]:
    """{"<daemon>/<consumer>": figures} for every daemon that beat within the TTL."""
    out = {}
    prefix = names.key("heartbeat", "")
    for key in r.scan_iter(match=prefix + "*", count=100):
        raw = r.get(key)
        if raw:
            name = (key.decode() if isinstance(key, bytes) else key)[len(prefix):]
            out[name.replace(":", "/", 1)] = json.loads(raw)
    return out
