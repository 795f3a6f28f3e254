"""gunicorn settings for `arogya serve --prod` (or `gunicorn -c gunicorn.conf.py app:server`).

Workers come from the core count; each worker is a separate process with its own database pool, so the cache must
be shared (AROGYA_CACHE_URL=redis://...) for every worker to see the same cached results and invalidations.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("AROGYA_BIND", "127.0.0.1:8050")
workers = int(os.environ.get("AROGYA_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("AROGYA_THREADS", "2"))
worker_class = "gthread"
# A request that takes longer than this is cut off and its worker replaced: no hung workers.
timeout = int(os.environ.get("AROGYA_WORKER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = os.environ.get("AROGYA_ACCESS_LOG", "-")
errorlog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("AROGYA_FORWARDED_ALLOW_IPS", "127.0.0.1")
preload_app = False
