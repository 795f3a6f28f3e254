"""The scheme rollups (etl.load.scheme_rollups) after loads through the drop folder, against the same sums worked out
here from the facts, on SQLite (and PostgreSQL when AROGYA_TEST_DATABASE_URL is set)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select, text, update

from arogya_cli import main
from etl.load.runner import EtlRunner
from etl.load.scheme_rollups import ROLLUPS, mark_schemes_stale, package_signature, refresh_scheme_rollups
from etl.settings import Settings
from etl.warehouse.migrate import upgrade
from etl.warehouse.schema import (
    PACKAGE_FLAG_COLUMNS,
    dim_scheme_indicator,
    fact_scheme_value,
    scheme_district_month,
    scheme_moved_facility,
    scheme_package_month,
    scheme_rollup_state,
)
from tests.integration.etl_files import FACILITIES, FACILITY_HEADER, write_csv

SCHEME_HEADER = ["Facility ID", "Indicator", "Month", "Value", "Target"]
PACKAGES = {f"PKG_{k:02d}": k for k in range(1, 13)}


def flags(facility: str, month: str, offered: set[int], packages: range = range(1, 13)) -> list[list[str]]:
    return [[facility, f"PKG_{k:02d}", month, "1" if k in offered else "0", "1"] for k in packages]


def load(settings: Settings, engine: Engine, name: str, rows: list[list[str]],
         header: list[str] = SCHEME_HEADER) -> None:
    write_csv(settings.landing_dir / name, header, rows)
    outcomes = EtlRunner(settings, engine).run_landing()
    assert {o.status for o in outcomes} == {"loaded"}, [(o.name, o.status, o.message) for o in outcomes]


def _month(value: object) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _num(value: object) -> float | None:
    return None if value is None or value != value else round(float(value), 6)  # type: ignore[operator]


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple((v is not None, v) for v in row))  # NULL first, as a key


def expected(engine: Engine) -> tuple[set[str], list[tuple], list[tuple]]:
    """The movers, scheme_district_month's rows and scheme_package_month's rows worked out from the facts."""
    with engine.connect() as conn:
        facts = pd.DataFrame(conn.execute(select(fact_scheme_value)).mappings().all())
    facts["month"] = [_month(m) for m in facts["month"]]
    two_districts = facts.groupby(["facility_id", "indicator_code"])["district_lgd"].nunique()
    movers = {f for f, _ in two_districts[two_districts > 1].index}
    flag_rows = facts[facts["indicator_code"].isin(list(PACKAGES))]
    places = flag_rows.assign(place=flag_rows["district_lgd"].astype(str) + "/" + flag_rows["block_lgd"].astype(str))
    two_places = places.groupby(["facility_id", "month"])["place"].nunique()
    movers |= {f for f, _ in two_places[two_places > 1].index}
    district_rows: dict[tuple, list[float | None]] = {}
    for r in facts.itertuples(index=False):
        if r.facility_id in movers:
            continue
        earlier = facts[(facts["facility_id"] == r.facility_id) & (facts["indicator_code"] == r.indicator_code)
                        & (facts["month"] < r.month)]["month"]
        key = (r.indicator_code, r.month, int(r.district_lgd), max(earlier) if len(earlier) else r.month)
        target = None if r.target is None or r.target != r.target else float(r.target)
        n, value, with_target, total = district_rows.get(key, [0, 0.0, 0.0, None])
        district_rows[key] = [n + 1, value + r.value, with_target + (r.value if target is not None else 0.0),
                              total if target is None else (total or 0.0) + target]
    district = _sorted([(*k, v[0], _num(v[1]), _num(v[2]), _num(v[3])) for k, v in district_rows.items()])
    package_rows = []
    for (facility, month), group in flag_rows.groupby(["facility_id", "month"]):
        if facility in movers:
            continue
        pkgs = []
        for k in range(1, 13):
            mine = group[group["indicator_code"].map(PACKAGES) == k]
            pkgs.append(int((mine["value"] > 0).max()) if len(mine) else None)
        block = group["block_lgd"].iloc[0]
        package_rows.append((month, facility, int(group["district_lgd"].iloc[0]),
                             None if block != block or block is None else int(block), *pkgs))
    return movers, district, sorted(package_rows, key=lambda r: (r[0], r[1]))


def stored(engine: Engine) -> tuple[set[str], list[tuple], list[tuple]]:
    p = scheme_package_month.c
    with engine.connect() as conn:
        movers = set(conn.execute(select(scheme_moved_facility.c.facility_id)).scalars())
        district = _sorted([(r.indicator_code, _month(r.month), r.district_lgd, _month(r.prev_month), r.facilities,
                             _num(r.value), _num(r.value_with_target), _num(r.target))
                            for r in conn.execute(select(scheme_district_month))])
        packages = [(_month(r[0]), *r[1:]) for r in conn.execute(
            select(p.month, p.facility_id, p.district_lgd, p.block_lgd, *[p[c] for c in PACKAGE_FLAG_COLUMNS])
            .order_by(p.month, p.facility_id))]
    return movers, district, packages


def assert_scheme_rollups_match(engine: Engine) -> None:
    with engine.connect() as conn:
        states = {r.table_name: r for r in conn.execute(select(scheme_rollup_state))}
        latest = conn.execute(select(func.max(fact_scheme_value.c.month))).scalar()
    assert set(states) == set(ROLLUPS)
    for state in states.values():
        assert state.dirty_from is None and _month(state.built_through) == _month(latest), state
    assert states["scheme_package_month"].packages == package_signature(PACKAGES)
    assert stored(engine) == expected(engine)


@pytest.fixture
def masters(settings: Settings) -> Path:
    return write_csv(settings.landing_dir / "facilities_master.csv", FACILITY_HEADER, FACILITIES)


def test_etl058_scheme_rollups_follow_every_load(settings: Settings, engine: Engine, masters: Path) -> None:
    """A first month, a later month with a gap before it, the gap loaded afterwards (a previous month changes), a
    corrected old month: the rollups equal the sums of the facts after each run, and a rebuild changes nothing."""
    load(settings, engine, "schemes_2025-06.csv", [["S1", "ABHA_CREATED", "2025-06", "20", "60"],
                                                    ["S2", "ABHA_CREATED", "2025-06", "10", "60"],
                                                    *flags("S1", "2025-06", {1, 2})])
    assert_scheme_rollups_match(engine)
    load(settings, engine, "schemes_2025-08.csv", [["S1", "ABHA_CREATED", "2025-08", "30", "60"],
                                                    ["S3", "ABHA_CREATED", "2025-08", "5", ""],
                                                    ["S1", "NCD_HTN", "2025-08", "100", "120"],
                                                    *flags("S2", "2025-08", {1, 3, 12})])
    assert_scheme_rollups_match(engine)
    load(settings, engine, "schemes_2025-07.csv", [["S1", "ABHA_CREATED", "2025-07", "25", "60"],
                                                    *flags("S3", "2025-07", set())])
    assert_scheme_rollups_match(engine)
    t = scheme_district_month.c
    with engine.connect() as conn:
        august = conn.execute(select(t.prev_month, t.facilities, t.value, t.value_with_target, t.target).where(
            t.indicator_code == "ABHA_CREATED", t.month == date(2025, 8, 1)).order_by(t.prev_month)).all()
    # August in Kishanganj: S1 again after July (30 of 60), S3 for the first time (5, no target).
    assert [(_month(m), n, v, w, g) for m, n, v, w, g in august] == [
        (date(2025, 7, 1), 1, 30.0, 30.0, 60.0), (date(2025, 8, 1), 1, 5.0, 0.0, None)]
    load(settings, engine, "schemes_2025-06_v2.csv", [["S2", "ABHA_CREATED", "2025-06", "12", "60"]])
    assert_scheme_rollups_match(engine)
    before = stored(engine)
    with engine.begin() as conn:
        mark_schemes_stale(conn, None, rebuild=True)
        assert refresh_scheme_rollups(conn) == list(ROLLUPS)
        assert refresh_scheme_rollups(conn) == []  # up to date: nothing to do
    assert stored(engine) == before
    assert before[0] == set()


def test_etl059_a_facility_that_moves_leaves_the_rollups(settings: Settings, engine: Engine, masters: Path) -> None:
    """A spoke moved to another district between two months of values, and one whose package flags of one month
    were loaded before and after a move to another block: both are left out of the rollups (read from the facts)."""
    load(settings, engine, "schemes_2025-07.csv", [["S3", "ABHA_CREATED", "2025-07", "40", "60"],
                                                    ["S1", "ABHA_CREATED", "2025-07", "50", "60"],
                                                    *flags("S2", "2025-07", {1}, range(1, 7))])
    moved = [list(r) for r in FACILITIES]
    moved[4][4:7] = ["200", "20001", "Adhaura"]  # S3 to Kaimur
    load(settings, engine, "facilities_master_v2.csv", moved, FACILITY_HEADER)
    load(settings, engine, "schemes_2025-08.csv", [["S3", "ABHA_CREATED", "2025-08", "45", "60"],
                                                    ["S1", "ABHA_CREATED", "2025-08", "55", "60"]])
    assert_scheme_rollups_match(engine)
    with engine.connect() as conn:
        assert set(conn.execute(select(scheme_moved_facility.c.facility_id)).scalars()) == {"S3"}
    moved[3][5:7] = ["20303", "Kishanganj"]  # S2 to another block of its district
    load(settings, engine, "facilities_master_v3.csv", moved, FACILITY_HEADER)
    load(settings, engine, "schemes_2025-07b.csv", flags("S2", "2025-07", {7}, range(7, 13)))
    assert_scheme_rollups_match(engine)
    with engine.connect() as conn:
        assert set(conn.execute(select(scheme_moved_facility.c.facility_id)).scalars()) == {"S2", "S3"}
        assert conn.execute(select(scheme_package_month)).all() == []


def test_etl060_upgrade_builds_the_rollups_of_an_existing_warehouse(settings: Settings, engine: Engine,
                                                                    masters: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A warehouse loaded before revision 0013: the migration registers the rollups unbuilt (stale, so the dashboard
    reads the facts), `arogya db upgrade` builds them; a changed package map is built again."""
    load(settings, engine, "schemes_2025-07.csv", [["S1", "ABHA_CREATED", "2025-07", "50", "60"],
                                                    *flags("S1", "2025-07", {1, 2, 3})])
    with engine.begin() as conn:
        for name in ("scheme_rollup_state", "scheme_package_month", "scheme_moved_facility",
                     "scheme_district_month"):
            conn.execute(text(f"DROP TABLE {name}"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0012'"))
    upgrade(engine, "0013")
    with engine.connect() as conn:
        states = conn.execute(select(scheme_rollup_state.c.table_name, scheme_rollup_state.c.built_through,
                                     scheme_rollup_state.c.dirty_from)).all()
    assert sorted((n, b, _month(d)) for n, b, d in states) == [
        ("scheme_district_month", None, date(1900, 1, 1)), ("scheme_package_month", None, date(1900, 1, 1))]
    monkeypatch.setenv("AROGYA_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("AROGYA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AROGYA_QUIET", "1")
    assert main(["db", "upgrade"]) == 0
    assert_scheme_rollups_match(engine)
    with engine.begin() as conn:
        conn.execute(update(dim_scheme_indicator).where(dim_scheme_indicator.c.indicator_code == "PKG_03")
                     .values(package=2))
        assert refresh_scheme_rollups(conn) == ["scheme_package_month"]
        pkg = conn.execute(select(scheme_package_month.c.pkg_02, scheme_package_month.c.pkg_03)).one()
        conn.execute(update(dim_scheme_indicator).where(dim_scheme_indicator.c.indicator_code == "PKG_03")
                     .values(package=3))
        refresh_scheme_rollups(conn)
    assert tuple(pkg) == (1, None)
    assert_scheme_rollups_match(engine)
