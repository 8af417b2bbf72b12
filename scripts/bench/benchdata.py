"""Shared by the benchmarks: a private database, namespace and index alias per run, seeded
with `catalog seed`'s generator, and cleaned up afterwards (the shared Elasticsearch has
about 1 GB of heap: no run leaves millions of documents behind)."""

from __future__ import annotations

import json
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

from elasticsearch import Elasticsearch  # noqa: E402

from shared import settings as catalog_settings  # noqa: E402
from shared import sqlite  # noqa: E402
from web.products import seed  # noqa: E402

LOOPBACK = ("http://127.0.0.1:", "http://localhost:")


@contextmanager
def bench_environment(label: str):
    """Env vars of a private run (temp DATABASE_PATH, unique alias); cleans up on exit."""
    tag = uuid.uuid4().hex[:8]
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
    env = {
        **os.environ,
        "DATABASE_PATH": str(workdir / "catalog.sqlite3"),
        "CATALOG_NAMESPACE": f"bench{tag}",
        "INDEX_ALIAS": f"bench{tag}-products",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(__file__).parent)]),
    }
    url = env.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    if not url.startswith(LOOPBACK):
        raise SystemExit(f"benchmarks only talk to loopback, not {url}")
    os.environ.update({k: env[k] for k in ("DATABASE_PATH", "CATALOG_NAMESPACE", "INDEX_ALIAS")})
    es = Elasticsearch(url, request_timeout=120)
    try:
        yield env, es
    finally:
        es.options(ignore_status=404).indices.delete(
            index=f"{env['INDEX_ALIAS']}*", expand_wildcards="all"
        )
        es.close()
        shutil.rmtree(workdir, ignore_errors=True)


def migrated_and_seeded(env: dict, count: int) -> float:
    """Migrate the private database and insert `count` products; returns seconds."""
    run([sys.executable, "-m", "web", "migrate", "-v0"], env, timeout=300)
    conn = sqlite.connect(env["DATABASE_PATH"])
    try:
        return seed.seed(conn, count, random_seed=count).seconds
    finally:
        conn.close()


def run(argv: list[str], env: dict, timeout: float) -> tuple[float, str]:
    """Run a command to completion; (wall seconds, stdout). Fails loudly on error."""
    started = time.monotonic()
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def catalog(args: list[str], env: dict, timeout: float) -> tuple[float, dict]:
    seconds, out = run([sys.executable, "-c", "from shared.cli import main; main()", *args],
                       env, timeout)
    return seconds, json.loads(out.strip().splitlines()[-1])


def count_docs(es: Elasticsearch, index: str) -> int:
    es.indices.refresh(index=index)
    return es.count(index=index)["count"]


def settings():
    return catalog_settings.load()


def table(rows: list[tuple]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))
                     for r in rows)
