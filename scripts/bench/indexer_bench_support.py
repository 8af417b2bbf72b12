"""What the indexer benchmarks share: a private namespace and alias on the running
Redis/Elasticsearch, the indexer as a real process, its RSS, and cleanup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis
from elasticsearch import Elasticsearch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from shared import settings as settings_module  # noqa: E402
from shared.names import INDEXER_GROUP, Names  # noqa: E402


def bench_env(prefix: str, **extra: str) -> dict[str, str]:
    tag = f"{prefix}{uuid.uuid4().hex[:6]}"
    return {**os.environ, "CATALOG_NAMESPACE": tag, "INDEX_ALIAS": f"{tag}-products",
            "LOG_LEVEL": "WARNING", **extra}


def settings_of(env: dict[str, str]):
    return settings_module.load(env)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`catalog <args>` as a process of its own (its own session, killed by us)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from shared.cli import main; main()", *args],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def unacknowledged(r: redis.Redis, names: Names) -> int | None:
    """Entries the indexer group has not acknowledged, None before the group exists."""
    try:
        groups = r.xinfo_groups(names.changes_stream)
    except redis.ResponseError:
        return None
    for g in groups:
        if g["name"] == INDEXER_GROUP:
            return int(g.get("lag") or 0) + int(g.get("pending") or 0)
    return None


def cleanup(env: dict[str, str]) -> None:
    s = settings_of(env)
    names = Names.from_settings(s)
    r = redis.Redis.from_url(s.redis_url)
    keys = list(r.scan_iter(match=f"{names.namespace}:*", count=1000))
    if keys:
        r.delete(*keys)
    Elasticsearch(s.elasticsearch_url).options(ignore_status=404).indices.delete(
        index=f"{s.index_alias}*", expand_wildcards="all")



def wait(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout}s waiting for {what}")
