"""Wake the tailer when the database changes: watchdog on the WAL, a poll timer as fallback.

A commit appends frames to `<db>-wal`, which inotify reports within microseconds; the
tailer then reads at once instead of at its next poll. File events can be missed (some
filesystems, a checkpoint that rewrites the main file), so the caller also wakes every
poll interval and checks `PRAGMA data_version` before querying.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger(__name__)


class _DatabaseFiles(FileSystemEventHandler):
    def __init__(self, database: Path, event: threading.Event):
        self.prefix = database.name  # catalog.sqlite3, catalog.sqlite3-wal, -shm, -journal
        self.event = event

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = event.src_path.decode() if isinstance(event.src_path, bytes) else event.src_path
        if Path(path).name.startswith(self.prefix):
            self.event.set()


class Wakeup:
    """`wait(timeout)` returns early when the database's files change or `set()` is called."""

    def __init__(self, database: Path):
        self.database = Path(database)
        self.event = threading.Event()
        self.observer: Observer | None = None

    def start(self) -> Wakeup:
        try:
            observer = Observer()
            observer.schedule(_DatabaseFiles(self.database, self.event),
                              str(self.database.parent), recursive=False)
            observer.daemon = True
            observer.start()
            self.observer = observer
        except Exception as exc:  # e.g. inotify watch limit: polling still works
            log.warning("file events unavailable (%s); polling only", exc)
        return self

    def wait(self, timeout: float) -> bool:
        woke = self.event.wait(timeout)
        self.event.clear()
        return woke

    def set(self) -> None:
        self.event.set()

    def stop(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
