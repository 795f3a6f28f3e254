"""Whole loads through the drop folder on SQLite (and PostgreSQL when AROGYA_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import zipfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Date, Engine, Integer, String, event, func, literal, select, text, union_all

from etl.load import bulk, cumulative, running_arrays, writers
from etl.load.cumulative import CUMULATIVES, refresh_cumulatives
from etl.load.ledger import recent_runs, top_rejection_reasons
from etl.load.rollups import rebuild_all
from etl.load.runner import EtlRunner
from etl.settings import Settings
from etl.warehouse.schema import (
    cumulative_spoke_day,
    cumulative_state,
    dim_block,
    dim_facility,
    etl_run,
    fact_consultation,
    metadata,
    quarantine,
    rollup_cho_day,
    rollup_district_day,
    rollup_facility_day,
    rollup_hub_day,
    rollup_hub_hour,
    rollup_hub_mode_day,
    rollup_hub_specialty_day,
)
from tests.integration.etl_files import (
    CONSULTATION_HEADER,
    FACILITIES,
    FACILITY_HEADER,
    consultation_rows,
    table_checksum,
    write_csv,
)

ROLLUPS = (rollup_facility_day, rollup_district_day, rollup_cho_day, rollup_hub_hour, rollup_hub_day,
           rollup_hub_mode_day, rollup_hub_specialty_day)


def run(settings: Settings, engine: Engine) -> list:
    return EtlRunner(settings, engine).run_landing()


def count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def checksums(engine: Engine) -> dict[str, str]:
    return {t.name: table_checksum(engine, t) for t in (fact_consultation, *ROLLUPS)}


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _stored(name: str, value: object) -> object:
    if name in ("day", "last_day") and value is not None:
        return _day(value)
    return round(value, 6) if isinstance(value, float) else value


def assert_running_totals_match(engine: Engine) -> None:
    """Every running-total table is fresh and holds, for each key and each day from its first consultation to the
    rollups' last day, the sums of its daily rollup through that day."""
    with engine.connect() as conn:
        states = {r.table_name: r for r in conn.execute(select(cumulative_state))}
        for spec in CUMULATIVES:
            src, keys = spec.source, list(spec.keys)
            daily = conn.execute(
                select(*[src.c[k] for k in keys], src.c.day, *[func.sum(spec.value(m)) for m in spec.measures])
                .where(src.c.consultations > 0).group_by(*[src.c[k] for k in keys], src.c.day)).all()
            stored = sorted(tuple(_stored(c.name, v) for c, v in zip(spec.table.c, row, strict=True))
                            for row in conn.execute(select(spec.table)))
            state = states[spec.table.name]
            if not daily:
                assert stored == [], spec.table.name
                continue
            last = max(_day(r[len(keys)]) for r in daily)
            assert state.dirty_from is None and _day(state.built_through) == last, spec.table.name
            per_key: dict[tuple, dict[date, tuple]] = {}
            for r in daily:
                per_key.setdefault(tuple(r[:len(keys)]), {})[_day(r[len(keys)])] = tuple(r[len(keys) + 1:])
            expected = []
            for key, days in per_key.items():
                totals, active, seen, day = [0.0] * len(spec.measures), 0, None, min(days)
                while day <= last:
                    if day in days:
                        totals = [a + b for a, b in zip(totals, days[day], strict=True)]
                        active, seen = active + 1, day
                    row = (day, *key, *[round(v, 6) if isinstance(v, float) else v for v in totals])
                    expected.append(row + ((active, seen) if spec.activity else ()))
                    day += timedelta(days=1)
            assert stored == sorted(expected), spec.table.name


def assert_rollups_match_facts(engine: Engine) -> None:
    """The incrementally maintained rollups equal a rebuild from scratch, and so do the running totals."""
    assert_running_totals_match(engine)
    before = {t.name: table_checksum(engine, t) for t in ROLLUPS}
    with engine.begin() as conn:
        rebuild_all(conn)
    assert before == {t.name: table_checksum(engine, t) for t in ROLLUPS}


@pytest.fixture
def masters(settings: Settings) -> Path:
    return write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)


def test_etl020_load_a_day_with_faults(settings: Settings, engine: Engine, masters: Path) -> None:
    rows = consultation_rows(200)
    rows.append(list(rows[0]))  # duplicate id
    bad_end = list(rows[1]); bad_end[0] = "BAD-END"; bad_end[2] = "2025-08-01 08:00:00"  # noqa: E702
    unknown = list(rows[2]); unknown[0] = "UNKNOWN-1"; unknown[3] = "S9"; unknown[4] = "H9"  # noqa: E702
    rows += [bad_end, unknown]
    write_csv(settings.landing_dir / "consultations_2025-08-01.csv", CONSULTATION_HEADER, rows)
    outcomes = run(settings, engine)
    assert [o.status for o in outcomes] == ["loaded", "loaded"]
    assert count(engine, dim_facility) == 6 and count(engine, dim_block) == 3
    assert count(engine, fact_consultation) == 200
    reasons = top_rejection_reasons(engine)
    assert dict(zip(reasons["reason_code"], reasons["rows"], strict=True)) == {
        "duplicate_in_file": 1, "end_before_start": 1, "unknown_facility": 1}
    with engine.connect() as conn:
        q = conn.execute(select(quarantine).where(quarantine.c.reason_code == "end_before_start")).mappings().one()
    assert q["row_number"] == 203 and q["file_name"] == "consultations_2025-08-01.csv"
    assert q["raw"]["consultation_id"] == "BAD-END" and "is before" in q["reason"]
    # Files move out of the landing folder.
    assert not list(settings.landing_dir.glob("*.csv"))
    assert len(list((settings.archive_dir).rglob("*.csv"))) == 2
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(rollup_district_day.c.consultations))).scalar()
        per_spoke = dict(conn.execute(select(rollup_facility_day.c.spoke_id, func.sum(
            rollup_facility_day.c.consultations)).group_by(rollup_facility_day.c.spoke_id)).all())
    assert total == 200 and per_spoke == {"S1": 67, "S2": 67, "S3": 66}
    assert_rollups_match_facts(engine)


def test_etl021_same_file_twice_changes_nothing(settings: Settings, engine: Engine, masters: Path) -> None:
    path = write_csv(settings.landing_dir / "consultations_2025-08-01.csv", CONSULTATION_HEADER,
                     consultation_rows(300))
    content = path.read_bytes()
    run(settings, engine)
    before = checksums(engine)
    path.write_bytes(content)
    outcomes = run(settings, engine)
    assert [o.status for o in outcomes] == ["already_loaded"]
    assert "already loaded by run" in outcomes[0].message
    assert checksums(engine) == before


def test_etl022_corrected_file_updates_rows_and_rollups(settings: Settings, engine: Engine, masters: Path) -> None:
    rows = consultation_rows(120)
    write_csv(settings.landing_dir / "consultations_2025-08-01.csv", CONSULTATION_HEADER, rows)
    run(settings, engine)
    corrected = [list(r) for r in rows]
    corrected[0][1], corrected[0][2] = "2025-08-02 10:00:00", "2025-08-02 10:05:00"  # moves to another day
    corrected[1][3], corrected[1][4] = "S3", "H2"  # moves to another spoke and hub
    corrected[2][5] = "61"
    write_csv(settings.landing_dir / "consultations_2025-08-01_v2.csv", CONSULTATION_HEADER, corrected)
    outcomes = run(settings, engine)
    assert [o.status for o in outcomes] == ["loaded"]
    assert count(engine, fact_consultation) == 120
    with engine.connect() as conn:
        day2 = conn.execute(select(func.sum(rollup_facility_day.c.consultations)).where(
            rollup_facility_day.c.day == pd.Timestamp("2025-08-02").date())).scalar()
        age = conn.execute(select(fact_consultation.c.age).where(
            fact_consultation.c.consultation_id == rows[2][0])).scalar()
    assert day2 == 1 and age == 61
    assert_rollups_match_facts(engine)


def test_etl023_unknown_facility_loads_once_the_facility_arrives(settings: Settings, engine: Engine,
                                                                 masters: Path) -> None:
    rows = consultation_rows(10, spokes=("S1", "S9"))
    write_csv(settings.landing_dir / "consultations_2025-08-01.csv", CONSULTATION_HEADER, rows)
    run(settings, engine)
    assert count(engine, fact_consultation) == 5
    write_csv(settings.landing_dir / "facilities_late.csv", FACILITY_HEADER, [
        ["H9", "PHC Late", "PHC", "hub", "203", "20302", "Dighalbank", "26.3", "88.0", ""],
        ["S9", "HSC Late", "SC", "spoke", "203", "20302", "Dighalbank", "26.31", "88.01", "H9"]])
    outcomes = run(settings, engine)
    assert count(engine, fact_consultation) == 10
    assert outcomes[-1].name == "quarantine" and outcomes[-1].counts.released == 5
    with engine.connect() as conn:
        pending = conn.execute(select(func.count()).select_from(quarantine).where(
            quarantine.c.released_run_id.is_(None))).scalar()
        token = conn.execute(select(fact_consultation.c.patient_token).where(
            fact_consultation.c.spoke_id == "S9").limit(1)).scalar()
    assert pending == 0 and token and len(token) == 32
    assert_rollups_match_facts(engine)


def _xlsx_bytes(tmp: Path) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(CONSULTATION_HEADER)
    for row in consultation_rows(30):
        ws.append(row)
    path = tmp / "w.xlsx"
    wb.save(path)
    return path.read_bytes()


@pytest.mark.parametrize(("name", "content", "needle"), [
    ("consultations_empty.csv", b"", "empty"),
    ("consultations_header_only.csv", (",".join(CONSULTATION_HEADER) + "\n").encode(), "no data rows"),
    ("consultations_binary.csv", bytes(range(256)) * 8, "binary"),
    ("consultations_no_columns.csv", b"a,b,c\n1,2,3\n", "missing required columns"),
    ("mystery_file.csv", b"a,b\n1,2\n", "cannot tell which dataset"),
    ("consultations_bad.json", b'[{"Consultation ID": 1,', "JSON"),
])
def test_etl024_broken_files_are_rejected_with_a_reason(settings: Settings, engine: Engine, masters: Path,
                                                        name: str, content: bytes, needle: str) -> None:
    write_csv(settings.landing_dir / "consultations_good.csv", CONSULTATION_HEADER, consultation_rows(50))
    run(settings, engine)
    before = checksums(engine)
    (settings.landing_dir / name).write_bytes(content)
    outcomes = run(settings, engine)
    assert [o.status for o in outcomes] == ["rejected"], outcomes
    assert needle.lower() in outcomes[0].message.lower()
    reason_files = list(settings.rejected_dir.rglob(f"{name}.reason.txt"))
    assert reason_files and needle.lower() in reason_files[0].read_text(encoding="utf-8").lower()
    with engine.connect() as conn:
        status, message = conn.execute(select(etl_run.c.status, etl_run.c.message).where(
            etl_run.c.file_name == name)).one()
    assert status == "rejected" and needle.lower() in message.lower()
    assert checksums(engine) == before


def test_etl025_truncated_csv_loads_complete_rows(settings: Settings, engine: Engine, masters: Path) -> None:
    path = write_csv(settings.landing_dir / "consultations_trunc.csv", CONSULTATION_HEADER, consultation_rows(40))
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"\n", 0, len(data) - 1) + 30])  # cut the last row short
    outcome = {o.name: o for o in run(settings, engine)}["consultations_trunc.csv"]
    assert outcome.status == "loaded" and outcome.counts.loaded == 39
    reasons = top_rejection_reasons(engine)
    assert reasons["reason_code"].tolist() == ["malformed_row"]


def test_etl026_xlsx_named_sheet_wrong_sheet_and_truncated_xlsx(settings: Settings, engine: Engine,
                                                                masters: Path, tmp_path: Path) -> None:
    data = _xlsx_bytes(tmp_path)
    (settings.landing_dir / "consultations_book.xlsx").write_bytes(data)
    (settings.landing_dir / "export_2.xlsx").write_bytes(data)
    (settings.landing_dir / "consultations_cut.xlsx").write_bytes(data[: len(data) // 2])
    (settings.landing_dir / "manifest.json").write_text(
        '{"files": {"export_2.xlsx": {"dataset": "consultations", "sheet": "Nope"}}}', encoding="utf-8")
    outcomes = {o.name: o for o in run(settings, engine)}
    assert outcomes["consultations_book.xlsx"].status == "loaded"
    assert outcomes["consultations_book.xlsx"].counts.loaded == 30
    assert outcomes["export_2.xlsx"].status == "rejected" and "Nope" in outcomes["export_2.xlsx"].message
    assert outcomes["consultations_cut.xlsx"].status == "rejected"
    assert zipfile.is_zipfile(settings.rejected_dir.rglob("consultations_cut.xlsx").__next__()) is False


def test_etl027_hindi_headers_utf16_semicolon_and_day_first_dates(settings: Settings, engine: Engine,
                                                                  masters: Path) -> None:
    hindi = ["परामर्श आईडी", "परामर्श दिनांक", "स्पोक आईडी", "हब आईडी", "आयु", "लिंग"]
    rows = [[f"H{i}", f"0{1 + i % 9}/08/2025 10:{i % 60:02d}", "S1", "H1", str(20 + i), ("महिला", "पुरुष")[i % 2]]
            for i in range(20)]
    write_csv(settings.landing_dir / "consultations_hindi.csv", hindi, rows)
    write_csv(settings.landing_dir / "consultations_unicode.txt", CONSULTATION_HEADER,
              consultation_rows(15, prefix="U"), encoding="utf-16", delimiter="\t")
    write_csv(settings.landing_dir / "consultations_semi.csv", CONSULTATION_HEADER,
              consultation_rows(12, prefix="SC"), encoding="utf-8-sig", delimiter=";")
    outcomes = run(settings, engine)
    assert {o.name: o.counts.loaded for o in outcomes if o.dataset == "consultations"} == {
        "consultations_hindi.csv": 20, "consultations_unicode.txt": 15, "consultations_semi.csv": 12}
    with engine.connect() as conn:
        women = conn.execute(select(func.count()).select_from(fact_consultation).where(
            fact_consultation.c.consultation_id.like("H%"), fact_consultation.c.sex == "F")).scalar()
        day = conn.execute(select(fact_consultation.c.day).where(
            fact_consultation.c.consultation_id == "H3")).scalar()
    assert women == 10 and str(day) == "2025-08-04"


def test_etl028_no_patient_identifier_or_name_reaches_the_warehouse(settings: Settings, engine: Engine,
                                                                    masters: Path) -> None:
    rows = consultation_rows(50, spokes=("S1", "S9"))
    write_csv(settings.landing_dir / "consultations_pii.csv", CONSULTATION_HEADER, rows)
    run(settings, engine)
    secrets = {r[11] for r in rows} | {r[11].replace("-", "") for r in rows} | {r[12] for r in rows} | {"Ram Kumar"}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                blob = repr(tuple(row))
                leaked = [s for s in secrets if s in blob]
                assert not leaked, f"{table.name} holds {leaked[:3]}"


def test_etl029_report_lists_runs_and_reasons(settings: Settings, engine: Engine, masters: Path) -> None:
    rows = consultation_rows(30)
    rows.append(list(rows[0]))
    write_csv(settings.landing_dir / "consultations_x.csv", CONSULTATION_HEADER, rows)
    run(settings, engine)
    runs = recent_runs(engine)
    assert set(runs["status"]) == {"loaded"} and runs["rows_rejected"].sum() == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM data_version WHERE id = 1")).scalar() >= 2


def _rows_of(engine: Engine, table) -> list[tuple]:  # type: ignore[no-untyped-def]
    order = list(table.primary_key.columns)
    with engine.connect() as conn:
        return [tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                for row in conn.execute(select(table).order_by(*order))]


def test_etl039_pandas_rollups_of_new_days_equal_the_sql_refresh(settings: Settings, engine: Engine, masters: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    batches: list[int] = []
    probe = writers.tables_with_new_keys

    def spy(conn, rows):  # type: ignore[no-untyped-def]
        new = probe(conn, rows)
        if new == {t.name for t in ROLLUPS}:
            batches.append(len(rows))
        return new

    monkeypatch.setattr(writers, "tables_with_new_keys", spy)
    day1 = consultation_rows(300)
    for i in (3, 17, 101):
        day1[i][9] = ""  # no wait time: counted in neither wait_n nor a bucket
    day1[5][9] = "250"  # the open last wait bucket
    write_csv(settings.landing_dir / "consultations_2025-08-01.csv", CONSULTATION_HEADER, day1)
    run(settings, engine)
    write_csv(settings.landing_dir / "consultations_2025-08-02.csv", CONSULTATION_HEADER,
              consultation_rows(170, day="2025-08-02", spokes=("S1", "S3", "S4"), prefix="D"))
    run(settings, engine)
    assert batches == [300, 170]  # both days took the pandas path
    from_batches = {t.name: _rows_of(engine, t) for t in ROLLUPS}
    assert all(from_batches.values())
    with engine.begin() as conn:
        rebuild_all(conn)  # the SQL refresh of every key
    assert {t.name: _rows_of(engine, t) for t in ROLLUPS} == from_batches


def test_etl040_a_day_loaded_in_two_parts_adds_the_second_to_the_rollups(settings: Settings, engine: Engine,
                                                                           masters: Path) -> None:
    rows = consultation_rows(200)
    write_csv(settings.landing_dir / "consultations_2025-08-01_a.csv", CONSULTATION_HEADER, rows[:120])
    run(settings, engine)
    write_csv(settings.landing_dir / "consultations_2025-08-01_b.csv", CONSULTATION_HEADER, rows[120:])
    run(settings, engine)
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(rollup_facility_day.c.consultations))).scalar()
    assert total == 200
    assert_rollups_match_facts(engine)


def test_etl041_pending_rows_are_read_again_only_when_a_missing_facility_arrives(
        settings: Settings, engine: Engine, masters: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rereads: list[int] = []
    full_release = EtlRunner._release_pending

    def spy(self):  # type: ignore[no-untyped-def]
        rereads.append(1)
        return full_release(self)

    monkeypatch.setattr(EtlRunner, "_release_pending", spy)
    write_csv(settings.landing_dir / "consultations_2025-08-01.csv", CONSULTATION_HEADER,
              consultation_rows(10, spokes=("S1", "S9")))
    run(settings, engine)
    write_csv(settings.landing_dir / "consultations_2025-08-02.csv", CONSULTATION_HEADER,
              consultation_rows(10, day="2025-08-02", prefix="D"))
    write_csv(settings.landing_dir / "facilities_other.csv", FACILITY_HEADER, [
        ["H8", "PHC Other", "PHC", "hub", "203", "20302", "Dighalbank", "26.3", "88.0", ""]])
    run(settings, engine)
    assert rereads == []  # S9 and H9 are still unknown: the pending rows stay as they are, unread
    write_csv(settings.landing_dir / "facilities_late.csv", FACILITY_HEADER, [
        ["H9", "PHC Late", "PHC", "hub", "203", "20302", "Dighalbank", "26.3", "88.0", ""],
        ["S9", "HSC Late", "SC", "spoke", "203", "20302", "Dighalbank", "26.31", "88.01", "H9"]])
    outcomes = run(settings, engine)
    assert rereads == [1] and outcomes[-1].counts.released == 5
    assert count(engine, fact_consultation) == 20


def test_etl056_refresh_and_moved_facility_find_facts_by_day_and_key(settings: Settings, engine: Engine,
                                                                     masters: Path) -> None:
    """The fact indexes lead with the day (migration 0008): every read of the facts by a load — the rollup refresh of
    a corrected file, a spoke moved to another district — must look up (day, key) pairs, never a whole day or table."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite query plans")
    for day, prefix in (("2025-08-01", "C"), ("2025-08-02", "D")):
        write_csv(settings.landing_dir / f"consultations_{day}.csv", CONSULTATION_HEADER,
                  consultation_rows(60, day=day, prefix=prefix))
    run(settings, engine)
    plans: list[tuple[str, list[str]]] = []

    def explain(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if executemany or "fact_consultation" not in statement or statement.lstrip().upper().startswith("EXPLAIN"):
            return
        rows = conn.connection.driver_connection.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
        plans.append((statement, [str(r[3]) for r in rows]))

    event.listen(engine, "before_cursor_execute", explain)
    try:
        corrected = consultation_rows(60, prefix="C")
        corrected[0][5] = "61"
        write_csv(settings.landing_dir / "consultations_2025-08-01_v2.csv", CONSULTATION_HEADER, corrected)
        moved = [list(r) for r in FACILITIES]
        moved[4][4:7] = ["200", "20001", "Adhaura"]  # S3 moves from Kishanganj to Kaimur
        write_csv(settings.landing_dir / "facilities_moved.csv", FACILITY_HEADER, moved)
        assert [o.status for o in run(settings, engine)] == ["loaded", "loaded"]
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    steps = [(s, step) for s, lines in plans for step in lines if "fact_consultation" in step]
    assert any("ix_fact_consultation_day_spoke (day=? AND spoke_id=?)" in step for _, step in steps)
    assert any("ix_fact_consultation_day_cho (day=? AND cho_id=?)" in step for _, step in steps)
    assert any("ix_fact_consultation_day_hub (day=? AND hub_id=?)" in step for _, step in steps)
    for statement, step in steps:
        assert not step.startswith("SCAN fact_consultation"), (step, statement)
        assert "ix_fact_consultation_day" not in step or "(day=? AND " in step, (step, statement)
    # The moved spoke's days come from the facility rollup along (district_lgd, day): it has no spoke-led index.
    for statement, lines in plans:
        for step in lines:
            assert not step.startswith("SCAN rollup_facility_day"), (step, statement)
    with engine.connect() as conn:
        districts = conn.execute(select(fact_consultation.c.district_lgd).where(
            fact_consultation.c.spoke_id == "S3").distinct()).scalars().all()
    assert districts == [200]
    assert_rollups_match_facts(engine)


@pytest.mark.parametrize(("append_days", "arrays"), [(cumulative.APPEND_DAYS, True), (0, False), (0, True)],
                         ids=["appended", "window", "arrays"])
def test_etl057_running_totals_follow_every_load(settings: Settings, engine: Engine, masters: Path,
                                                 monkeypatch: pytest.MonkeyPatch, append_days: int,
                                                 arrays: bool) -> None:
    """The running totals equal the daily rollups' sums after each run: a first day, a later day with a gap before
    it, a day loaded out of order, a corrected old day (rows moved to another spoke and day), a rebuild. Days after
    the built ones are appended day by day, or always rewritten: by the window query (``window``), or, for the
    totals of whole numbers, in arrays (``arrays``)."""
    monkeypatch.setattr(cumulative, "APPEND_DAYS", append_days)
    monkeypatch.setattr(cumulative, "ARRAY_BUILD", arrays)
    monkeypatch.setattr(running_arrays, "BLOCK_DAYS", 2)  # blocks of days carry their sums to the next
    monkeypatch.setattr(bulk, "_FETCH", 7)  # the daily sums arrive in several fetches
    steps = [("2025-08-01", "C", 90), ("2025-08-04", "D", 60), ("2025-08-02", "E", 45)]
    for day, prefix, n in steps:
        write_csv(settings.landing_dir / f"consultations_{day}.csv", CONSULTATION_HEADER,
                  consultation_rows(n, day=day, prefix=prefix))
        run(settings, engine)
        assert_running_totals_match(engine)
    corrected = consultation_rows(90, day="2025-08-01", prefix="C")
    corrected[0][1], corrected[0][2] = "2025-08-03 10:00:00", "2025-08-03 10:05:00"
    corrected[1][3], corrected[1][4] = "S3", "H2"
    write_csv(settings.landing_dir / "consultations_2025-08-01_v2.csv", CONSULTATION_HEADER, corrected)
    with engine.connect() as conn:
        first_rows = conn.execute(select(func.count()).select_from(cumulative_spoke_day).where(
            cumulative_spoke_day.c.day == date(2025, 8, 1))).scalar()
    run(settings, engine)
    assert_running_totals_match(engine)
    with engine.connect() as conn:
        spoke_s1 = conn.execute(select(cumulative_spoke_day.c.consultations, cumulative_spoke_day.c.active_days,
                                       cumulative_spoke_day.c.last_day)
                                .where(cumulative_spoke_day.c.spoke_id == "S1",
                                       cumulative_spoke_day.c.day == date(2025, 8, 4))).one()
        facts_s1 = conn.execute(select(func.count()).select_from(fact_consultation)
                                .where(fact_consultation.c.spoke_id == "S1")).scalar()
    assert first_rows == 3 and spoke_s1[0] == facts_s1 and spoke_s1[1] == 4 and _day(spoke_s1[2]) == date(2025, 8, 4)
    # A new day that brings keys never seen before (spoke S4, later hours of the day).
    write_csv(settings.landing_dir / "consultations_2025-08-05.csv", CONSULTATION_HEADER,
              consultation_rows(200, day="2025-08-05", spokes=("S1", "S4"), prefix="F"))
    run(settings, engine)
    assert_running_totals_match(engine)
    assert_rollups_match_facts(engine)  # rebuilds the rollups: the running totals are marked for a full rebuild
    with engine.begin() as conn:
        assert conn.execute(select(cumulative_state.c.dirty_from)).scalars().all()[0] is not None
        assert len(refresh_cumulatives(conn)) == len(CUMULATIVES)
    assert_running_totals_match(engine)


@pytest.mark.parametrize("fetch", [2, 3, 100])
def test_etl073_driver_frame_reads_in_fetches_with_text_and_days_as_sorted_categories(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, fetch: int) -> None:
    """``driver_frame`` reads the rows a few at a time; text and dates become Categoricals of sorted categories
    (missing values stay missing, also in fetches before the column's first value), whole numbers stay numbers (a
    column with a missing one keeps it), and every row keeps its values and order."""
    monkeypatch.setattr(bulk, "_FETCH", fetch)
    rows = [(None, 5, date(2025, 8, 3), 1), (None, 7, date(2025, 8, 1), 2), ("S9", 1, None, None),
            ("S10", 2, date(2025, 8, 1), 4), ("S9", 0, date(2025, 8, 2), 5), (None, 4, date(2025, 8, 3), 6),
            ("A1", 3, date(2025, 8, 2), 7)]
    values = union_all(*[select(literal(spoke, String).label("spoke"), literal(n).label("n"),
                                literal(day, Date).label("day"), literal(m, Integer).label("m"))
                         for spoke, n, day, m in rows]).subquery()
    names = ["spoke", "n", "day", "m"]
    with engine.connect() as conn:
        statement = select(values.c.spoke, values.c.n, values.c.day, values.c.m).order_by(values.c.n.desc())
        frame = bulk.driver_frame(conn, statement, names)
        empty = bulk.driver_frame(conn, statement.where(values.c.n > 100), names)
    expected = sorted(rows, key=lambda row: -row[1])
    assert list(frame.columns) == names
    assert isinstance(frame["spoke"].dtype, pd.CategoricalDtype) and isinstance(frame["day"].dtype,
                                                                                 pd.CategoricalDtype)
    assert list(frame["spoke"].cat.categories) == ["A1", "S10", "S9"]
    assert [None if pd.isna(v) else v for v in frame["spoke"]] == [row[0] for row in expected]
    assert frame["n"].tolist() == [row[1] for row in expected] and frame["n"].dtype.kind == "i"
    assert [None if pd.isna(v) else _day(v) for v in frame["day"]] == [row[2] for row in expected]
    assert [_day(v) for v in frame["day"].cat.categories] == [date(2025, 8, d) for d in (1, 2, 3)]
    assert [None if pd.isna(v) else int(v) for v in frame["m"]] == [row[3] for row in expected]
    assert empty.empty and list(empty.columns) == names


@pytest.mark.parametrize("values", [(1, 2, "x"), ("x", "y", 3)], ids=["numbers_then_text", "text_then_number"])
def test_etl074_driver_frame_refuses_a_column_that_mixes_kinds(monkeypatch: pytest.MonkeyPatch,
                                                               values: tuple) -> None:
    """A column whose fetches mix numbers and text (SQLite's typing allows it; no warehouse column holds it) raises
    instead of losing values."""
    from sqlalchemy import create_engine

    monkeypatch.setattr(bulk, "_FETCH", 2)
    mixed = union_all(*[select(literal(v).label("k")) for v in values]).subquery()
    with create_engine("sqlite://").connect() as conn, pytest.raises(TypeError, match="column k mixes"):
        bulk.driver_frame(conn, select(mixed.c.k), ["k"])


def test_etl062_rerun_of_an_interrupted_file_supersedes_only_that_runs_quarantine(settings: Settings,
                                                                                 engine: Engine) -> None:
    from etl.load import ledger

    rejects = pd.DataFrame({"row_number": [2, 3], "natural_key": ["a", "b"], "reason_code": ["bad_age"] * 2,
                            "reason": ["age 130"] * 2, "raw": [{"Age": "130"}, {"Age": "-1"}]})
    runs = {}
    for name, file_hash, status in (("killed", "h1", "interrupted"), ("other", "h2", "interrupted"),
                                    ("done", "h1", "loaded")):
        runs[name] = ledger.start_run(engine, "landing", "consultations", f"{name}.csv", file_hash)
        with engine.begin() as conn:
            ledger.quarantine_rows(conn, runs[name], "consultations", f"{name}.csv", rejects)
        ledger.finish_run(engine, runs[name], status)
    rerun = ledger.start_run(engine, "landing", "consultations", "killed.csv", "h1")
    with engine.begin() as conn:
        ledger.supersede_quarantine_of_interrupted(conn, "h1", rerun)
        ledger.supersede_quarantine_of_interrupted(conn, "h9", rerun)  # no interrupted run: changes nothing
    with engine.connect() as conn:
        released = dict(conn.execute(select(quarantine.c.run_id, func.count()).where(
            quarantine.c.released_run_id == rerun).group_by(quarantine.c.run_id)).all())
    pending = count(engine, quarantine) - sum(released.values())
    assert released == {runs["killed"]: 2}
    assert pending == 4


def test_etl068_ids_past_every_stored_one_skip_the_look_up_and_overlaps_still_find_theirs(
        settings: Settings, engine: Engine, masters: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new day's ids past every stored id need no staging on SQLite (one probe of the key proves none is
    stored); a file whose ids straddle stored ones, or repeat them, still finds exactly the stored ones."""
    staged: list[int] = []
    real_staged = writers._staged_ids
    monkeypatch.setattr(writers, "_staged_ids", lambda conn, ids: staged.append(len(ids)) or real_staged(conn, ids))
    runner = EtlRunner(settings, engine)
    runner.run_landing()  # the facility master (whose writer stages facility ids)
    staged.clear()
    write_csv(settings.landing_dir / "consultations_2025-08-01.csv", CONSULTATION_HEADER,
              consultation_rows(60, prefix="B"))
    runner.run_landing()
    write_csv(settings.landing_dir / "consultations_2025-08-02.csv", CONSULTATION_HEADER,
              consultation_rows(40, day="2025-08-02", prefix="C"))  # "C..." ids sort after every "B..." id
    runner.run_landing()
    if engine.dialect.name == "sqlite":
        assert staged == []
    # "A..." to "D...": the range holds the stored "B" and "C" ids, none of them in this file
    straddling = consultation_rows(10, day="2025-08-03", prefix="A") + consultation_rows(10, day="2025-08-03",
                                                                                       prefix="D")
    write_csv(settings.landing_dir / "consultations_2025-08-03.csv", CONSULTATION_HEADER, straddling)
    runner.run_landing()
    # the second day again, corrected: same ids, now on the 4th
    write_csv(settings.landing_dir / "consultations_2025-08-02_fix.csv", CONSULTATION_HEADER,
              consultation_rows(40, day="2025-08-04", prefix="C"))
    runner.run_landing()
    if engine.dialect.name == "sqlite":
        assert staged == [20, 40]
    assert count(engine, fact_consultation) == 120
    with engine.connect() as conn:
        days = dict(conn.execute(select(fact_consultation.c.day, func.count()).group_by(fact_consultation.c.day)).all())
    assert {str(d)[:10]: n for d, n in days.items()} == {"2025-08-01": 60, "2025-08-03": 20, "2025-08-04": 40}
    assert_rollups_match_facts(engine)
