"""Bench-only Django settings: the project's settings plus django-elasticsearch-dsl.

Never imported by the site. The index name comes from BENCH_DED_INDEX (set by
scripts/bench/backfill.py) so a run never touches anyone else's index.
"""

import os

from web.settings import *  # noqa: F403
from web.settings import CATALOG, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_elasticsearch_dsl", "ded_bench"]
ELASTICSEARCH_DSL = {"default": {"hosts": CATALOG.elasticsearch_url, "request_timeout": 120}}
ELASTICSEARCH_DSL_AUTOSYNC = False  # the bench populates explicitly
ELASTICSEARCH_DSL_AUTO_REFRESH = False
# Its default is one serial bulk stream; BENCH_DED_PARALLEL=1 picks its faster parallel_bulk.
ELASTICSEARCH_DSL_PARALLEL = os.environ.get("BENCH_DED_PARALLEL") == "1"
LOGGING = {"version": 1, "disable_existing_loggers": False}
