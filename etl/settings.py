"""The one place configuration is read.

Every setting comes from an ``AROGYA_*`` environment variable, with defaults that run the embedded demo on a
SQLite file under ``data/``. Both the ETL and the dashboard take a ``Settings`` object; nothing else reads
``os.environ``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(f"AROGYA_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"AROGYA_{name}")
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"AROGYA_{name} must be a whole number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"AROGYA_{name}")
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(f"AROGYA_{name}", "").strip().lower() or default
    if raw not in choices:
        raise ValueError(f"AROGYA_{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class Settings:
    """Typed settings. Build with ``Settings.from_env()``; override fields with ``settings.with_(...)``."""

    data_dir: Path = field(default=PROJECT_ROOT / "data")
    database_url: str = ""
    landing_dir: Path = field(default=PROJECT_ROOT / "data" / "landing")
    pseudonym_key: str = ""
    pseudonym_key_file: Path = field(default=Path.home() / ".config" / "arogya" / "pseudonym.key")
    cache_url: str = ""
    cache_timeout_s: int = 300
    secret_key: str = ""
    environment: str = "development"
    batch_rows: int = 50_000
    etl_prefetch: bool = True
    etl_bulk_indexes: str = "auto"
    sqlite_busy_timeout_ms: int = 30_000
    api_sources: str = ""
    watch_interval_s: int = 300
    http_timeout_s: int = 30
    http_retries: int = 4
    quiet: bool = False
    geo_dir: Path = field(default=PROJECT_ROOT / "data" / "geo")
    today: str = ""
    session_hours: int = 8
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    login_rate_per_minute: int = 10
    auth_recheck_s: int = 2
    suppression_k: int = 5
    audit_retention_days: int = 365
    trusted_proxies: int = 0
    live_offline_minutes: int = 15
    live_queue_threshold: int = 20
    live_refresh_s: int = 10
    alert_webhook_url: str = ""
    alert_webhook_secret: str = ""
    alert_email_to: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "arogya-alerts@localhost"
    smtp_security: str = "none"
    public_url: str = ""
    report_chromium: str = "/usr/bin/chromium"
    report_timeout_s: int = 45
    report_max_renders: int = 2
    # Serving (gunicorn.conf.py) and the database's timeouts.
    bind: str = "127.0.0.1:8050"
    workers: int = 0
    threads: int = 4
    worker_timeout_s: int = 60
    graceful_timeout_s: int = 30
    keepalive_s: int = 75
    access_log: str = "-"
    forwarded_allow_ips: str = "127.0.0.1"
    db_connect_timeout_s: int = 5
    db_statement_timeout_s: int = 30

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("DATA_DIR", str(PROJECT_ROOT / "data")))
        database_url = _env("DATABASE_URL", "") or f"sqlite:///{data_dir / 'arogya.sqlite'}"
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            landing_dir=Path(_env("LANDING_DIR", str(data_dir / "landing"))),
            pseudonym_key=_env("PSEUDONYM_KEY", ""),
            pseudonym_key_file=Path(
                _env("PSEUDONYM_KEY_FILE", str(Path.home() / ".config" / "arogya" / "pseudonym.key"))
            ),
            cache_url=_env("CACHE_URL", ""),
            cache_timeout_s=_env_int("CACHE_TIMEOUT", 300),
            secret_key=_env("SECRET_KEY", ""),
            environment=_env("ENV", "development"),
            batch_rows=_env_int("BATCH_ROWS", 50_000),
            etl_prefetch=_env_bool("ETL_PREFETCH", True),
            etl_bulk_indexes=_env_choice("ETL_BULK_INDEXES", "auto", ("auto", "always", "never")),
            sqlite_busy_timeout_ms=_env_int("SQLITE_BUSY_TIMEOUT_MS", 30_000),
            api_sources=_env("API_SOURCES", ""),
            watch_interval_s=_env_int("WATCH_INTERVAL", 300),
            http_timeout_s=_env_int("HTTP_TIMEOUT", 30),
            http_retries=_env_int("HTTP_RETRIES", 4),
            quiet=_env_bool("QUIET", False),
            geo_dir=Path(_env("GEO_DIR", str(PROJECT_ROOT / "data" / "geo"))),
            today=_env("TODAY", ""),
            session_hours=_env_int("SESSION_HOURS", 8),
            login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5),
            login_lockout_minutes=_env_int("LOGIN_LOCKOUT_MINUTES", 15),
            login_rate_per_minute=_env_int("LOGIN_RATE_PER_MINUTE", 10),
            auth_recheck_s=_env_int("AUTH_RECHECK_S", 2),
            suppression_k=_env_int("SUPPRESSION_K", 5),
            audit_retention_days=_env_int("AUDIT_RETENTION_DAYS", 365),
            trusted_proxies=_env_int("TRUSTED_PROXIES", 0),
            live_offline_minutes=_env_int("LIVE_OFFLINE_MINUTES", 15),
            live_queue_threshold=_env_int("LIVE_QUEUE_THRESHOLD", 20),
            live_refresh_s=max(10, _env_int("LIVE_REFRESH_S", 10)),
            alert_webhook_url=_env("ALERT_WEBHOOK_URL", ""),
            alert_webhook_secret=_env("ALERT_WEBHOOK_SECRET", ""),
            alert_email_to=_env("ALERT_EMAIL_TO", ""),
            smtp_host=_env("SMTP_HOST", ""),
            smtp_port=_env_int("SMTP_PORT", 25),
            smtp_user=_env("SMTP_USER", ""),
            smtp_password=_env("SMTP_PASSWORD", ""),
            smtp_from=_env("SMTP_FROM", "arogya-alerts@localhost"),
            smtp_security=_env("SMTP_SECURITY", "none"),
            public_url=_env("PUBLIC_URL", ""),
            report_chromium=_env("REPORT_CHROMIUM", "/usr/bin/chromium"),
            report_timeout_s=max(5, _env_int("REPORT_TIMEOUT", 45)),
            report_max_renders=max(1, _env_int("REPORT_MAX_RENDERS", 2)),
            bind=_env("BIND", "127.0.0.1:8050"),
            workers=max(0, _env_int("WORKERS", 0)),
            threads=max(1, _env_int("THREADS", 4)),
            worker_timeout_s=max(1, _env_int("WORKER_TIMEOUT", 60)),
            graceful_timeout_s=max(1, _env_int("GRACEFUL_TIMEOUT", 30)),
            keepalive_s=max(1, _env_int("KEEPALIVE", 75)),
            access_log=_env("ACCESS_LOG", "-"),
            forwarded_allow_ips=_env("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            db_connect_timeout_s=max(1, _env_int("DB_CONNECT_TIMEOUT", 5)),
            db_statement_timeout_s=max(0, _env_int("DB_STATEMENT_TIMEOUT", 30)),
        )

    def api_token(self, env_name: str | None) -> str | None:
        """A partner API's bearer token, from the environment variable its source config names."""
        return os.environ.get(env_name) if env_name else None

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @property
    def archive_dir(self) -> Path:
        return self.landing_dir / "archive"

    @property
    def rejected_dir(self) -> Path:
        return self.landing_dir / "rejected"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def worker_count(self) -> int:
        """gunicorn workers: ``workers`` if set, else one per core (at least two). The callbacks are CPU-bound and
        every worker keeps its own pool and single-flight state: more processes than cores only add queueing and
        duplicated work (measured in benchmarks/results/load.json)."""
        return self.workers or max(2, os.cpu_count() or 1)

    @property
    def served_cache_url(self) -> str:
        """The cache gunicorn's workers use: ``cache_url`` if set, else a folder of files under ``data_dir`` that
        all workers of this host share (per-process caches would each compute and hold every result again, and
        miss each other's sign-outs). ``simple://`` asks for the per-process cache anyway."""
        return self.cache_url or f"file://{self.data_dir / 'cache'}"


SETTINGS_DOC: dict[str, str] = {
    "AROGYA_DATA_DIR": "Folder for the embedded SQLite warehouse, landing folder and lock files (default: data/).",
    "AROGYA_DATABASE_URL": "SQLAlchemy URL of the warehouse (default: sqlite:///data/arogya.sqlite; "
    "production: postgresql+psycopg://user@host/db).",
    "AROGYA_LANDING_DIR": "Drop folder the ETL reads exports from (default: data/landing).",
    "AROGYA_PSEUDONYM_KEY": "Secret key for HMAC tokens of patient ids; if unset, a key file is used.",
    "AROGYA_PSEUDONYM_KEY_FILE": "Key file, created with mode 0600 on first run "
    "(default: ~/.config/arogya/pseudonym.key).",
    "AROGYA_CACHE_URL": "redis://host:6379/0 for a cache shared by all workers and hosts; file:///path for a folder "
    "shared by the workers of one host; simple:// for a cache per process (default: in-process for `arogya serve`, "
    "a folder under AROGYA_DATA_DIR for gunicorn's workers).",
    "AROGYA_CACHE_TIMEOUT": "Seconds a cached query result lives (default 300).",
    "AROGYA_SECRET_KEY": "Flask secret key; required when AROGYA_ENV=production.",
    "AROGYA_ENV": "development (default) or production.",
    "AROGYA_BATCH_ROWS": "Rows per ETL transaction (default 50000).",
    "AROGYA_ETL_PREFETCH": "1 (default): with two or more cores, two reader processes read and transform the next "
    "consultation files while the ETL writes, and after a bulk load a child computes the running totals while the "
    "indexes are rebuilt; 0: one process.",
    "AROGYA_ETL_BULK_INDEXES": "auto (default): a load of at least 200,000 consultations and at least as many as "
    "are stored sets the fact and rollup indexes aside and rebuilds them at the end; always; never.",
    "AROGYA_SQLITE_BUSY_TIMEOUT_MS": "How long a SQLite writer waits for a lock (default 30000).",
    "AROGYA_API_SOURCES": "JSON file describing partner HTTP APIs to poll (see README).",
    "AROGYA_WATCH_INTERVAL": "Seconds between polls of `arogya etl watch` (default 300).",
    "AROGYA_HTTP_TIMEOUT": "Seconds before an API request times out (default 30).",
    "AROGYA_HTTP_RETRIES": "Retries (with exponential backoff) for a failing API request (default 4).",
    "AROGYA_QUIET": "1 to hide progress bars.",
    "AROGYA_GEO_DIR": "Folder of the boundary GeoJSON files the dashboard serves (default: data/geo).",
    "AROGYA_TODAY": "Pin the dashboard's \"today\" (YYYY-MM-DD) for period presets, e.g. to show an old demo "
    "(default: the current date in IST).",
    "AROGYA_SESSION_HOURS": "Hours a dashboard login lasts before the user must sign in again (default 8).",
    "AROGYA_LOGIN_MAX_FAILURES": "Failed logins in a row that lock an account (default 5).",
    "AROGYA_LOGIN_LOCKOUT_MINUTES": "Minutes a locked account stays locked (default 15).",
    "AROGYA_LOGIN_RATE_PER_MINUTE": "Login attempts allowed per client address per minute (default 10).",
    "AROGYA_AUTH_RECHECK_S": "Seconds a signed-in user's record is trusted before it is read again, so a disabled "
    "user is shut out within this time (default 2).",
    "AROGYA_SUPPRESSION_K": "Small-cell threshold: patient-breakdown counts from 1 to k-1 are suppressed (default 5).",
    "AROGYA_AUDIT_RETENTION_DAYS": "Days the audit log is kept; `arogya audit purge` deletes only older rows "
    "(default 365, never less).",
    "AROGYA_LIVE_OFFLINE_MINUTES": "Minutes without a heartbeat, during service hours, before a facility shows "
    "offline on the live board (default 15).",
    "AROGYA_LIVE_QUEUE_THRESHOLD": "Queue length above which a queue alert is raised (default 20).",
    "AROGYA_LIVE_REFRESH_S": "Seconds between live board refreshes, never less than 10 (default 10).",
    "AROGYA_ALERT_WEBHOOK_URL": "Where alerts are POSTed as JSON (retried with backoff); empty: no webhook.",
    "AROGYA_ALERT_WEBHOOK_SECRET": "Key of the HMAC signature header on webhook calls.",
    "AROGYA_ALERT_EMAIL_TO": "Alert email recipients, comma-separated.",
    "AROGYA_SMTP_HOST": "SMTP server for alert email; empty: no email.",
    "AROGYA_SMTP_PORT": "SMTP port (default 25).",
    "AROGYA_SMTP_USER": "SMTP login user.",
    "AROGYA_SMTP_PASSWORD": "SMTP login password.",
    "AROGYA_SMTP_FROM": "Sender address of alert emails (default arogya-alerts@localhost).",
    "AROGYA_SMTP_SECURITY": "none, starttls or ssl (default none).",
    "AROGYA_PUBLIC_URL": "The dashboard's public address, for links in alerts.",
    "AROGYA_REPORT_CHROMIUM": "Chromium executable that prints the district review report as PDF and PNG "
    "(default /usr/bin/chromium; Debian package chromium). Without it only the print view works.",
    "AROGYA_REPORT_TIMEOUT": "Seconds a district report may take to render before it is stopped "
    "(default 45, at least 5).",
    "AROGYA_REPORT_MAX_RENDERS": "District reports rendered at the same time per web process; more wait for a "
    "free slot (default 2).",
    "AROGYA_TRUSTED_PROXIES": "Reverse proxies in front of the dashboard whose X-Forwarded-For/-Proto are trusted "
    "(default 0).",
    "AROGYA_BIND": "Address gunicorn listens on when started as `gunicorn -c gunicorn.conf.py app:server` "
    "(default 127.0.0.1:8050; `arogya serve --prod` takes --host/--port instead).",
    "AROGYA_WORKERS": "gunicorn worker processes (default 0: one per CPU core, at least two).",
    "AROGYA_THREADS": "Threads per gunicorn worker (default 4).",
    "AROGYA_WORKER_TIMEOUT": "Seconds a request may take before gunicorn replaces its worker (default 60).",
    "AROGYA_GRACEFUL_TIMEOUT": "Seconds a worker gets to finish its requests on restart or shutdown (default 30).",
    "AROGYA_KEEPALIVE": "Seconds gunicorn keeps an idle connection open (default 75). Keep it longer than the "
    "reverse proxy's idle timeout for upstream connections (nginx: 60 s), or a request sent on a connection the "
    "server is just closing fails.",
    "AROGYA_ACCESS_LOG": "Where gunicorn writes its access log: a file, - for standard output (default), or empty "
    "for none.",
    "AROGYA_FORWARDED_ALLOW_IPS": "Addresses of the reverse proxies gunicorn takes X-Forwarded-* headers from "
    "(default 127.0.0.1).",
    "AROGYA_DB_CONNECT_TIMEOUT": "Seconds to wait for a PostgreSQL connection before a page answers 503 "
    "(default 5).",
    "AROGYA_DB_STATEMENT_TIMEOUT": "Seconds a dashboard query may run on PostgreSQL before it is cancelled and the "
    "page answers 503 (default 30; 0: no limit). Keep it below AROGYA_WORKER_TIMEOUT. The ETL has no limit.",
}



def settings_markdown() -> str:
    """The settings as a Markdown table, for the README (`arogya settings --markdown`)."""
    rows = ["| variable | meaning |", "|---|---|"]
    rows += [f"| `{name}` | {text} |" for name, text in SETTINGS_DOC.items()]
    return "\n".join(rows)
