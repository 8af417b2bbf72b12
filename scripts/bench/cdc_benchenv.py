"""Shared by the CDC benchmarks: a temp migrated database and a fresh namespace per run,
the tailer as a real process, a table printer; Redis keys removed on exit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

from shared import settings as catalog_settings  # noqa: E402


@contextmanager
def cdc_environment(label: str):
    """(env, workdir): private DATABASE_PATH (migrated, triggers installed) and namespace."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
    env = {
        **os.environ,
        "DATABASE_PATH": str(workdir / "catalog.sqlite3"),
        "CATALOG_NAMESPACE": f"bench{uuid.uuid4().hex[:8]}",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    if not env.get("REDIS_URL", "redis://127.0.0.1").startswith(("redis://127.0.0.1",
                                                                   "redis://localhost")):
        raise SystemExit("benchmarks only talk to loopback")
    os.environ.update({k: env[k] for k in ("DATABASE_PATH", "CATALOG_NAMESPACE", "LOG_LEVEL")})
    subprocess.run([sys.executable, "-m", "web", "migrate", "-v0"], env=env, cwd=ROOT,
                   check=True, timeout=300)
    try:
        yield env, workdir
    finally:
        s = catalog_settings.load(env)
        r = redis.Redis.from_url(s.redis_url)
        keys = list(r.scan_iter(match=f"{s.catalog_namespace}:*", count=500))
        if keys:
            r.delete(*keys)
        shutil.rmtree(workdir, ignore_errors=True)


def start_tailer(env: dict, workdir: Path, **extra: str) -> subprocess.Popen:
    log = open(workdir / "tailer.log", "ab")  # noqa: SIM115 - the child's for its lifetime
    proc = subprocess.Popen(
        [sys.executable, "-c", "from shared.cli import main; main()", "cdc", "run"],
        env={**env, **extra}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(condition, timeout: float, interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout}s")
        time.sleep(interval)



def table(rows: list[tuple]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))
                     for r in rows)
