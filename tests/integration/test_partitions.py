"""Monthly partitions of the consultation facts and the rollups (PostgreSQL; SQLite stays a plain schema)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, inspect, select, text

from etl.load.runner import EtlRunner
from etl.settings import Settings
from etl.warehouse.engine import make_engine
from etl.warehouse.migrate import upgrade
from etl.warehouse.partitions import (
    MONTHS_AHEAD,
    PARTITIONED_TABLES,
    ensure_month_partitions,
    month_start,
    months_between,
    next_month,
    partition_name,
)
from etl.warehouse.schema import (
    CUMULATIVE_TABLES,
    cumulative_state,
    fact_consultation,
    metadata,
    rollup_district_day,
    rollup_facility_day,
    rollup_hub_mode_day,
    rollup_hub_specialty_day,
    scheme_district_month,
    scheme_moved_facility,
    scheme_package_month,
    scheme_rollup_state,
)
from tests.conftest import PG_URL, make_settings, reset_postgres
from tests.integration.etl_files import (
    CONSULTATION_HEADER,
    FACILITIES,
    FACILITY_HEADER,
    consultation_rows,
    table_checksum,
    write_csv,
)
from tests.integration.test_etl_load import ROLLUPS, assert_rollups_match_facts


def run(settings: Settings, engine: Engine) -> list:
    return EtlRunner(settings, engine).run_landing()


def partitions_of(engine: Engine, table_name: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t"), {"t": table_name}).scalars())


def rows_per_partition(engine: Engine, table_name: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {str(name): int(n) for name, n in conn.execute(text(
            f"SELECT tableoid::regclass::text, count(*) FROM {table_name} GROUP BY 1"))}


def load_masters(settings: Settings) -> None:
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)


@pytest.fixture
def pg_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, PG_URL)


@pytest.fixture
def pg_engine(pg_settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(pg_settings)
    reset_postgres(engine)
    yield engine
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_part001_fresh_upgrade_partitions_every_table_by_month(pg_engine: Engine) -> None:
    upgrade(pg_engine)
    this_month = month_start(date.today())
    horizon = this_month
    for _ in range(MONTHS_AHEAD):
        horizon = next_month(horizon)
    with pg_engine.connect() as conn:
        strategies = dict(conn.execute(text(
            "SELECT c.relname, p.partstrat::text || ':' || a.attname FROM pg_partitioned_table p "
            "JOIN pg_class c ON c.oid = p.partrelid "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0]")).all())
    for table_name in PARTITIONED_TABLES:
        assert strategies[table_name] == "r:day", table_name
        expected = {partition_name(table_name, m) for m in months_between(this_month, horizon)}
        assert partitions_of(pg_engine, table_name) == expected | {f"{table_name}_default"}
    key = inspect(pg_engine).get_pk_constraint("fact_consultation")
    assert key["constrained_columns"] == ["consultation_id", "day"]
    # The indexes of the plain table survive on the partitioned one.
    names = {i["name"] for i in inspect(pg_engine).get_indexes("fact_consultation")}
    assert {"ix_fact_consultation_day_spoke", "ix_fact_consultation_day_hub"} <= names


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_part002_existing_database_is_partitioned_with_its_data(pg_settings: Settings, pg_engine: Engine) -> None:
    upgrade(pg_engine, "0004")
    # Today's loader also writes the hub load rollups of revision 0007 (which fills them again from the facility
    # rollup), the running totals of 0009-0011 and the scheme rollups of 0013 (kept by those revisions): give it
    # those tables at the old one.
    metadata.create_all(pg_engine, tables=[rollup_hub_mode_day, rollup_hub_specialty_day, *CUMULATIVE_TABLES,
                                           cumulative_state, scheme_district_month, scheme_moved_facility,
                                           scheme_package_month, scheme_rollup_state])
    load_masters(pg_settings)
    write_csv(pg_settings.landing_dir / "consultations_2025-08-31.csv", CONSULTATION_HEADER,
              consultation_rows(60, day="2025-08-31"))
    write_csv(pg_settings.landing_dir / "consultations_2025-09-01.csv", CONSULTATION_HEADER,
              consultation_rows(40, day="2025-09-01", prefix="D"))
    # Revision 0004's loader: the plain table's key is consultation_id alone.
    assert [o.status for o in run(pg_settings, pg_engine)] == ["loaded"] * 3
    before = {t.name: table_checksum(pg_engine, t) for t in (fact_consultation, *ROLLUPS)}
    upgrade(pg_engine)
    assert before == {t.name: table_checksum(pg_engine, t) for t in (fact_consultation, *ROLLUPS)}
    assert rows_per_partition(pg_engine, "fact_consultation") == {"fact_consultation_p202508": 60,
                                                                  "fact_consultation_p202509": 40}
    assert rows_per_partition(pg_engine, "rollup_district_day").keys() == {"rollup_district_day_p202508",
                                                                          "rollup_district_day_p202509"}
    assert_rollups_match_facts(pg_engine)
    upgrade(pg_engine)  # idempotent
    assert before == {t.name: table_checksum(pg_engine, t) for t in (fact_consultation, *ROLLUPS)}


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_part003_loads_land_in_their_month_partition(pg_settings: Settings, pg_engine: Engine) -> None:
    upgrade(pg_engine)
    load_masters(pg_settings)
    write_csv(pg_settings.landing_dir / "consultations_2025-07-31.csv", CONSULTATION_HEADER,
              consultation_rows(30, day="2025-07-31"))
    write_csv(pg_settings.landing_dir / "consultations_2025-08-01.csv", CONSULTATION_HEADER,
              consultation_rows(20, day="2025-08-01", prefix="D"))
    assert {o.status for o in run(pg_settings, pg_engine)} == {"loaded"}
    assert rows_per_partition(pg_engine, "fact_consultation") == {"fact_consultation_p202507": 30,
                                                                  "fact_consultation_p202508": 20}
    for table_name in PARTITIONED_TABLES:
        assert {"p202507", "p202508"} <= {n.rsplit("_", 1)[1] for n in partitions_of(pg_engine, table_name)}
        assert f"{table_name}_default" not in rows_per_partition(pg_engine, table_name), table_name
    assert_rollups_match_facts(pg_engine)


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_part004_corrected_row_moving_to_another_month_leaves_one_row(pg_settings: Settings,
                                                                      pg_engine: Engine) -> None:
    upgrade(pg_engine)
    load_masters(pg_settings)
    rows = consultation_rows(50, day="2025-08-31")
    write_csv(pg_settings.landing_dir / "consultations_2025-08-31.csv", CONSULTATION_HEADER, rows)
    run(pg_settings, pg_engine)
    corrected = [list(r) for r in rows]
    corrected[0][1], corrected[0][2] = "2025-09-01 10:00:00", "2025-09-01 10:05:00"
    write_csv(pg_settings.landing_dir / "consultations_2025-08-31_v2.csv", CONSULTATION_HEADER, corrected)
    assert [o.status for o in run(pg_settings, pg_engine)] == ["loaded"]
    with pg_engine.connect() as conn:
        copies = conn.execute(select(fact_consultation.c.day, text("tableoid::regclass::text")).where(
            fact_consultation.c.consultation_id == rows[0][0])).all()
        by_day = dict(conn.execute(select(rollup_district_day.c.day, func.sum(rollup_district_day.c.consultations))
                                   .group_by(rollup_district_day.c.day)).all())
    assert [(str(d), p) for d, p in copies] == [("2025-09-01", "fact_consultation_p202509")]
    assert by_day == {date(2025, 8, 31): 49, date(2025, 9, 1): 1}
    assert rows_per_partition(pg_engine, "fact_consultation") == {"fact_consultation_p202508": 49,
                                                                  "fact_consultation_p202509": 1}
    assert_rollups_match_facts(pg_engine)
    # And back again (the first version, in another file so its hash is new): still one row, in August.
    write_csv(pg_settings.landing_dir / "consultations_2025-08-31_v3.csv", CONSULTATION_HEADER, rows, delimiter=";")
    run(pg_settings, pg_engine)
    assert rows_per_partition(pg_engine, "fact_consultation") == {"fact_consultation_p202508": 50}
    assert_rollups_match_facts(pg_engine)


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_part005_rerunning_a_file_changes_nothing(pg_settings: Settings, pg_engine: Engine) -> None:
    upgrade(pg_engine)
    load_masters(pg_settings)
    rows = consultation_rows(80, day="2025-08-31")
    write_csv(pg_settings.landing_dir / "consultations_2025-08-31.csv", CONSULTATION_HEADER, rows)
    run(pg_settings, pg_engine)
    before = {t.name: table_checksum(pg_engine, t) for t in (fact_consultation, *ROLLUPS)}
    partitions = {t: partitions_of(pg_engine, t) for t in PARTITIONED_TABLES}
    # The same file again (skipped by its hash) and the same rows in another file (upserted in place).
    write_csv(pg_settings.landing_dir / "consultations_2025-08-31.csv", CONSULTATION_HEADER, rows)
    write_csv(pg_settings.landing_dir / "consultations_2025-08-31_copy.csv", CONSULTATION_HEADER, rows[::-1])
    assert sorted(o.status for o in run(pg_settings, pg_engine)) == ["already_loaded", "loaded"]
    assert before == {t.name: table_checksum(pg_engine, t) for t in (fact_consultation, *ROLLUPS)}
    assert partitions == {t: partitions_of(pg_engine, t) for t in PARTITIONED_TABLES}
    assert rows_per_partition(pg_engine, "fact_consultation") == {"fact_consultation_p202508": 80}


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_part006_rows_in_the_default_partition_move_to_a_new_month(pg_engine: Engine) -> None:
    upgrade(pg_engine)
    with pg_engine.begin() as conn:  # rows of a month without a partition (written by SQL, not the loader)
        conn.execute(rollup_facility_day.insert(), [
            {"day": date(2024, 3, d), "spoke_id": "S1", "hub_id": "H1", "mode": "ABHWC", "specialty_code": "GEN",
             "district_lgd": 203, "consultations": d} for d in (1, 15, 31)])
    assert rows_per_partition(pg_engine, "rollup_facility_day") == {"rollup_facility_day_default": 3}
    created = ensure_month_partitions(pg_engine, pd.Series(pd.to_datetime(["2024-03-10", "2024-03-11"])))
    assert set(created) == {partition_name(t, date(2024, 3, 1)) for t in PARTITIONED_TABLES}
    assert rows_per_partition(pg_engine, "rollup_facility_day") == {"rollup_facility_day_p202403": 3}
    assert ensure_month_partitions(pg_engine, [date(2024, 3, 2)]) == []  # idempotent
    with pg_engine.connect() as conn:
        total = conn.execute(select(func.sum(rollup_facility_day.c.consultations))).scalar()
    assert total == 47
    # A deployment that dropped a DEFAULT partition still gets its months.
    with pg_engine.begin() as conn:
        conn.execute(text("DROP TABLE rollup_hub_day_default"))
    assert partition_name("rollup_hub_day", date(2024, 4, 1)) in ensure_month_partitions(pg_engine, [date(2024, 4, 2)])


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL is not set")
def test_part007_concurrent_callers_create_a_month_once(pg_engine: Engine) -> None:
    upgrade(pg_engine)
    barrier = threading.Barrier(3)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            barrier.wait()
            results.append(ensure_month_partitions(pg_engine, [date(2023, 1, 5), date(2023, 2, 5)]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    created = [name for names in results for name in names]
    assert sorted(created) == sorted(partition_name(t, m) for t in PARTITIONED_TABLES
                                     for m in (date(2023, 1, 1), date(2023, 2, 1)))


def test_part008_sqlite_stays_a_plain_schema(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings)
    upgrade(engine)
    assert ensure_month_partitions(engine, [date(2023, 1, 5)]) == []
    assert inspect(engine).get_pk_constraint("fact_consultation")["constrained_columns"] == ["consultation_id"]
    load_masters(sqlite_settings)
    rows = consultation_rows(10, day="2025-08-31")
    write_csv(sqlite_settings.landing_dir / "consultations_a.csv", CONSULTATION_HEADER, rows)
    run(sqlite_settings, engine)
    rows[0][1], rows[0][2] = "2025-09-01 10:00:00", "2025-09-01 10:05:00"
    write_csv(sqlite_settings.landing_dir / "consultations_b.csv", CONSULTATION_HEADER, rows)
    run(sqlite_settings, engine)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact_consultation)).scalar() == 10
    assert_rollups_match_facts(engine)
    engine.dispose()


def test_part009_migrations_keep_a_single_head(sqlite_settings: Settings) -> None:
    from alembic.script import ScriptDirectory

    from etl.warehouse.migrate import alembic_config

    engine = make_engine(sqlite_settings)
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    engine.dispose()
    assert len(heads) == 1, f"several Alembic heads {heads}: chain the newest revision onto the previous one"
