"""The demo a newcomer sees comes through the real ETL and reproduces FACTS.md and its own ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from etl.warehouse.engine import make_engine
from etl.warehouse.schema import dim_block, dim_cho, dim_district, dim_facility, fact_consultation, quarantine
from tests.conftest import make_settings
from tests.integration.test_etl_faults import arogya


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path_factory.mktemp("demo"))
    result = arogya(settings, "demo", "--scale", "small", "--days", "3", "--end-date", "2026-10-15", "--quiet")
    assert result.returncode == 0, result.stderr
    truth = json.loads((settings.landing_dir.parent / "demo_truth.json").read_text(encoding="utf-8"))
    return settings, make_engine(settings), truth


def test_demo020_bihar_geography_and_kishanganj_facts(demo) -> None:  # type: ignore[no-untyped-def]
    _, engine, truth = demo
    with engine.connect() as conn:
        # Every district of India is seeded (national reference); Bihar's 38 carry their real LGD codes.
        assert conn.execute(select(func.count()).select_from(dim_district).where(
            dim_district.c.state_lgd == 10)).scalar() == 38
        assert conn.execute(select(func.count()).select_from(dim_block)).scalar() == 534
        roles = dict(conn.execute(select(dim_facility.c.role, func.count()).where(
            dim_facility.c.district_lgd == 203).group_by(dim_facility.c.role)).all())
        assert roles == {"hub": 11, "spoke": 230}
        spokes_per_block = conn.execute(
            select(dim_facility.c.block_lgd, func.count()).where(dim_facility.c.role == "spoke")
            .group_by(dim_facility.c.block_lgd)).all()
        kaimur = [n for block, n in spokes_per_block if block // 100 == 200]
        assert len(kaimur) == 11 and min(kaimur) >= 2
        assert len([1 for _, n in spokes_per_block if n < 2]) == 1
        assert conn.execute(select(func.count()).select_from(dim_cho)).scalar() == truth["chos"]["chos"]


def test_demo021_every_valid_consultation_loaded_and_every_fault_quarantined(demo) -> None:  # type: ignore[no-untyped-def]
    _, engine, truth = demo
    faults = truth["consultations"]["faults"]
    with engine.connect() as conn:
        loaded = conn.execute(select(func.count()).select_from(fact_consultation)).scalar()
        pending = dict(conn.execute(
            select(quarantine.c.reason_code, func.count()).where(quarantine.c.dataset == "consultations",
                                                                 quarantine.c.released_run_id.is_(None))
            .group_by(quarantine.c.reason_code)).all())
        released = conn.execute(select(func.count()).select_from(quarantine).where(
            quarantine.c.released_run_id.is_not(None))).scalar()
    assert loaded == truth["consultations"]["valid"]
    assert released == truth["consultations"]["late_facility"] > 0
    assert pending["duplicate_in_file"] == faults["duplicate"]
    assert pending["unknown_facility"] == faults["unknown_facility"]
    assert pending["end_before_start"] == faults["end_before_start"]
    assert pending["age_out_of_range"] == faults["age_out_of_range"]
    assert pending["start_in_future"] + pending["start_too_old"] == faults["date_out_of_range"]


def test_demo022_patient_mix_from_the_warehouse(demo) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = demo
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(fact_consultation)).scalar()
        women = conn.execute(select(func.count()).select_from(fact_consultation).where(
            fact_consultation.c.sex == "F")).scalar()
        seniors = conn.execute(select(func.count()).select_from(fact_consultation).where(
            fact_consultation.c.age >= 60)).scalar()
    assert 0.54 <= women / total <= 0.60
    assert 0.10 <= seniors / total <= 0.14


def test_demo023_if_missing_skips_a_loaded_warehouse(demo) -> None:  # type: ignore[no-untyped-def]
    settings, _, _ = demo
    result = arogya(settings, "demo", "--if-missing")
    assert result.returncode == 0 and "already has data" in result.stdout
    assert not any(Path(settings.landing_dir).glob("*.csv"))
