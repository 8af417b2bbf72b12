"""Await a condition instead of sleeping: poll until it holds or the deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Timeout(AssertionError):
    pass


def wait_until(
    condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.05, message: str = ""
) -> T:
    """Return the first truthy value of condition(); fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise Timeout(f"condition not met within {timeout}s: {message or condition} (last: {last!r})")
