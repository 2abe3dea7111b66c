"""``gunicorn benchmarks.wsgi:app`` with BENCH_DATABASE_URL: the application as the runner measures it."""

import os

from benchmarks.common import DEFAULT_SQLITE_URL, bench_app

app = bench_app(os.environ.get("BENCH_DATABASE_URL", DEFAULT_SQLITE_URL))
