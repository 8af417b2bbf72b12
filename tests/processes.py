"""Run our daemons as real child processes in tests (`catalog cdc run`, workers, ...)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Daemon:
    """A child process with its output in a log file; killed at teardown if still running."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path):
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> Daemon:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (Celery forks children)."""
        if self.alive():
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM and wait for a graceful exit; SIGKILL if it does not come."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def catalog_argv(*args: str) -> list[str]:
    """argv for the `catalog` console script in this interpreter's environment."""
    return [sys.executable, "-c", "from shared.cli import main; main()", *args]
