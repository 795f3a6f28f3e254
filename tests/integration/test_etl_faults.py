"""Faults: a load killed mid-file, a second concurrent run, partner APIs that fail, and the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select

from etl.load.lock import EtlBusy, etl_lock
from etl.load.runner import EtlRunner
from etl.settings import Settings
from etl.sources.http_api import ApiSourceConfig
from etl.warehouse.engine import make_engine
from etl.warehouse.migrate import alembic_config, upgrade
from etl.warehouse.schema import etl_run, fact_consultation, rollup_facility_day, source_watermark
from tests.conftest import PG_URL, TEST_KEY, make_settings, reset_postgres
from tests.fixtures.api_server import FixtureApi
from tests.integration.etl_files import (
    CONSULTATION_HEADER,
    FACILITIES,
    FACILITY_HEADER,
    consultation_rows,
    table_checksum,
    write_csv,
)
from tests.integration.test_etl_load import ROLLUPS

ROOT = Path(__file__).resolve().parents[2]


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AROGYA_")}
    env.update({
        "AROGYA_DATABASE_URL": settings.database_url, "AROGYA_DATA_DIR": str(settings.data_dir),
        "AROGYA_LANDING_DIR": str(settings.landing_dir), "AROGYA_PSEUDONYM_KEY": TEST_KEY, "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def arogya(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "arogya_cli", *args], env=cli_env(settings, **extra), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def _big_day(settings: Settings, rows: int) -> None:
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    days = [f"2025-08-{d:02d}" for d in range(1, 11)]
    all_rows: list[list[str]] = []
    for d in days:
        all_rows += consultation_rows(rows // len(days), day=d, prefix=f"K{d[-2:]}-")
    write_csv(settings.landing_dir / "consultations_big.csv", CONSULTATION_HEADER, all_rows)


def _checksums(engine: Engine) -> dict[str, str]:
    return {t.name: table_checksum(engine, t) for t in (fact_consultation, *ROLLUPS)}


def test_etl030_sigkill_mid_file_then_rerun_equals_uninterrupted(tmp_path: Path, backend: str) -> None:
    if backend == "postgres":
        pytest.skip("the kill/rerun test runs on SQLite; PostgreSQL batches are the same code")
    killed = make_settings(tmp_path / "killed")
    clean = make_settings(tmp_path / "clean")
    for s in (killed, clean):
        _big_day(s, 60_000)
    proc = subprocess.Popen([sys.executable, "-m", "arogya_cli", "etl", "run", "--quiet"],
                            env=cli_env(killed, AROGYA_BATCH_ROWS="2000"), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = make_engine(killed)
    deadline = time.time() + 120
    loaded = 0
    while time.time() < deadline and proc.poll() is None:
        try:
            with engine.connect() as conn:
                loaded = conn.execute(select(func.coalesce(func.max(etl_run.c.rows_loaded), 0)).where(
                    etl_run.c.dataset == "consultations")).scalar() or 0
        except Exception:  # the tables may not exist yet
            loaded = 0
        if loaded >= 6000:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the load finished before it could be killed; make the file bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with engine.connect() as conn:
        partial = conn.execute(select(func.count()).select_from(fact_consultation)).scalar()
    assert 0 < partial < 60_000
    assert arogya(killed, "etl", "run", "--quiet").returncode == 0
    assert arogya(clean, "etl", "run", "--quiet").returncode == 0
    clean_engine = make_engine(clean)
    assert _checksums(engine) == _checksums(clean_engine)
    with engine.connect() as conn:
        statuses = [r for r in conn.execute(select(etl_run.c.status).where(
            etl_run.c.file_name == "consultations_big.csv").order_by(etl_run.c.run_id)).scalars()]
    assert statuses == ["interrupted", "loaded"]


def test_etl031_second_run_exits_with_a_clear_message_while_one_holds_the_lock(settings: Settings,
                                                                              engine: Engine) -> None:
    with etl_lock(engine, settings.data_dir):
        with pytest.raises(EtlBusy):
            with etl_lock(engine, settings.data_dir):
                pass
        result = arogya(settings, "etl", "run")
        assert result.returncode == 3 and "another ETL run" in result.stderr


def test_etl061_rebuild_and_upgrade_wait_for_a_running_etl(settings: Settings, engine: Engine) -> None:
    """Rebuilding the rollups or migrating while a load writes them would mix two writers of the same tables:
    both commands take the ETL's lock, exit 3 while a run holds it, and go ahead once it is free."""
    upgrade(engine)
    with etl_lock(engine, settings.data_dir):
        for command in (("etl", "rebuild-rollups"), ("db", "upgrade")):
            result = arogya(settings, *command)
            assert result.returncode == 3 and "another ETL run" in result.stderr, (command, result.stderr)
    assert arogya(settings, "etl", "rebuild-rollups", "--wait").returncode == 0
    assert arogya(settings, "db", "upgrade", "--wait").returncode == 0


def _api_records(n: int) -> list[dict[str, object]]:
    header = CONSULTATION_HEADER
    out = []
    for i, row in enumerate(consultation_rows(n, prefix="A")):
        record: dict[str, object] = dict(zip(header, row, strict=True))
        record["Age"] = int(row[5])
        record["updated_at"] = f"2025-08-01T10:{i // 60:02d}:{i % 60:02d}"
        out.append(record)
    return out


def _load_masters(settings: Settings, engine: Engine) -> EtlRunner:
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    runner = EtlRunner(settings, engine)
    runner.run_landing()
    return runner


@pytest.mark.parametrize("mode", ["page", "cursor"])
def test_etl032_api_pages_load_once_and_the_watermark_advances(settings: Settings, engine: Engine,
                                                              mode: str) -> None:
    runner = _load_masters(settings, engine)
    records = _api_records(230)
    with FixtureApi(records, page_size=50, mode=mode) as api:
        config = ApiSourceConfig(name="esanjeevani", dataset="consultations", url=api.url, pagination=mode,
                                 page_size=50)
        first = runner.run_api(config)
        assert first.status == "loaded" and first.counts.loaded == 230
        # The stored watermark is the newest timestamp certainly complete (one below the last record's), so the
        # next run asks from there and re-reads only the record(s) at the last timestamp, which changes nothing.
        again = runner.run_api(config)
        assert again.status == "loaded" and again.counts.loaded == 1
        assert any("updated_since=2025-08-01T10%3A03%3A48" in r or "updated_since=2025-08-01T10:03:48" in r
                   for r in api.requests)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact_consultation)).scalar() == 230
        assert conn.execute(select(source_watermark.c.watermark)).scalar() == "2025-08-01T10:03:48"


def test_etl033_api_500_then_200_is_retried(settings: Settings, engine: Engine) -> None:
    runner = _load_masters(settings, engine)
    runner.settings = settings.with_(http_retries=3)
    with FixtureApi(_api_records(120), page_size=50) as api:
        api.fail_next(status=500, times=1)
        config = ApiSourceConfig(name="feed", dataset="consultations", url=api.url, page_size=50)
        outcome = runner.run_api(config)
    assert outcome.status == "loaded" and outcome.counts.loaded == 120


def test_etl034_malformed_json_fails_clearly_and_keeps_earlier_pages(settings: Settings, engine: Engine) -> None:
    runner = _load_masters(settings, engine)
    runner.settings = settings.with_(http_retries=1)
    records = _api_records(150)
    config_for = lambda url: ApiSourceConfig(name="feed", dataset="consultations", url=url, page_size=50)  # noqa: E731
    with FixtureApi(records, page_size=50) as api:
        # Once page 1 is committed, every later answer is broken JSON.
        runner.progress = lambda what, rows: api.malformed_next(times=10)
        outcome = runner.run_api(config_for(api.url))
    assert outcome.status == "failed" and "JSON" in outcome.message
    with engine.connect() as conn:
        loaded = conn.execute(select(func.count()).select_from(fact_consultation)).scalar()
        watermark = conn.execute(select(source_watermark.c.watermark)).scalar()
        status, message = conn.execute(select(etl_run.c.status, etl_run.c.message).where(
            etl_run.c.run_id == outcome.run_id)).one()
    assert loaded == 50 and watermark == records[48]["updated_at"]
    assert status == "failed" and "JSON" in message
    # The next run resumes after the watermark and completes.
    runner.progress = lambda what, rows: None
    with FixtureApi(records, page_size=50) as api:
        outcome = runner.run_api(config_for(api.url))
    assert outcome.status == "loaded" and outcome.counts.loaded == 101  # record 50 is read again, harmlessly
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact_consultation)).scalar() == 150


def test_etl035_cli_run_report_and_rejected_exit_code(settings: Settings, engine: Engine) -> None:
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    write_csv(settings.landing_dir / "consultations_ok.csv", CONSULTATION_HEADER, consultation_rows(20))
    (settings.landing_dir / "consultations_empty.csv").write_bytes(b"")
    result = arogya(settings, "etl", "run", "--quiet")
    assert result.returncode == 1 and "REJECTED" in result.stderr and "empty" in result.stderr
    report = arogya(settings, "etl", "report")
    assert report.returncode == 0 and "consultations_ok.csv" in report.stdout and "rejected" in report.stdout
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rollup_facility_day)).scalar() > 0


def test_etl036_db_upgrade_is_idempotent(settings: Settings, engine: Engine) -> None:
    upgrade(engine)
    result = arogya(settings, "db", "upgrade")
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert result.returncode == 0 and f"revision {head}" in result.stdout


@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
@pytest.mark.postgres
def test_etl037_postgres_advisory_lock_excludes_a_second_run(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, PG_URL)
    engine = make_engine(settings)
    reset_postgres(engine)
    upgrade(engine)
    with etl_lock(engine, settings.data_dir):
        with pytest.raises(EtlBusy):
            with etl_lock(make_engine(settings), settings.data_dir):
                pass


def test_etl038_watch_once_loads_the_drop_folder(settings: Settings, engine: Engine) -> None:
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    write_csv(settings.landing_dir / "consultations_w.csv", CONSULTATION_HEADER, consultation_rows(25))
    result = arogya(settings, "etl", "watch", "--once", "--quiet")
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact_consultation)).scalar() == 25
