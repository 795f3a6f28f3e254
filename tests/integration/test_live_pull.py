"""Pull mode: the ETL polls a status feed URL (paginated JSON, the same contract as the ingest API) with its watermark;
the events land in fact_status_event and move current_status like posted ones. Also through `arogya etl run --api`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from etl.load.runner import EtlRunner
from etl.settings import Settings
from etl.sources.http_api import ApiSourceConfig
from etl.transform.context import now_ist
from etl.warehouse.schema import current_status, fact_status_event, quarantine, source_watermark
from tests.fixtures.api_server import FixtureApi
from tests.integration.etl_files import FACILITIES, FACILITY_HEADER, write_csv

ROOT = Path(__file__).resolve().parents[2]


def feed(n: int, start_minutes_ago: int = 120) -> list[dict]:
    base = now_ist().replace(microsecond=0) - timedelta(minutes=start_minutes_ago)
    out = []
    for i in range(n):
        when = base + timedelta(minutes=i)
        out.append({"event_id": f"FEED-{i:05d}", "facility_id": ("H1", "H2", "S1")[i % 3],
                    "event_time": when.strftime("%Y-%m-%dT%H:%M:%S") + "+05:30",
                    "kind": "heartbeat" if i % 10 else "session_start", "doctors_online": i % 4,
                    "queue_length": i % 6, "connectivity": "4G", "updated_at": when.strftime("%Y-%m-%dT%H:%M:%S")})
    return out


def test_live501_the_etl_pulls_a_status_feed(settings: Settings, engine: Engine) -> None:
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    runner = EtlRunner(settings, engine)
    runner.run_landing()
    records = feed(95)
    records.append({**feed(1)[0], "event_id": "FEED-BAD", "facility_id": "NOWHERE", "updated_at": "9999"})
    with FixtureApi(records, page_size=40) as api:
        config = ApiSourceConfig(name="hub-software-status", dataset="status", url=api.url, page_size=40)
        first = runner.run_api(config)
        assert first.status == "loaded", first.message
        assert (first.counts.loaded, first.counts.rejected) == (95, 1)
        again = runner.run_api(config)
        assert again.status == "loaded" and again.counts.loaded <= 1  # the watermark: only the tail is re-read
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact_status_event)).scalar() == 95
        newest = conn.execute(select(current_status.c.event_id).where(current_status.c.facility_id == "S1")).scalar()
        assert conn.execute(select(quarantine.c.reason_code).where(
            quarantine.c.natural_key == "FEED-BAD")).scalar() == "unknown_facility"
        assert conn.execute(select(source_watermark.c.watermark).where(
            source_watermark.c.source == "hub-software-status")).scalar()
    assert newest == max(r["event_id"] for r in records[:95] if r["facility_id"] == "S1")


def test_live502_etl_run_with_a_status_feed_in_the_sources_file(settings: Settings, engine: Engine,
                                                                tmp_path: Path) -> None:
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    with FixtureApi(feed(30), page_size=25, mode="cursor") as api:
        sources = tmp_path / "sources.json"
        sources.write_text(json.dumps({"sources": [{"name": "status-feed", "dataset": "status", "url": api.url,
                                                    "pagination": "cursor", "page_size": 25,
                                                    "token_env": "STATUS_FEED_TOKEN"}]}), encoding="utf-8")
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AROGYA_")},
               "AROGYA_DATABASE_URL": settings.database_url, "AROGYA_DATA_DIR": str(settings.data_dir),
               "AROGYA_LANDING_DIR": str(settings.landing_dir), "AROGYA_PSEUDONYM_KEY": settings.pseudonym_key,
               "AROGYA_QUIET": "1", "STATUS_FEED_TOKEN": "feed-secret", "PYTHONPATH": str(ROOT)}
        result = subprocess.run([sys.executable, "-m", "arogya_cli", "etl", "run", "--api", str(sources)], env=env,
                                capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact_status_event)).scalar() == 30
        assert conn.execute(select(func.count()).select_from(current_status)).scalar() == 3
