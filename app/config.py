"""Every setting of the application, read from the environment in one place.

Each name below is also an environment variable; the README lists them all.
"""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = ROOT / "instance"


def instance_dir() -> Path:
    """The folder of this installation's own files (INSTANCE_DIR, default ``instance/`` of the
    checkout): the SQLite database, the generated secret key, attachments and Celery's beat
    state go there unless their own settings say otherwise. Created when missing."""
    configured = os.environ.get("INSTANCE_DIR", "").strip()
    folder = Path(configured).expanduser().resolve() if configured else DEFAULT_INSTANCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(folder: Path) -> str:
    """SECRET_KEY from the environment, else one kept in the instance folder so sessions
    survive restarts."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _engine_options(url: str) -> dict:
    """SQLAlchemy pool: connections checked before use; on a server database, one connection
    per gunicorn thread plus one for the worker's background thread (DB_POOL_SIZE)."""
    options = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        return options  # one local file: SQLAlchemy's default pool for SQLite fits
    threads = int(os.environ.get("GUNICORN_THREADS", "4"))
    options.update(
        pool_size=int(os.environ.get("DB_POOL_SIZE", str(threads + 1))),
        max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", "2")),
        pool_timeout=float(os.environ.get("DB_POOL_TIMEOUT", "10")),
        pool_recycle=int(os.environ.get("DB_POOL_RECYCLE", "1800")),
    )
    if url.startswith("postgresql"):
        # An unreachable server fails a request (and /healthz) in seconds, not at the
        # operating system's TCP timeout of minutes.
        options["connect_args"] = {
            "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))}
    return options


def load_settings() -> dict:
    """Settings from the environment, with the embedded defaults (SQLite under the instance
    folder)."""
    folder = instance_dir()
    database_url = os.environ.get("DATABASE_URL", f"sqlite:///{folder / 'mesa.db'}")
    return {
        # This installation's own files (INSTANCE_DIR): the defaults below live there
        "INSTANCE_DIR": str(folder),
        # Database: any SQLAlchemy URL; PostgreSQL as postgresql+psycopg://user:pw@host/db
        "SQLALCHEMY_DATABASE_URI": database_url,
        # PostgreSQL: the role the app's transactions run as (SET LOCAL ROLE), created by the
        # migrations (with this same setting) and owning no table, so row-level security
        # applies to every query even when the URL's user (who owns the tables and runs the
        # migrations) is a superuser. "none": no switch (for a URL user that is neither owner
        # nor superuser: the policies apply to it as they are)
        "DATABASE_APP_ROLE": os.environ.get("DATABASE_APP_ROLE", "mesa_app"),
        "SECRET_KEY": _secret_key(folder),
        # Language of the interface when the user has not chosen one: es or en
        "BABEL_DEFAULT_LOCALE": os.environ.get("DEFAULT_LOCALE", "es"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("DEFAULT_TIMEZONE", "UTC"),
        # Cookies only over HTTPS; turn on behind TLS
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        # A login session of the pages ends this many hours after logging in, however busy
        # (SESSION_MAX_AGE_HOURS), and after this many minutes without a page request
        # (SESSION_IDLE_MINUTES; activity is recorded every few minutes, so an idle session may
        # end up to five minutes early)
        "SESSION_MAX_AGE_HOURS": float(os.environ.get("SESSION_MAX_AGE_HOURS", "12")),
        "SESSION_IDLE_MINUTES": float(os.environ.get("SESSION_IDLE_MINUTES", "120")),
        # Run due BPMN timers in a background thread of the web process
        "EMBEDDED_TIMERS": _bool("EMBEDDED_TIMERS", True),
        "TIMER_POLL_SECONDS": float(os.environ.get("TIMER_POLL_SECONDS", "15")),
        # Largest accepted request body (bytes)
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(5 * 1024 * 1024))),
        # Largest accepted BPMN diagram (bytes)
        "MAX_DIAGRAM_BYTES": int(os.environ.get("MAX_DIAGRAM_BYTES", str(1024 * 1024))),
        # What checking one diagram (validate, deploy) may cost: CPU seconds and memory (MB)
        # of the child process it runs in
        "DIAGRAM_CPU_SECONDS": float(os.environ.get("DIAGRAM_CPU_SECONDS", "3")),
        "DIAGRAM_MEMORY_MB": int(os.environ.get("DIAGRAM_MEMORY_MB", "256")),
        # CPU seconds the automatic steps of one engine call (filing, a completion, a timer,
        # a retry) may take before the request stops with an incident
        "STEP_CPU_SECONDS": float(os.environ.get("STEP_CPU_SECONDS", "2")),
        # Timers: the longest duration or farthest date a diagram may set (years), and the
        # shortest period of a repeating timer (seconds)
        "TIMER_MAX_YEARS": float(os.environ.get("TIMER_MAX_YEARS", "10")),
        "TIMER_MIN_CYCLE_SECONDS": int(os.environ.get("TIMER_MIN_CYCLE_SECONDS", "60")),
        # Failed logins allowed per e-mail and address within LOGIN_WINDOW_SECONDS
        "LOGIN_MAX_ATTEMPTS": int(os.environ.get("LOGIN_MAX_ATTEMPTS", "10")),
        "LOGIN_WINDOW_SECONDS": int(os.environ.get("LOGIN_WINDOW_SECONDS", "300")),
        # Passwords: argon2id's cost (memory in KiB, passes, lanes; RFC 9106's second choice by
        # default), the shortest new password, how long an invitation link (hours) and a reset
        # link (minutes) work, "forgot password" requests allowed per e-mail within
        # LOGIN_WINDOW_SECONDS (5 times more per address), and the least time its answer takes
        "PASSWORD_HASH_MEMORY_KIB": int(os.environ.get("PASSWORD_HASH_MEMORY_KIB", "65536")),
        "PASSWORD_HASH_TIME_COST": int(os.environ.get("PASSWORD_HASH_TIME_COST", "3")),
        "PASSWORD_HASH_PARALLELISM": int(os.environ.get("PASSWORD_HASH_PARALLELISM", "4")),
        "PASSWORD_MIN_LENGTH": int(os.environ.get("PASSWORD_MIN_LENGTH", "10")),
        "INVITE_LINK_HOURS": float(os.environ.get("INVITE_LINK_HOURS", "72")),
        "RESET_LINK_MINUTES": float(os.environ.get("RESET_LINK_MINUTES", "30")),
        "PASSWORD_RESET_MAX_REQUESTS": int(os.environ.get("PASSWORD_RESET_MAX_REQUESTS", "3")),
        "PASSWORD_RESET_MIN_SECONDS": float(os.environ.get("PASSWORD_RESET_MIN_SECONDS", "0.4")),
        # Lifetime of tokens from POST /api/v1/tokens, in hours
        "API_TOKEN_TTL_HOURS": int(os.environ.get("API_TOKEN_TTL_HOURS", "168")),
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust
        # (0: none). Needed behind a proxy so login limits count real client addresses.
        "PROXY_FIX_X_FOR": int(os.environ.get("PROXY_FIX_X_FOR", "0")),
        # Let webhooks call loopback/private addresses (tests, or receivers on an internal network)
        "WEBHOOK_ALLOW_PRIVATE_NETWORKS": _bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False),
        # Connection pool (DB_POOL_SIZE, DB_MAX_OVERFLOW, DB_POOL_TIMEOUT, DB_POOL_RECYCLE)
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        "WTF_CSRF_TIME_LIMIT": None,
        # Background work on Celery workers (e.g. redis://127.0.0.1:6379/0); unset: the web
        # processes run it themselves (EMBEDDED_TIMERS)
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", ""),
        "CELERY_BEAT_SCHEDULE_FILE": os.environ.get(
            "CELERY_BEAT_SCHEDULE_FILE", str(folder / "celerybeat-schedule")),
        # A claimed timer is left to its runner this long before another may claim it again
        "TIMER_LEASE_SECONDS": float(os.environ.get("TIMER_LEASE_SECONDS", "120")),
        # A claimed webhook delivery is left to its runner this long (at least 25 s)
        "WEBHOOK_LEASE_SECONDS": float(os.environ.get("WEBHOOK_LEASE_SECONDS", "300")),
        # Learned suggestion (app.suggestions): the newest settled requests a training reads,
        # the most words (stems) a model keeps, and how often runners look for companies
        # due a training (seconds; an admin's "train now" is taken at the next pass)
        "SUGGESTIONS_MAX_ROWS": int(os.environ.get("SUGGESTIONS_MAX_ROWS", "20000")),
        "SUGGESTIONS_MAX_FEATURES": int(os.environ.get("SUGGESTIONS_MAX_FEATURES", "10000")),
        "SUGGESTIONS_SWEEP_SECONDS": float(os.environ.get("SUGGESTIONS_SWEEP_SECONDS", "600")),
        # Links in messages point here (the address people open the service at)
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # Whom a suspended company's people are told to write to (an e-mail address); empty:
        # they are told to ask their administrator
        "OPERATOR_CONTACT": os.environ.get("OPERATOR_CONTACT", "").strip(),
        # E-mail: without SMTP_HOST, e-mails are kept as "not sent: e-mail not configured".
        # SMTP_TLS: none, starttls or ssl. MAIL_FROM: the sender address (a tenant's name is
        # shown with it)
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_TLS": os.environ.get("SMTP_TLS", "none").strip().lower(),
        "SMTP_TIMEOUT": float(os.environ.get("SMTP_TIMEOUT", "15")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "mesa@localhost"),
        # SMS through Twilio's Messages API: the account, and a sender number (E.164) or a
        # messaging service; TWILIO_BASE_URL only changes for tests
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID", ""),
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN", ""),
        "TWILIO_FROM": os.environ.get("TWILIO_FROM", ""),
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        "TWILIO_BASE_URL": os.environ.get("TWILIO_BASE_URL", "https://api.twilio.com"),
        # WhatsApp through Meta's Cloud API (template messages; each tenant names its templates)
        "WHATSAPP_PHONE_NUMBER_ID": os.environ.get("WHATSAPP_PHONE_NUMBER_ID", ""),
        "WHATSAPP_TOKEN": os.environ.get("WHATSAPP_TOKEN", ""),
        "WHATSAPP_BASE_URL": os.environ.get("WHATSAPP_BASE_URL",
                                            "https://graph.facebook.com/v21.0"),
        # A claimed e-mail, SMS or WhatsApp message is left to its runner this long (seconds)
        "MESSAGE_LEASE_SECONDS": float(os.environ.get("MESSAGE_LEASE_SECONDS", "300")),
        # /metrics: with a token, for "Authorization: Bearer <token>"; without, loopback only
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        # Celery workers serve their metrics on this port (0: not at all), on this address
        "WORKER_METRICS_PORT": int(os.environ.get("WORKER_METRICS_PORT", "0")),
        "WORKER_METRICS_ADDR": os.environ.get("WORKER_METRICS_ADDR", "127.0.0.1"),
        # Attachments (app.attachments): where files are kept, outside the web root, one folder
        # per company (ATTACHMENTS_DIR); with ATTACHMENTS_S3_BUCKET set, in that bucket of an
        # S3-compatible store instead (ATTACHMENTS_S3_ENDPOINT_URL for one that is not AWS,
        # ATTACHMENTS_S3_REGION, ATTACHMENTS_S3_ACCESS_KEY_ID / _SECRET_ACCESS_KEY or boto3's
        # usual credentials, ATTACHMENTS_S3_PREFIX before every key). The largest file
        # (ATTACHMENTS_MAX_FILE_MB), files in one upload (ATTACHMENTS_MAX_FILES); an office
        # file (a zip) may hold at most ATTACHMENTS_ZIP_MAX_UNCOMPRESSED_MB once unpacked and
        # unpack at most ATTACHMENTS_ZIP_MAX_RATIO times its size; an image at most
        # ATTACHMENTS_IMAGE_MAX_PIXELS pixels (thumbnails of at most
        # ATTACHMENTS_THUMBNAIL_PIXELS pixels' images that are not JPEG)
        "ATTACHMENTS_DIR": os.environ.get("ATTACHMENTS_DIR", str(folder / "attachments")),
        "ATTACHMENTS_S3_BUCKET": os.environ.get("ATTACHMENTS_S3_BUCKET", ""),
        "ATTACHMENTS_S3_ENDPOINT_URL": os.environ.get("ATTACHMENTS_S3_ENDPOINT_URL", ""),
        "ATTACHMENTS_S3_REGION": os.environ.get("ATTACHMENTS_S3_REGION", ""),
        "ATTACHMENTS_S3_ACCESS_KEY_ID": os.environ.get("ATTACHMENTS_S3_ACCESS_KEY_ID", ""),
        "ATTACHMENTS_S3_SECRET_ACCESS_KEY": os.environ.get("ATTACHMENTS_S3_SECRET_ACCESS_KEY",
                                                           ""),
        "ATTACHMENTS_S3_PREFIX": os.environ.get("ATTACHMENTS_S3_PREFIX", "").strip("/"),
        "ATTACHMENTS_MAX_FILE_MB": float(os.environ.get("ATTACHMENTS_MAX_FILE_MB", "10")),
        "ATTACHMENTS_MAX_FILES": int(os.environ.get("ATTACHMENTS_MAX_FILES", "5")),
        "ATTACHMENTS_ZIP_MAX_UNCOMPRESSED_MB": float(
            os.environ.get("ATTACHMENTS_ZIP_MAX_UNCOMPRESSED_MB", "100")),
        "ATTACHMENTS_ZIP_MAX_RATIO": float(os.environ.get("ATTACHMENTS_ZIP_MAX_RATIO", "100")),
        "ATTACHMENTS_IMAGE_MAX_PIXELS": int(
            os.environ.get("ATTACHMENTS_IMAGE_MAX_PIXELS", str(64_000_000))),
        "ATTACHMENTS_THUMBNAIL_PIXELS": int(
            os.environ.get("ATTACHMENTS_THUMBNAIL_PIXELS", str(16_000_000))),
        # Logs: text, or json (one object per line, and one line per web request)
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text").strip().lower(),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").strip().upper(),
    }
