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
    sqlite_busy_timeout_ms: int = 30_000
    api_sources: str = ""
    watch_interval_s: int = 300
    http_timeout_s: int = 30
    http_retries: int = 4
    quiet: bool = False
    geo_dir: Path = field(default=PROJECT_ROOT / "data" / "geo")
    today: str = ""

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
            sqlite_busy_timeout_ms=_env_int("SQLITE_BUSY_TIMEOUT_MS", 30_000),
            api_sources=_env("API_SOURCES", ""),
            watch_interval_s=_env_int("WATCH_INTERVAL", 300),
            http_timeout_s=_env_int("HTTP_TIMEOUT", 30),
            http_retries=_env_int("HTTP_RETRIES", 4),
            quiet=_env_bool("QUIET", False),
            geo_dir=Path(_env("GEO_DIR", str(PROJECT_ROOT / "data" / "geo"))),
            today=_env("TODAY", ""),
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


SETTINGS_DOC: dict[str, str] = {
    "AROGYA_DATA_DIR": "Folder for the embedded SQLite warehouse, landing folder and lock files (default: data/).",
    "AROGYA_DATABASE_URL": "SQLAlchemy URL of the warehouse (default: sqlite:///data/arogya.sqlite; "
    "production: postgresql+psycopg://user@host/db).",
    "AROGYA_LANDING_DIR": "Drop folder the ETL reads exports from (default: data/landing).",
    "AROGYA_PSEUDONYM_KEY": "Secret key for HMAC tokens of patient ids; if unset, a key file is used.",
    "AROGYA_PSEUDONYM_KEY_FILE": "Key file, created with mode 0600 on first run "
    "(default: ~/.config/arogya/pseudonym.key).",
    "AROGYA_CACHE_URL": "redis://host:6379/0 for a cache shared by all workers (default: in-process cache).",
    "AROGYA_CACHE_TIMEOUT": "Seconds a cached query result lives (default 300).",
    "AROGYA_SECRET_KEY": "Flask secret key; required when AROGYA_ENV=production.",
    "AROGYA_ENV": "development (default) or production.",
    "AROGYA_BATCH_ROWS": "Rows per ETL transaction (default 50000).",
    "AROGYA_SQLITE_BUSY_TIMEOUT_MS": "How long a SQLite writer waits for a lock (default 30000).",
    "AROGYA_API_SOURCES": "JSON file describing partner HTTP APIs to poll (see README).",
    "AROGYA_WATCH_INTERVAL": "Seconds between polls of `arogya etl watch` (default 300).",
    "AROGYA_HTTP_TIMEOUT": "Seconds before an API request times out (default 30).",
    "AROGYA_HTTP_RETRIES": "Retries (with exponential backoff) for a failing API request (default 4).",
    "AROGYA_QUIET": "1 to hide progress bars.",
    "AROGYA_GEO_DIR": "Folder of the boundary GeoJSON files the dashboard serves (default: data/geo).",
    "AROGYA_TODAY": "Pin the dashboard's \"today\" (YYYY-MM-DD) for period presets, e.g. to show an old demo "
    "(default: the current date in IST).",
}



def settings_markdown() -> str:
    """The settings as a Markdown table, for the README (`arogya settings --markdown`)."""
    rows = ["| variable | meaning |", "|---|---|"]
    rows += [f"| `{name}` | {text} |" for name, text in SETTINGS_DOC.items()]
    return "\n".join(rows)
