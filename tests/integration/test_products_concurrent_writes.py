"""Concurrent writers on one SQLite file: Django processes and the sqlite3 shell at once.

WAL, the busy timeout and IMMEDIATE transactions (web/settings.py, shared/sqlite.py) make
writers queue for the lock instead of failing with "database is locked".
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.processes import ROOT
from tests.waiting import wait_until
from web.products.models import Product

WRITERS = 4
ROWS_PER_WRITER = 60
SHELL_ROWS = 60

# Each writer opens its connection, says it is ready, waits for "go", then inserts row by
# row (one transaction each) so the writers really interleave.
ORM_WRITER = """
import os, sys, time, pathlib, django
django.setup()
from django.db import connection, transaction
from web.products.models import Product
name, rows, ready, go = sys.argv[1], int(sys.argv[2]), *map(pathlib.Path, sys.argv[3:5])
connection.ensure_connection()
ready.touch()
while not go.exists():
    time.sleep(0.005)
for i in range(rows):
    if i % 2:
        with transaction.atomic():
            Product.objects.create(title=f"{name}-{i}", image_url=f"https://x.test/{name}/{i}.png")
    else:
        Product.objects.create(title=f"{name}-{i}", image_url=f"https://x.test/{name}/{i}.png")
"""

SHELL_INSERT = (
    "BEGIN IMMEDIATE;\n"
    "INSERT INTO products_product (status, title, image_url, description, category, price,"
    " thumbnails, failure_reason, thumbnail_attempts, created_at, updated_at) VALUES"
    " (2, 'shell-{i}', 'https://x.test/shell/{i}.png', '', '', NULL, '{{}}', '', 0,"
    " strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'));\n"
    "COMMIT;\n"
)


def test_orm_processes_and_sqlite3_shell_write_at_once_without_lock_errors(
    catalog_settings, tmp_path: Path
):
    db = catalog_settings.database
    go = tmp_path / "go"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "web.settings", "PYTHONPATH": str(ROOT)}
    writers = []
    for n in range(WRITERS):
        ready = tmp_path / f"ready-{n}"
        writers.append((ready, subprocess.Popen(
            [sys.executable, "-c", ORM_WRITER, f"orm{n}", str(ROWS_PER_WRITER), ready, go],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )))
    script = tmp_path / "shell.sql"
    script.write_text(".timeout 30000\n" + "".join(
        SHELL_INSERT.format(i=i) for i in range(SHELL_ROWS)))
    wait_until(lambda: all(ready.exists() for ready, _ in writers), timeout=60,
               message="every ORM writer connected")
    # The shell waits for the same start signal, so all writers contend from the first row.
    shell = subprocess.Popen(
        ["bash", "-c",
         f'while [ ! -e "{go}" ]; do sleep 0.005; done; exec sqlite3 "{db}" < "{script}"'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    go.touch()

    outcomes = [(*proc.communicate(timeout=180), proc.returncode) for _, proc in writers]
    outcomes.append((*shell.communicate(timeout=180), shell.returncode))
    for _out, err, code in outcomes:
        assert "database is locked" not in err
        assert code == 0, err
    titles = set(Product.objects.values_list("title", flat=True))
    expected = {f"orm{n}-{i}" for n in range(WRITERS) for i in range(ROWS_PER_WRITER)}
    expected |= {f"shell-{i}" for i in range(SHELL_ROWS)}
    assert titles == expected
    assert Product.objects.count() == len(expected)
