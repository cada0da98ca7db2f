"""The Celery application, built from the Flask app factory.

    celery -A app.celery_app worker --beat      one machine: a worker with the schedule
    celery -A app.celery_app worker             more workers, anywhere
    celery -A app.celery_app beat               the schedule, in one place (two are harmless)

``CELERY_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/0``) must be set, for the workers and for
the web nodes (which then leave background work to the workers). Every task runs inside an app
context with its own database session. Results are not stored: the tasks' effects are rows.
"""

from celery.signals import setup_logging, worker_ready

from app import create_app
from app.tasks import make_celery

flask_app = create_app()
celery = make_celery(flask_app)


def _keep_app_logging(**_kwargs) -> None:
    """LOG_FORMAT=json: create_app already sent every log record to the JSON handler; a
    receiver of this signal stops Celery from replacing it with its own setup."""


if flask_app.config["LOG_FORMAT"] == "json":
    setup_logging.connect(_keep_app_logging, weak=False)


@worker_ready.connect
def _worker_metrics(**_kwargs):
    """WORKER_METRICS_PORT: serve this machine's worker metrics (timers fired, their lag,
    webhook sends) for Prometheus, from the worker's main process."""
    port = flask_app.config["WORKER_METRICS_PORT"]
    if not port:
        return
    import os

    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # prefork children write their samples there
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=flask_app.config["WORKER_METRICS_ADDR"], registry=registry)

