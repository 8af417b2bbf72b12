"""A one-second memo for the analytics figures: every open dashboard polls, and twenty
tabs asking in the same second need one aggregation, not twenty. One caller computes
while the others wait for its answer (no stampede when the memo expires)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

MAX_AGE_S = 1.0

_values: dict[Hashable, tuple[float, Any]] = {}
_locks: dict[Hashable, threading.Lock] = {}
_guard = threading.Lock()


def recent(key: Hashable, compute: Callable[[], Any], max_age: float = MAX_AGE_S) -> Any:
    hit = _values.get(key)
    if hit and time.monotonic() - hit[0] < max_age:
        return hit[1]
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        hit = _values.get(key)
        if hit and time.monotonic() - hit[0] < max_age:
            return hit[1]
        value = compute()  # an exception propagates and nothing is memoised
        _values[key] = (time.monotonic(), value)
        return value
