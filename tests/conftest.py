"""Shared fixtures: settings pointing at a temporary warehouse, on SQLite always and on PostgreSQL when
``AROGYA_TEST_DATABASE_URL`` is set (the `postgres` marker selects those runs: `make test-postgres`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from etl.settings import Settings
from etl.warehouse.engine import make_engine
from etl.warehouse.migrate import upgrade
from etl.warehouse.schema import metadata

PG_URL = os.environ.get("AROGYA_TEST_DATABASE_URL", "")
TEST_KEY = "test-pseudonym-key-0123456789abcdef0123456789abcdef"


def make_settings(tmp_path: Path, database_url: str | None = None) -> Settings:
    data_dir = tmp_path / "data"
    return Settings.from_env().with_(
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'arogya.sqlite'}",
        landing_dir=tmp_path / "landing",
        pseudonym_key=TEST_KEY,
        pseudonym_key_file=tmp_path / "keys" / "pseudonym.key",
        cache_url="",
        quiet=True,
        batch_rows=50_000,
    )


def reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set"),
    ]),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(tmp_path: Path, backend: str) -> Settings:
    return make_settings(tmp_path, PG_URL if backend == "postgres" else None)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    if engine.dialect.name == "postgresql":
        reset_postgres(engine)
    upgrade(engine)
    yield engine
    engine.dispose()
