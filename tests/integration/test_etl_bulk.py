"""A run's consultation files read ahead by a second process, and bulk loads that set the indexes aside: both must
give exactly the warehouse a plain run gives (SQLite, and PostgreSQL when AROGYA_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from etl.load import cumulative, prefetch, running_ahead
from etl.load.cumulative import CUMULATIVES
from etl.load.runner import EtlRunner
from etl.settings import Settings
from etl.sources.landing import LandingFile
from etl.warehouse import bulk_indexes
from etl.warehouse.engine import make_engine
from etl.warehouse.migrate import upgrade
from etl.warehouse.schema import (
    CUMULATIVE_TABLES,
    cumulative_state,
    dim_specialty,
    etl_run,
    fact_consultation,
    quarantine,
)
from tests.conftest import reset_postgres
from tests.integration.etl_files import (
    CONSULTATION_HEADER,
    FACILITIES,
    FACILITY_HEADER,
    consultation_rows,
    table_checksum,
    write_csv,
)
from tests.integration.test_etl_load import ROLLUPS, assert_rollups_match_facts, checksums, count


def _landing(settings: Settings) -> None:
    """Masters, four days (one with a broken file, one repeated under another name), and faulty rows."""
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    for n, day in enumerate(("2025-08-01", "2025-08-02", "2025-08-03", "2025-08-04")):
        rows = consultation_rows(150 + 10 * n, day=day, prefix=f"D{n}-")
        rows.append(list(rows[0]))  # a duplicate id: quarantined
        unknown = list(rows[1]); unknown[0] = f"U{n}"; unknown[3] = "S9"; unknown[4] = "H9"  # noqa: E702
        rows.append(unknown)
        rows[2][7] = f"Specialty {n}"  # a new specialty per file: registered by the writer
        write_csv(settings.landing_dir / f"consultations_{day}.csv", CONSULTATION_HEADER, rows)
    (settings.landing_dir / "consultations_2025-08-05.csv").write_bytes(b"\x00\x01binary\x00" * 50)
    same = (settings.landing_dir / "consultations_2025-08-02.csv").read_bytes()
    (settings.landing_dir / "consultations_2025-08-02_copy.csv").write_bytes(same)


def _outcomes(outcomes: list) -> list[tuple[str, str, int, int]]:
    return [(o.name, o.status, o.counts.loaded, o.counts.rejected) for o in outcomes if o.name != "indexes"]


def _second_engine(settings: Settings, tmp_path: Path, name: str) -> tuple[Settings, Engine]:
    other = settings.with_(data_dir=tmp_path / name, landing_dir=tmp_path / name / "landing",
                           database_url=(settings.database_url if not settings.is_sqlite
                                         else f"sqlite:///{tmp_path / name / 'arogya.sqlite'}"))
    engine = make_engine(other)
    if engine.dialect.name == "postgresql":
        reset_postgres(engine)
    upgrade(engine)
    return other, engine


@pytest.mark.parametrize("mode", ["prefetch", "bulk", "both"])
def test_etl050_read_ahead_and_bulk_loads_equal_a_plain_run(settings: Settings, engine: Engine, tmp_path: Path,
                                                             mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from etl.load import runner as runner_module

    readers: list[int] = []

    class CountedPrefetcher(prefetch.Prefetcher):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            readers.append(len(args[1]))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(runner_module, "Prefetcher", CountedPrefetcher)
    plain_settings = settings.with_(etl_prefetch=False, etl_bulk_indexes="never")
    _landing(plain_settings)
    plain = _outcomes(EtlRunner(plain_settings, engine).run_landing())
    assert readers == []
    expected = checksums(engine)
    pending = count(engine, quarantine)
    runs = count(engine, etl_run)
    engine.dispose()

    other, engine2 = _second_engine(settings, tmp_path, "other")
    other = other.with_(etl_prefetch=mode != "bulk", etl_bulk_indexes="always" if mode != "prefetch" else "never")
    _landing(other)
    runner = EtlRunner(other, engine2)
    got = _outcomes(runner.run_landing())
    assert got == plain
    assert readers == ([6] if mode != "bulk" else [])  # the six consultation files went through the reader
    assert ("consultations_2025-08-05.csv", "rejected", 0, 0) in got
    assert ("consultations_2025-08-02_copy.csv", "already_loaded", 0, 0) in got
    assert checksums(engine2) == expected
    assert count(engine2, quarantine) == pending and count(engine2, etl_run) == runs
    assert bulk_indexes.missing_indexes(engine2) == []  # every index is back after a bulk load
    assert_rollups_match_facts(engine2)
    engine2.dispose()


@pytest.mark.parametrize("readers", [1, 2, 3])
def test_etl067_any_number_of_readers_loads_what_one_process_loads(settings: Settings, engine: Engine,
                                                                   tmp_path: Path, readers: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers take alternate files; the warehouse ends the same as after a run in one process, including a new
    specialty spelled differently in two files read by different readers (another case, spacing and Unicode form:
    one code; the earlier file's spelling is kept)."""
    def landing(target: Settings) -> None:
        write_csv(target.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
        for n, (day, spelling) in enumerate((("2025-08-01", None), ("2025-08-02", "Caf\u00e9 Clinic"),
                                             ("2025-08-03", "CAFE\u0301  clinic"), ("2025-08-04", None))):
            rows = consultation_rows(40, day=day, prefix=f"R{n}-")
            if spelling:
                for row in rows[::5]:
                    row[7] = spelling
            write_csv(target.landing_dir / f"consultations_{day}.csv", CONSULTATION_HEADER, rows)

    plain_settings = settings.with_(etl_prefetch=False, etl_bulk_indexes="never")
    landing(plain_settings)
    plain = _outcomes(EtlRunner(plain_settings, engine).run_landing())
    expected = {**checksums(engine), "specialties": table_checksum(engine, dim_specialty)}
    engine.dispose()

    other, engine2 = _second_engine(settings, tmp_path, f"readers{readers}")
    landing(other)
    monkeypatch.setattr(prefetch, "READERS", readers)
    got = _outcomes(EtlRunner(other.with_(etl_prefetch=True, etl_bulk_indexes="never"), engine2).run_landing())
    assert got == plain
    assert {**checksums(engine2), "specialties": table_checksum(engine2, dim_specialty)} == expected
    with engine2.connect() as conn:
        names = dict(conn.execute(select(dim_specialty.c.specialty_code, dim_specialty.c.name_en)).all())
    assert names["CAF\u00c9CLINIC"] == "Caf\u00e9 Clinic"
    assert_rollups_match_facts(engine2)
    engine2.dispose()


def _running_totals(engine: Engine) -> dict[str, str]:
    return {t.name: table_checksum(engine, t) for t in (*CUMULATIVE_TABLES, cumulative_state)}


@pytest.mark.parametrize("fault", [None, "exception", "death", "other_order", "no_start", "lost_spool"])
def test_etl071_running_totals_computed_ahead_equal_those_computed_in_process(
        settings: Settings, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fault: str | None) -> None:
    """After a bulk load a child computes the running totals while the indexes are rebuilt; the tables end the same
    as when this process computes them. A child that fails or dies part-way, whose spooled rows are lost, or that
    computed other rewrites than the refresh does, leaves the rest to this process, which first drops the rows it
    took from the child; a child that cannot start leaves all of it."""
    import os

    plain_settings = settings.with_(etl_prefetch=False, etl_bulk_indexes="always")
    _landing(plain_settings)
    EtlRunner(plain_settings, engine).run_landing()
    expected = _running_totals(engine)
    engine.dispose()

    real_chunks = running_ahead.array_chunks

    def faulty_chunks(inputs, rewrite, dialect):  # type: ignore[no-untyped-def]
        for n, rows in enumerate(real_chunks(inputs, rewrite, dialect)):
            yield rows
            if n == 0 and rewrite.table_name == "cumulative_cho_day":  # after the first chunk of the second table
                if fault == "death":
                    os._exit(3)
                raise RuntimeError("child bug")

    if fault in ("exception", "death"):
        monkeypatch.setattr(running_ahead, "array_chunks", faulty_chunks)  # the forked child inherits it
    if fault == "other_order":
        real_rewrites = running_ahead.array_rewrites
        monkeypatch.setattr(running_ahead, "array_rewrites", lambda conn: real_rewrites(conn)[::-1])
    if fault == "no_start":
        def cannot_fork(self, *args):  # type: ignore[no-untyped-def]
            raise OSError("Cannot allocate memory")

        monkeypatch.setattr(running_ahead.RunningAhead, "__init__", cannot_fork)
    if fault == "lost_spool":
        real_read = running_ahead.RunningAhead._take
        taken: list[str] = []

        def cleaned_away(self, path, *, keep=True):  # type: ignore[no-untyped-def]
            taken.append(path)
            if len(taken) == 2:  # the first chunk of the second table (the first has one chunk here)
                Path(path).unlink()
            return real_read(self, path, keep=keep)

        monkeypatch.setattr(running_ahead.RunningAhead, "_take", cleaned_away)
    handed: list[str] = []
    real_take = running_ahead.RunningAhead.chunks

    def spy(self, rewrite):  # type: ignore[no-untyped-def]
        chunks = real_take(self, rewrite)
        if chunks is not None:
            handed.append(rewrite.table_name)
        return chunks

    monkeypatch.setattr(running_ahead.RunningAhead, "chunks", spy)
    other, engine2 = _second_engine(settings, tmp_path, "ahead")
    other = other.with_(etl_prefetch=True, etl_bulk_indexes="always")
    _landing(other)
    EtlRunner(other, engine2).run_landing()
    assert _running_totals(engine2) == expected
    in_arrays = [spec.table.name for spec in CUMULATIVES if cumulative._integer_measures(spec)]
    assert handed == {None: in_arrays, "exception": in_arrays[:2], "death": in_arrays[:2],
                      "other_order": in_arrays[:1], "no_start": [], "lost_spool": in_arrays[:2]}[fault]
    assert not list(Path(tempfile.gettempdir()).glob(f"arogya-etl-running-{os.getpid()}-*"))  # its spool is gone
    engine2.dispose()


def test_etl051_a_bulk_load_killed_before_rebuilding_gets_its_indexes_back_on_the_next_run(
        settings: Settings, engine: Engine) -> None:
    dropped = bulk_indexes.drop_indexes(engine)  # what a bulk load killed half-way leaves
    assert dropped and bulk_indexes.missing_indexes(engine) == sorted(dropped)
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    EtlRunner(settings.with_(etl_bulk_indexes="never"), engine).run_landing()
    assert bulk_indexes.missing_indexes(engine) == []


def test_etl052_auto_mode_sets_indexes_aside_only_for_a_load_larger_than_the_warehouse(
        settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from etl.load import runner as runner_module

    monkeypatch.setattr(runner_module, "BULK_MIN_ROWS", 100)
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    write_csv(settings.landing_dir / "consultations_2025-08-01.csv", CONSULTATION_HEADER, consultation_rows(400))
    dropped: list[int] = []
    real_drop = bulk_indexes.drop_indexes
    monkeypatch.setattr(bulk_indexes, "drop_indexes", lambda e: dropped.append(1) or real_drop(e))
    auto = settings.with_(etl_bulk_indexes="auto")
    EtlRunner(auto, engine).run_landing()
    assert dropped == [1]  # 400 rows into an empty warehouse: bulk
    write_csv(auto.landing_dir / "consultations_2025-08-02.csv", CONSULTATION_HEADER,
              consultation_rows(120, day="2025-08-02", prefix="E"))
    EtlRunner(auto, engine).run_landing()
    assert dropped == [1]  # 120 rows into 400: indexes kept
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact_consultation)).scalar() == 520
    assert bulk_indexes.missing_indexes(engine) == []


def test_etl053_segments_read_ahead_only_runs_of_consultation_files(tmp_path: Path) -> None:
    def f(name: str, dataset: str) -> LandingFile:
        return LandingFile(tmp_path / name, dataset, None)

    files = [f("facilities_a.csv", "facilities"), f("c1.csv", "consultations"), f("c2.csv", "consultations"),
             f("schemes.csv", "schemes"), f("c3.csv", "consultations")]
    got = [([x.path.name for x in group], ahead) for group, ahead in prefetch.segments(files, 2)]
    assert got == [(["facilities_a.csv"], False), (["c1.csv", "c2.csv"], True), (["schemes.csv"], False),
                   (["c3.csv"], False)]


@pytest.mark.parametrize("fault", ["exception", "death"])
def test_etl054_a_reader_process_fault_fails_that_file_only(settings: Settings, engine: Engine,
                                                            monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    """A bug in the reader fails its file (kept for the next run); a reader that dies leaves the rest of the
    files to this process. Either way every other file loads."""
    import os

    real_read = prefetch.read_file

    def faulty_read(path, **kwargs):  # type: ignore[no-untyped-def]
        if path.name == "consultations_2025-08-02.csv":
            if fault == "death":
                os._exit(3)
            raise RuntimeError("reader bug")
        return real_read(path, **kwargs)

    monkeypatch.setattr(prefetch, "read_file", faulty_read)  # the forked reader inherits it
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    for n, day in enumerate(("2025-08-01", "2025-08-02", "2025-08-03")):
        write_csv(settings.landing_dir / f"consultations_{day}.csv", CONSULTATION_HEADER,
                  consultation_rows(50, day=day, prefix=f"D{n}-"))
    outcomes = {o.name: o for o in EtlRunner(settings.with_(etl_prefetch=True), engine).run_landing()}
    failed = outcomes["consultations_2025-08-02.csv"]
    assert failed.status == "failed"
    assert ("reader bug" in failed.message) if fault == "exception" else ("ended unexpectedly" in failed.message)
    assert outcomes["consultations_2025-08-01.csv"].status == "loaded"
    assert outcomes["consultations_2025-08-03.csv"].status == "loaded"
    assert count(engine, fact_consultation) == 100
    assert (settings.landing_dir / "consultations_2025-08-02.csv").exists()  # kept for the next run


def test_etl055_a_day_in_one_file_per_place_never_reads_the_facts_back(
        settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the national exports come (one file per state and day): each file's places are new on that day, so its
    aggregates are inserted as they stand; a file that shares a place with a loaded one (a hub serving two states)
    adds its sums to the stored rows, and only the shared (hub, day) doctor counts are read again from the facts."""
    from etl.load import writers

    new_tables: list[set[str]] = []
    probe = writers.tables_with_new_keys
    refreshed: list[int] = []
    hub_days = writers.refresh_hub_days

    def spy(conn, rows):  # type: ignore[no-untyped-def]
        new_tables.append(probe(conn, rows))
        return new_tables[-1]

    def hub_spy(conn, keys):  # type: ignore[no-untyped-def]
        refreshed.append(len(keys.drop_duplicates()))
        hub_days(conn, keys)

    monkeypatch.setattr(writers, "tables_with_new_keys", spy)
    monkeypatch.setattr(writers, "refresh_hub_days", hub_spy)
    monkeypatch.setattr(writers, "refresh_touched", lambda conn: pytest.fail("the full SQL refresh ran"))
    write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)
    write_csv(settings.landing_dir / "consultations_2025-08-01_a.csv", CONSULTATION_HEADER,
              consultation_rows(60, spokes=("S1", "S2"), prefix="A"))
    write_csv(settings.landing_dir / "consultations_2025-08-01_b.csv", CONSULTATION_HEADER,
              consultation_rows(40, spokes=("S4",), prefix="B"))
    write_csv(settings.landing_dir / "consultations_2025-08-01_c.csv", CONSULTATION_HEADER,
              consultation_rows(30, spokes=("S2", "S3"), prefix="C"))
    plain = settings.with_(etl_prefetch=False, etl_bulk_indexes="never")
    EtlRunner(plain, engine).run_landing()
    everything = {t.name for t in ROLLUPS}
    # S1/S2 (district 203, hub H1), then S4 (district 200, hub H2): new places. The third file's S2 and H1 were
    # loaded, S3 shares hub H2 with S4 and district 203 with S1/S2: every table merges, hub-day counts again.
    assert new_tables[:2] == [everything, everything]
    assert new_tables[2] == set()
    assert refreshed == [2]
    assert count(engine, fact_consultation) == 130
    assert_rollups_match_facts(engine)


def test_etl063_migration_0016_drops_the_cho_led_index_of_the_cho_rollup(tmp_path: Path) -> None:
    from sqlalchemy import inspect

    from etl.warehouse.schema import rollup_cho_day
    from tests.conftest import make_settings

    engine = make_engine(make_settings(tmp_path))

    def indexes() -> set[str]:
        return {str(ix["name"]) for ix in inspect(engine).get_indexes("rollup_cho_day")}

    upgrade(engine, "0015")
    assert "ix_rollup_cho_day_cho_day" in indexes()
    upgrade(engine)
    assert indexes() == {str(ix.name) for ix in rollup_cho_day.indexes} == {"ix_rollup_cho_day_district_day"}


def test_etl064_migration_0017_drops_the_spoke_led_index_and_widens_the_district_one(tmp_path: Path) -> None:
    from sqlalchemy import inspect

    from etl.warehouse.schema import rollup_facility_day
    from tests.conftest import make_settings

    engine = make_engine(make_settings(tmp_path))

    def indexes() -> dict[str, list[str]]:
        return {str(ix["name"]): list(ix["column_names"])
                for ix in inspect(engine).get_indexes(rollup_facility_day.name)}

    upgrade(engine, "0016")
    assert "ix_rollup_facility_day_spoke_day" in indexes()
    upgrade(engine)
    assert indexes() == {str(ix.name): [c.name for c in ix.columns] for ix in rollup_facility_day.indexes}
    assert "ix_rollup_facility_day_spoke_day" not in indexes()
    assert indexes()["ix_rollup_facility_day_district_day"][-2:] == ["mode", "specialty_code"]
    assert indexes()["ix_rollup_facility_day_hub_district_day"][-2:] == ["mode", "specialty_code"]
