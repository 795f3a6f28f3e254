"""The ETL benchmark's own measures (benchmarks/etl.py): the write floor copies what it says it copies, and the day
held out for the incremental run leaves a short demo its other days."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest

from etl.load.runner import EtlRunner
from etl.settings import Settings
from etl.warehouse.engine import make_engine
from etl.warehouse.migrate import upgrade
from tests.integration.etl_files import (
    CONSULTATION_HEADER,
    FACILITIES,
    FACILITY_HEADER,
    consultation_rows,
    write_csv,
)

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "etl.py"


@pytest.fixture(scope="module")
def benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("etl_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_etl075_write_floor_copies_every_row_of_the_required_tables_and_builds_their_indexes(
        benchmark: ModuleType, sqlite_settings: Settings, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    write_csv(sqlite_settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    for n, day in enumerate(("2025-08-01", "2025-08-02")):
        write_csv(sqlite_settings.landing_dir / f"consultations_{day}.csv", CONSULTATION_HEADER,
                  consultation_rows(120, day=day, prefix=f"D{n}-"))
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    EtlRunner(sqlite_settings, engine).run_landing()
    engine.dispose()
    warehouse = sqlite_settings.data_dir / "arogya.sqlite"
    with sqlite3.connect(warehouse) as source:
        stored = {name: source.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                  for name in benchmark.FLOOR_TABLES}
    assert stored["fact_consultation"] == 240 and all(stored.values())

    copies: dict[str, dict[str, int]] = {}
    unlink = Path.unlink

    def look_then_unlink(path: Path, missing_ok: bool = False) -> None:
        if path.name == "floor.sqlite":
            with sqlite3.connect(path) as copy:
                for name in benchmark.FLOOR_TABLES:
                    indexes = {row[1] for row in copy.execute(f"PRAGMA index_list({name})")
                               if not row[1].startswith("sqlite_autoindex")}
                    copies[name] = {"rows": copy.execute(f"SELECT count(*) FROM {name}").fetchone()[0],
                                    "indexes": len(indexes)}
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", look_then_unlink)
    floor = benchmark.write_floor(warehouse, tmp_path)
    assert {name: t["rows"] for name, t in floor["tables"].items()} == stored
    from etl.warehouse.schema import metadata
    assert copies == {name: {"rows": stored[name], "indexes": len(metadata.tables[name].indexes)}
                      for name in benchmark.FLOOR_TABLES}
    assert not (tmp_path / "floor.sqlite").exists()
    assert floor["seconds"] == pytest.approx(
        sum(t["insert_seconds"] + t["index_seconds"] for t in floor["tables"].values()), abs=0.06)


def _days(folder: Path, lines: dict[str, int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for day, n in lines.items():
        (folder / f"consultations_{day}.csv").write_text("header\n" + "row\n" * n, encoding="utf-8")


def test_etl076_a_short_demo_holds_out_only_its_last_full_day(benchmark: ModuleType, tmp_path: Path) -> None:
    days = {f"2025-08-{d:02d}": 100 - d for d in range(1, 11)}  # the first days are the busiest
    _days(tmp_path, days)
    held_out, later = benchmark.incremental_day(tmp_path)
    assert held_out.name == "consultations_2025-08-09.csv"
    assert [p.name for p in later] == ["consultations_2025-08-10.csv"]


def test_etl076_a_long_demo_holds_out_the_busiest_day_of_its_last_week(benchmark: ModuleType,
                                                                       tmp_path: Path) -> None:
    days = {f"2025-08-{d:02d}": 100 for d in range(1, 31)}
    days["2025-08-25"] = 150
    days["2025-08-20"] = 200  # before the last week
    _days(tmp_path, days)
    held_out, later = benchmark.incremental_day(tmp_path)
    assert held_out.name == "consultations_2025-08-25.csv"
    assert [p.name for p in later] == [f"consultations_2025-08-{d}.csv" for d in range(26, 31)]
