"""The dashboard never creates a SQLite warehouse: a missing file is an outage, not an empty warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from etl.settings import Settings
from etl.warehouse.engine import make_engine
from tests.conftest import make_settings


@pytest.mark.parametrize("kind", ["reader", "dashboard writer"])
def test_prod008_dashboard_engines_do_not_create_a_missing_sqlite_warehouse(tmp_path: Path, kind: str) -> None:
    missing = tmp_path / "volume" / "arogya.sqlite"
    settings = make_settings(tmp_path).with_(database_url=f"sqlite:///{missing}")
    engine = make_engine(settings, read_only=True) if kind == "reader" else make_engine(settings, create=False)
    with pytest.raises(OperationalError, match="unable to open"):
        engine.connect()
    assert not missing.exists() and not missing.parent.exists()


def test_prod009_the_etl_engine_creates_the_warehouse_and_the_dashboard_then_opens_it(tmp_path: Path) -> None:
    path = tmp_path / "data" / "arogya.sqlite"
    settings: Settings = make_settings(tmp_path).with_(database_url=f"sqlite:///{path}")
    with make_engine(settings).begin() as conn:
        conn.execute(text("CREATE TABLE probe (x INTEGER)"))
        conn.execute(text("INSERT INTO probe VALUES (7)"))
    assert path.is_file()
    with make_engine(settings, read_only=True).connect() as conn:
        assert conn.execute(text("SELECT x FROM probe")).scalar() == 7
    with make_engine(settings, create=False).begin() as conn:
        conn.execute(text("INSERT INTO probe VALUES (8)"))
