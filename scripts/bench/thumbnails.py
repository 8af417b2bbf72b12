"""Thumbnail throughput per worker process, and add → active latency with 2 workers.

Over a fresh migrated database (CDC triggers), a private namespace and media folder:

1. Throughput. A mix of generated images (JPEG and PNG, 800x600 up to 4000x3000; half
   uploaded files, half fetched from a loopback HTTP server) is rendered
   a) in this process, calling the task's own load → decode → render → store steps
      (the baseline: pure work, no broker, no database), then
   b) by one real `celery -A web worker -P solo` process, the jobs dispatched from the
      change stream by the real tailer and dispatcher and queued before the worker starts.
      Rate = jobs completed between the first and the last `active` write (DB timestamps).
   Reported as jobs/s and thumbnails/s (one job writes one file per width), b as a ratio of a.
2. Latency. Tailer, dispatcher and 2 worker processes run; products are added at a steady
   rate; add → active = the product's updated_at (the task's write) - created_at (the add).

    .venv/bin/python scripts/bench/thumbnails.py           # ~1-2 minutes on 2 shared cores
    .venv/bin/python scripts/bench/thumbnails.py --full    # more images, longer stream
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cdc_benchenv import ROOT, cdc_environment, start_tailer, stop, table, wait_for
from measure import percentile

SIZES = [(800, 600), (1600, 1200), (2400, 1800), (4000, 3000)]
FORMATS = ["JPEG", "PNG"]


def make_images(folder: Path, copies: int) -> list[tuple[str, str]]:
    """(file name, size label) for `copies` of each size x format, noisy like photos."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for w, h in SIZES:
        base = Image.merge("RGB", [
            Image.linear_gradient("L").resize((w, h)),
            Image.effect_noise((w, h), 40),
            Image.radial_gradient("L").resize((w, h)),
        ])
        for fmt in FORMATS:
            for c in range(copies):
                name = f"{w}x{h}-{c}.{fmt.lower()}"
                out = io.BytesIO()
                base.save(out, fmt, **({"quality": 88} if fmt == "JPEG" else {}))
                (folder / name).write_bytes(out.getvalue())
                made.append((name, f"{w}x{h} {fmt}"))
    return made


class ImageHost:
    """Serves a folder on 127.0.0.1 (the only address benchmarks may talk to)."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def image_urls(images, host: ImageHost, media_url: str) -> list[tuple[str, str]]:
    """Alternate uploaded files (MEDIA_URL paths) and loopback URLs."""
    return [(f"{media_url}uploads/{name}" if i % 2 else host.url(name), label)
            for i, (name, label) in enumerate(images)]


def baseline(urls, settings) -> tuple[float, dict[str, float]]:
    """Jobs/s rendering in this process, and mean seconds per size label."""
    from web.thumbnails.tasks import make_thumbnails

    per_label: dict[str, list[float]] = {}
    make_thumbnails(9_999_999, urls[0][0], settings)  # warm-up: imports, codec setup
    started = time.perf_counter()
    for n, (url, label) in enumerate(urls):
        t = time.perf_counter()
        make_thumbnails(10_000_000 + n, url, settings)
        per_label.setdefault(label, []).append(time.perf_counter() - t)
    rate = len(urls) / (time.perf_counter() - started)
    return rate, {k: sum(v) / len(v) for k, v in per_label.items()}


class Pipeline:
    def __init__(self, env: dict, workdir: Path):
        self.env, self.workdir = env, workdir
        self.procs: list[subprocess.Popen] = []

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the child's
        self.procs.append(subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=log,
                                           stderr=subprocess.STDOUT))
        log.close()

    def tailer(self) -> None:
        self.procs.append(start_tailer(self.env, self.workdir))

    def dispatcher(self) -> None:
        self._spawn("dispatcher", [sys.executable, "-c", "from shared.cli import main; main()",
                                   "thumbnails", "run"])

    def worker(self, n: int) -> None:
        queue = f"{self.env['CATALOG_NAMESPACE']}-thumbnails"
        self._spawn(f"worker{n}", [
            sys.executable, "-m", "celery", "-A", "web", "worker", "-P", "solo", "-Q", queue,
            "-n", f"bench{n}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel", "WARNING",
        ])

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop(proc)
        self.procs = []


def queue_length(env: dict) -> int:
    import redis

    r = redis.Redis.from_url(env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    ns = env["CATALOG_NAMESPACE"]
    return r.llen(f"{ns}:celery:{ns}-thumbnails")


def add_products(urls, prefix: str) -> list[int]:
    from web.products.models import Product

    return [Product.objects.create(title=f"{prefix} {n}", image_url=url).pk
            for n, (url, _) in enumerate(urls)]


def wait_settled(ids: list[int], timeout: float) -> list:
    from web.products.models import Product

    def done() -> bool:
        return not Product.objects.filter(pk__in=ids, status=Product.Status.PROCESSING).exists()

    wait_for(done, timeout, interval=0.1)
    return list(Product.objects.filter(pk__in=ids))


def worker_throughput(pipe: Pipeline, env: dict, urls, timeout: float) -> tuple[float, int]:
    pipe.tailer()
    pipe.dispatcher()
    ids = add_products(urls, "throughput")
    wait_for(lambda: queue_length(env) >= len(ids), timeout)  # all queued before the worker
    pipe.worker(1)
    products = wait_settled(ids, timeout)
    failed = sum(p.status != 1 for p in products)
    finished = sorted(p.updated_at for p in products)
    span = (finished[-1] - finished[0]).total_seconds()
    return (len(finished) - 1) / span if span > 0 else float("nan"), failed


def latency(pipe: Pipeline, urls, rate: float, seconds: float, timeout: float):
    pipe.worker(2)  # the second worker process; the first is still running
    ids = []
    interval, started = 1.0 / rate, time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        url, _ = urls[n % len(urls)]
        ids += add_products([(url, "")], "steady")
        n += 1
        time.sleep(max(0.0, started + n * interval - time.monotonic()))
    products = wait_settled(ids, timeout)
    waits = [(p.updated_at - p.created_at).total_seconds() * 1000 for p in products
             if p.status == 1]
    return waits, len(ids), sum(p.status != 1 for p in products)


def _pixels(item: tuple[str, float]) -> tuple[int, str]:
    w, h = item[0].split()[0].split("x")
    return int(w) * int(h), item[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=2, help="images per size x format")
    parser.add_argument("--rate", type=float, default=2.0, help="adds per second (latency)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the add stream")
    parser.add_argument("--full", action="store_true", help="--copies 5 --seconds 60")
    parser.add_argument("--timeout", type=float, default=300.0, help="bound on each wait")
    args = parser.parse_args()
    if args.full:
        args.copies, args.seconds = 5, 60.0

    with cdc_environment("thumbs") as (env, workdir):
        # Noisy 4000x3000 PNGs are ~16 MB: above the 10 MB default download cap.
        extra = {"MEDIA_ROOT": str(workdir / "media"), "THUMBNAIL_ALLOWED_HOSTS": "127.0.0.1",
                 "THUMBNAIL_MAX_BYTES": str(64 * 1024 * 1024),
                 "DJANGO_SETTINGS_MODULE": "web.settings"}
        env.update(extra)
        os.environ.update(extra)
        import django

        django.setup()
        from django.conf import settings

        s = settings.CATALOG
        images = make_images(workdir / "media" / "uploads", args.copies)
        host = ImageHost(workdir / "media" / "uploads")
        urls = image_urls(images, host, s.media_url)
        widths = len(s.thumbnail_widths)
        print(f"{len(urls)} images: {', '.join(f'{w}x{h}' for w, h in SIZES)}, JPEG+PNG; "
              f"widths {s.thumbnail_sizes}; machine cores: {os.cpu_count()}", flush=True)

        base_rate, per_label = baseline(urls, s)
        pipe = Pipeline(env, workdir)
        try:
            worker_rate, failed = worker_throughput(pipe, env, urls, args.timeout)
            waits, added, lat_failed = latency(pipe, urls, args.rate, args.seconds,
                                               args.timeout)
        finally:
            pipe.stop()

    print()
    print(table([
        ("throughput (1 process)", "jobs/s", "thumbnails/s", "vs baseline"),
        ("baseline: in-process render", f"{base_rate:.2f}", f"{base_rate * widths:.1f}", "1.00"),
        ("celery worker -P solo", f"{worker_rate:.2f}", f"{worker_rate * widths:.1f}",
         f"{worker_rate / base_rate:.2f}"),
    ]))
    print()
    print(table([("image", "mean render ms")] +
                [(k, f"{v * 1000:.0f}") for k, v in sorted(per_label.items(), key=_pixels)]))
    print()
    print(table([
        ("add -> active, 2 workers", "adds", "rate/s", "p50 ms", "p99 ms", "max ms", "failed"),
        ("steady stream", str(added), f"{args.rate:g}", f"{percentile(waits, 50):.0f}",
         f"{percentile(waits, 99):.0f}", f"{max(waits):.0f}", str(lat_failed + failed)),
    ]))


if __name__ == "__main__":
    main()
