"""gunicorn settings: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

Sized for the machine: a request is mostly Python (CPU-bound), with short waits on the
database; so about one worker process per core, each with a few threads to use those waits.
Every value can be changed from the environment (listed in the README's settings table).
"""

import multiprocessing
import os

_cores = multiprocessing.cpu_count()

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", str(_cores + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))  # also sizes the connection pool
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# A worker restarts after this many requests (0: never), a guard against slow leaks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# The app is imported once in the master and shared copy-on-write by the workers.
preload_app = True
# No access log unless asked for (GUNICORN_ACCESS_LOG=- for stdout, or a file).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_fork(server, worker):
    """Each worker opens its own database connections: drop any the master made while
    loading the app (a pooled connection must never be shared across processes)."""
    from app.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
