"""One tailer per database: an exclusive flock on a file beside it.

The kernel drops the lock when the holder dies, even by kill -9, so a crashed tailer
never blocks its successor.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class AlreadyRunning(RuntimeError):
    pass


def path_for(database: Path) -> Path:
    return Path(database).with_name(Path(database).name + ".tailer.lock")


class TailerLock:
    def __init__(self, database: Path):
        self.path = path_for(database)
        self.fd: int | None = None

    def acquire(self) -> TailerLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another tailer (pid {holder}) is already running for this database "
                f"(lock {self.path}); only one may publish at a time"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
