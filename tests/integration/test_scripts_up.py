"""scripts/up, really run: it stops everything it started when one daemon dies (exit 1) and
on TERM or Ctrl-C (exit 0), leaving no process behind; an empty database gets a demo
catalogue that the running pipeline makes searchable.

Each run has its own database, namespace, index alias, media folder and web port; the shared
Redis and Elasticsearch are found running, so scripts/up leaves them alone. Processes of a
run are found by the unique CATALOG_NAMESPACE in their environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from shared import settings as settings_module
from tests.processes import ROOT
from tests.waiting import wait_until

DAEMONS = {  # name in the [prefix] → what its command line contains
    "web": "gunicorn",
    "cdc": "cdc run",
    "indexer": "indexer run",
    "thumbnails": "thumbnails run",
    "worker": "celery -A web worker",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Up:
    """One run of scripts/up with private settings; its output in a log file."""

    def __init__(self, tmp_path: Path, demo_products: int):
        self.namespace = f"t{uuid.uuid4().hex[:8]}"
        self.port = _free_port()
        self.log_path = tmp_path / "up.log"
        self.env = {
            **os.environ,
            "CATALOG_NAMESPACE": self.namespace,
            "INDEX_ALIAS": f"{self.namespace}-products",
            "DATABASE_PATH": str(tmp_path / "catalog.sqlite3"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "WEB_ADDR": f"127.0.0.1:{self.port}",
            "DEMO_PRODUCTS": str(demo_products),
            "INDEX_REFRESH_INTERVAL": "100ms",
            "CDC_POLL_INTERVAL": "0.2",
            "STOP_TIMEOUT": "20",
        }
        self.proc: subprocess.Popen | None = None

    def start(self) -> Up:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "up")], env=self.env,
                                         cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def processes(self) -> dict[int, str]:
        """{pid: command line} of every live process carrying this run's namespace."""
        marker = f"CATALOG_NAMESPACE={self.namespace}".encode()
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker not in (entry / "environ").read_bytes().split(b"\0"):
                    continue
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                    continue  # a zombie holds nothing; its parent reaps it
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            found[int(entry.name)] = cmdline
        return found

    def daemon_pid(self, name: str) -> int | None:
        """The daemon's own process (gunicorn's and Celery's master, not their workers)."""
        matching = [pid for pid, cmd in self.processes().items() if DAEMONS[name] in cmd]
        masters = [pid for pid in matching if _parent(pid) not in matching]
        return masters[0] if len(masters) == 1 else None

    def web(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return r.status, r.read()
        except OSError:
            return 0, b""

    def wait_running(self) -> None:
        wait_until(lambda: "==> up: " in self.output(), timeout=180, interval=0.5,
                   message=self.output())
        wait_until(lambda: self.web("/products/")[0] == 200, timeout=60, interval=0.5,
                   message=self.output())
        wait_until(lambda: all(self.daemon_pid(n) for n in DAEMONS), timeout=60,
                   interval=0.5, message=f"{self.processes()}\n{self.output()}")
        wait_until(lambda: " ready." in self.output(), timeout=60, interval=0.5,
                   message=self.output())

    def exit_code(self) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=120)

    def port_is_free(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) != 0

    def kill_leftovers(self) -> None:
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def clean_services(self) -> None:
        s = settings_module.load()
        r = redis.Redis.from_url(s.redis_url)
        keys = list(r.scan_iter(match=f"{self.namespace}:*", count=500))
        if keys:
            r.delete(*keys)
        es = Elasticsearch(s.elasticsearch_url)
        es.options(ignore_status=404).indices.delete(index=f"{self.namespace}-products*",
                                                     expand_wildcards="all")


@pytest.fixture
def up(tmp_path):
    runs: list[Up] = []

    def start(demo_products: int = 0) -> Up:
        run = Up(tmp_path, demo_products).start()
        runs.append(run)
        return run

    yield start
    for run in runs:
        if run.proc and run.proc.poll() is None:
            os.killpg(run.proc.pid, signal.SIGKILL)
        run.kill_leftovers()  # orphans would hold the port and CPU of everyone on the machine
        run.clean_services()


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None


def _nothing_left(run: Up) -> None:
    wait_until(lambda: not run.processes(), timeout=30, interval=0.5,
               message=f"still running: {run.processes()}")
    assert run.port_is_free()


@pytest.mark.parametrize("victim", ["web", "worker", "indexer"])
def test_a_daemon_killed_stops_the_whole_pipeline_and_up_exits_1(up, victim):
    run = up()
    run.wait_running()

    os.kill(run.daemon_pid(victim), signal.SIGKILL)

    assert run.exit_code() == 1, run.output()
    _nothing_left(run)
    assert f"==> {victim} exited" in run.output()


def test_term_stops_everything_and_up_exits_0_after_serving_the_demo_catalogue(up):
    run = up(demo_products=4)
    run.wait_running()
    # The demo catalogue goes through the pipeline: active, thumbnails, searchable.
    wait_until(lambda: _active_in_search(run) == 4, timeout=120, interval=0.5,
               message=run.output())

    run.proc.send_signal(signal.SIGTERM)

    assert run.exit_code() == 0, run.output()
    _nothing_left(run)
    out = run.output()
    assert "seeded 4 products" in out
    assert "[web] " in out and "[indexer] " in out and "[worker] " in out


def test_ctrl_c_stops_everything_and_up_exits_0(up):
    run = up()
    run.wait_running()

    run.proc.send_signal(signal.SIGINT)

    assert run.exit_code() == 0, run.output()
    _nothing_left(run)


def _active_in_search(run: Up) -> int:
    status, body = run.web("/api/search?status=active")
    return json.loads(body)["total"] if status == 200 else -1
