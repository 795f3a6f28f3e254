"""gunicorn settings for `arogya serve --prod` (or `gunicorn -c gunicorn.conf.py app:server`).

Every value comes from the one settings object (``AROGYA_BIND``, ``AROGYA_WORKERS``, ``AROGYA_THREADS``,
``AROGYA_WORKER_TIMEOUT``, ``AROGYA_GRACEFUL_TIMEOUT``, ``AROGYA_ACCESS_LOG``, ``AROGYA_FORWARDED_ALLOW_IPS``; see
the README's settings table). One worker per core, four threads each: the callbacks are CPU-bound, so more
processes only queue and compute the same results again (benchmarks/results/load.json).

Each worker is a separate process with its own database pool. The workers share one result cache: Redis when
``AROGYA_CACHE_URL=redis://...`` (several hosts), otherwise a folder of files under ``AROGYA_DATA_DIR`` (one host,
e.g. the SQLite warehouse), emptied when the server starts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from etl.settings import Settings

_settings = Settings.from_env()
_cache_url = _settings.served_cache_url
raw_env = [f"AROGYA_CACHE_URL={_cache_url}"]  # what the workers' Settings.from_env() reads

bind = _settings.bind
workers = _settings.worker_count
threads = _settings.threads
worker_class = "gthread"
# A request that takes longer than this is cut off and its worker replaced: no hung workers. The database's own
# timeouts (AROGYA_DB_CONNECT_TIMEOUT, AROGYA_DB_STATEMENT_TIMEOUT) are shorter, so a slow or unreachable database
# answers 503 before this fires.
timeout = _settings.worker_timeout_s
graceful_timeout = _settings.graceful_timeout_s
# Longer than the proxy's (and the load test's) idle keep-alive: otherwise a request sent on a connection the server
# is just closing gets no answer (measured: HTTP 0 errors on the first request after a pause, with 5 s).
keepalive = _settings.keepalive_s
# Recycle workers now and then so a slow leak can never grow without bound. Not too often: a new worker builds the
# app again (seconds of CPU) while the others carry its load; at 2,000 requests each worker of a busy state server
# restarted every minute or two (benchmarks/results/load.json).
max_requests = 20_000
max_requests_jitter = 2_000
accesslog = _settings.access_log or None
errorlog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = _settings.forwarded_allow_ips
preload_app = False


def on_starting(server: object) -> None:
    # A cache folder left by an earlier run may hold results of a warehouse since rebuilt with the same data version.
    if _cache_url.startswith("file://") and not _settings.cache_url:
        shutil.rmtree(Path(_cache_url.removeprefix("file://")), ignore_errors=True)


def post_worker_init(worker: object) -> None:
    # Dash sets itself up on its first request (it registers the pages' router callback then), which is not safe
    # with several threads: two first requests at once failed with "dictionary changed size during iteration".
    # One request before the worker accepts connections does the setup in one thread.
    from dashboard.runtime import settle_process

    app = getattr(worker, "wsgi", None)
    settle_process(app if app is not None and hasattr(app, "test_client") else None)
