"""Idempotent writes of validated rows, one function per dataset, each inside the caller's batch transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    String,
    Table,
    and_,
    delete,
    insert,
    literal,
    select,
    text,
    union,
    update,
)

from etl.load.bulk import DriverRows, driver_rows, execute_driver_rows, execute_rows
from etl.load.corrections import delete_moved_consultations
from etl.load.cumulative import mark_stale
from etl.load.rollup_frames import ROLLUP_TABLES, batch_rollups, days_of
from etl.load.rollups import (
    ADDITIVE_ROLLUPS,
    additive_merge_statement,
    prepare_temp_tables,
    record_touched,
    refresh_hub_days,
    refresh_touched,
)
from etl.load.scheme_rollups import mark_schemes_stale
from etl.transform.datasets import FACT_CONSULTATION_COLUMNS
from etl.warehouse.partitions import ensure_month_partitions
from etl.warehouse.schema import (
    current_status,
    dim_block,
    dim_cho,
    dim_facility,
    dim_specialty,
    fact_consultation,
    fact_scheme_value,
    fact_status_event,
    rollup_facility_day,
)
from etl.warehouse.upsert import upsert, upsert_statement

TOUCHED_KEYS = ["spoke_id", "hub_id", "day", "district_lgd", "cho_id"]
_temp = MetaData()
incoming_ids = Table("tmp_incoming_ids", _temp, Column("id", String(64)), prefixes=["TEMPORARY"])


@dataclass
class PreparedConsultations:
    """What ``write_consultations`` writes for a batch of new consultations of new days, converted ahead of time
    (by the ETL's reader process): the fact rows without their run id, and every rollup's rows."""

    facts: DriverRows
    rollups: dict[str, DriverRows]


def prepare_consultations(rows: pd.DataFrame, dialect: str) -> PreparedConsultations:
    facts = driver_rows(rows[FACT_CONSULTATION_COLUMNS], fact_consultation, dialect)
    facts.extra = ("run_id",)
    frames = batch_rollups(rows)
    return PreparedConsultations(facts, {table.name: driver_rows(frames[table.name], table, dialect)
                                         for table in ROLLUP_TABLES})


_KEY_PROBE = 5_000  # values per IN list of ``tables_with_new_keys`` (well below every driver's limit on parameters)


def tables_with_new_keys(conn: Connection, rows: pd.DataFrame) -> set[str]:
    """The rollups that hold no row for any day of ``rows`` together with any of the batch's places (spokes,
    districts, CHOs or hubs): no consultation of those keys was loaded before (the rollups are refreshed in the same
    transaction as the facts they count), so the batch's aggregates are those rollup rows and can be inserted as they
    stand. Each probe runs along the table's (day, place, ...) primary key, which a bulk load keeps. A day loaded in
    several files (one per state, say) is new for each file whose places are new; a hub that serves spokes of two
    states is not new for the second state's file."""
    days = days_of(rows)
    if not days:
        return set()
    new = set()
    for table in ROLLUP_TABLES:
        # A day no load has reached (every day of a first load) needs no look-up of the batch's places, whose IN
        # lists of thousands of values cost more to build than the probe costs to run.
        if conn.execute(select(literal(1)).select_from(table).where(table.c.day.in_(days)).limit(1)).first() is None:
            new.add(table.name)
            continue
        key = table.primary_key.columns.values()[1]  # every rollup's key is (day, its place, ...)
        values = pd.Series(rows[key.name]).dropna().unique().tolist()
        for start in range(0, len(values), _KEY_PROBE):
            probe = (select(literal(1)).select_from(table)
                     .where(table.c.day.in_(days), key.in_(values[start:start + _KEY_PROBE])).limit(1))
            if conn.execute(probe).first():
                break
        else:
            new.add(table.name)
    return new


def merge_batch_rollups(conn: Connection, rows: pd.DataFrame, prepared: PreparedConsultations | None) -> None:
    """Bring every rollup up to date with ``rows``, consultations none of which was stored before: a rollup whose
    keys are new takes the batch's rows as they stand; an additive one adds them to its stored rows (a plain
    ``ON CONFLICT`` merge, no read of the facts); the hub-day rollup, whose doctor count is distinct, counts the
    shared (hub, day) pairs again from the facts along their (day, hub_id) index."""
    new = tables_with_new_keys(conn, rows)
    prepared_rows = prepared.rollups if prepared is not None else None
    frames = batch_rollups(rows) if prepared_rows is None else {}
    dialect = conn.dialect.name
    for table in ROLLUP_TABLES:
        if table.name in new:
            statement = insert(table)
        elif table.name in ADDITIVE_ROLLUPS:
            statement = additive_merge_statement(conn, table)
        else:
            refresh_hub_days(conn, rows[["hub_id", "day"]])
            continue
        batch = prepared_rows[table.name] if prepared_rows is not None else driver_rows(frames[table.name], table,
                                                                                       dialect)
        execute_driver_rows(conn, statement, batch)


@dataclass
class WriteResult:
    written: int
    ignored: int = 0  # rows that changed nothing (e.g. duplicate status events)


def stored_versions(conn: Connection, ids: pd.Series) -> pd.DataFrame:
    """The stored consultations among ``ids``: their id and the keys of the rollup rows they count."""
    f = fact_consultation.c
    columns = ["consultation_id", *TOUCHED_KEYS]
    if conn.dialect.name == "sqlite" and _none_between(conn, str(ids.min()), str(ids.max())):
        # Exports number consultations in order, so a new day's ids usually lie past every stored one: one probe of
        # the primary key (SQLite orders text as Python does) proves none is stored, without staging the ids.
        return pd.DataFrame(columns=columns)
    staged = _staged_ids(conn, ids.tolist())
    with _probing_by_key(conn):
        return pd.DataFrame(conn.execute(
            select(f.consultation_id, f.spoke_id, f.hub_id, f.day, f.district_lgd, f.cho_id)
            .select_from(fact_consultation.join(staged, staged.c.id == f.consultation_id))).all(),
            columns=columns)


def _none_between(conn: Connection, low: str, high: str) -> bool:
    """Whether no stored consultation id lies from ``low`` to ``high``."""
    probe = (select(literal(1)).select_from(fact_consultation)
             .where(fact_consultation.c.consultation_id.between(low, high)).limit(1))
    return conn.execute(probe).first() is None


def _staged_ids(conn: Connection, ids: Sequence[str]) -> Table:
    incoming_ids.create(conn, checkfirst=True)
    conn.execute(delete(incoming_ids))
    execute_rows(conn, insert(incoming_ids), pd.DataFrame({"id": list(ids)}, dtype=object))
    return incoming_ids


@contextmanager
def _probing_by_key(conn: Connection) -> Iterator[None]:
    """On PostgreSQL, look the batch's ids up one by one in each month's primary key. Its planner otherwise hashes
    the batch and reads every stored consultation (the month partitions' statistics lag behind a large load): two
    seconds a batch at three million rows, growing with the table, where the probes take a tenth of that."""
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.execute(text("SET LOCAL enable_hashjoin = off"))
    conn.execute(text("SET LOCAL enable_mergejoin = off"))
    try:
        yield
    finally:
        conn.execute(text("RESET enable_hashjoin"))
        conn.execute(text("RESET enable_mergejoin"))


def write_consultations(conn: Connection, rows: pd.DataFrame, run_id: int, *, keep_existing: bool = False,
                        prepared: PreparedConsultations | None = None) -> WriteResult:
    """Upsert consultations by id and refresh the rollups of every (spoke, day) the batch touched, old and new.

    ``keep_existing`` inserts only ids not yet loaded (used when releasing quarantined rows, so that a row loaded
    since from a corrected file is not overwritten by an older copy)."""
    if rows.empty:
        return WriteResult(0)
    old = stored_versions(conn, rows["consultation_id"])
    if keep_existing and not old.empty:
        rows = rows[~rows["consultation_id"].isin(old["consultation_id"])]
        old = old.iloc[0:0]
        if rows.empty:
            return WriteResult(0)
    ensure_month_partitions(conn, rows["day"])
    delete_moved_consultations(conn, old, rows)
    if old.empty and prepared is not None:
        # None of the batch's ids is stored yet (the common case): a plain insert, no conflict handling per row.
        execute_driver_rows(conn, insert(fact_consultation), prepared.facts, (run_id,))
    else:
        frame = rows[FACT_CONSULTATION_COLUMNS].assign(run_id=run_id)
        execute_rows(conn, insert(fact_consultation) if old.empty else upsert_statement(conn, fact_consultation),
                     frame)
    mark_stale(conn, first_day(rows["day"], old["day"]))
    if old.empty:
        merge_batch_rollups(conn, rows, prepared)
        return WriteResult(len(rows))
    prepare_temp_tables(conn)
    touched = pd.concat([old[TOUCHED_KEYS], rows[TOUCHED_KEYS]], ignore_index=True)
    record_touched(conn, touched)
    refresh_touched(conn)
    return WriteResult(len(rows))


def first_day(*days: pd.Series) -> date | None:
    """The earliest day in ``days`` (None when they hold none)."""
    stamps = [pd.to_datetime(d).min() for d in days if len(d)]
    stamps = [s for s in stamps if not pd.isna(s)]
    return min(stamps).date() if stamps else None


def register_specialties(conn: Connection, new: dict[str, str]) -> None:
    if new:
        upsert(conn, dim_specialty, [{"specialty_code": k, "name_en": v, "name_hi": v} for k, v in new.items()],
               do_nothing=True)


def write_facilities(conn: Connection, rows: pd.DataFrame, run_id: int) -> WriteResult:
    """Upsert blocks and facilities. A facility that moved to another district or block takes its loaded
    consultations with it (facts and rollups are updated), so district totals stay true to the master."""
    if rows.empty:
        return WriteResult(0)
    blocks = rows.loc[rows["block_lgd"].notna(), ["block_lgd", "district_lgd", "block_name", "block_name_hi"]]
    blocks = blocks.drop_duplicates("block_lgd", keep="last")
    if not blocks.empty:
        upsert(conn, dim_block, [
            {"block_lgd": int(b.block_lgd), "district_lgd": int(b.district_lgd),
             "name_en": _text(b.block_name) or f"Block {int(b.block_lgd)}",
             "name_hi": _text(b.block_name_hi) or _text(b.block_name) or ""}
            for b in blocks.itertuples(index=False)
        ])
    d = dim_facility.c
    ids = rows["facility_id"].tolist()
    staged = _staged_ids(conn, ids)
    before = pd.DataFrame(conn.execute(
        select(d.facility_id, d.district_lgd, d.block_lgd).select_from(
            dim_facility.join(staged, staged.c.id == d.facility_id))).all(),
        columns=["facility_id", "district_lgd", "block_lgd"])
    columns = ["facility_id", "name", "facility_type", "role", "district_lgd", "block_lgd", "lat", "lon", "hub_id",
               "operational_since", "service_start", "service_end", "service_days"]
    execute_rows(conn, upsert_statement(conn, dim_facility), rows[columns].assign(updated_run_id=run_id))
    if not before.empty:
        merged = before.merge(rows[["facility_id", "district_lgd", "block_lgd"]], on="facility_id",
                              suffixes=("_old", "_new"))
        moved = merged[(merged["district_lgd_old"] != merged["district_lgd_new"])
                       | (merged["block_lgd_old"].astype("Int64").fillna(-1)
                          != merged["block_lgd_new"].astype("Int64").fillna(-1))]
        for m in moved.itertuples(index=False):
            _move_spoke_facts(conn, m.facility_id, int(m.district_lgd_old), int(m.district_lgd_new),
                              None if pd.isna(m.block_lgd_new) else int(m.block_lgd_new))
    return WriteResult(len(rows))


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _move_spoke_facts(conn: Connection, spoke_id: str, old_district_lgd: int, district_lgd: int,
                      block_lgd: int | None) -> None:
    f, r = fact_consultation.c, rollup_facility_day.c
    prepare_temp_tables(conn)
    # The facts' indexes lead with the day: the facility's days come first from the rollup (kept in the same
    # transactions as the facts, so it has a row for every (spoke, day) and (hub, day) of the facts). Its rows as a
    # spoke carry the district it had until now: they are read along (district_lgd, day).
    spoke_days = select(r.day).where(r.district_lgd == old_district_lgd, r.spoke_id == spoke_id).distinct()
    as_spoke = and_(f.day.in_(spoke_days), f.spoke_id == spoke_id)
    as_hub = and_(f.day.in_(select(r.day).where(r.hub_id == spoke_id).distinct()), f.hub_id == spoke_id)
    keys = [f.spoke_id, f.hub_id, f.day, f.district_lgd, f.cho_id]
    old = pd.DataFrame(conn.execute(union(select(*keys).where(as_spoke), select(*keys).where(as_hub))).all(),
                       columns=TOUCHED_KEYS)
    if old.empty:
        return
    conn.execute(update(fact_consultation).where(as_spoke).values(district_lgd=district_lgd, block_lgd=block_lgd))
    conn.execute(update(fact_consultation).where(as_hub).values(hub_district_lgd=district_lgd))
    record_touched(conn, pd.concat([old, old.assign(district_lgd=district_lgd)], ignore_index=True))
    refresh_touched(conn)
    mark_stale(conn, first_day(old["day"]))


def write_chos(conn: Connection, rows: pd.DataFrame, run_id: int) -> WriteResult:
    if rows.empty:
        return WriteResult(0)
    columns = ["cho_id", "name", "facility_id", "district_lgd", "block_lgd", "joined_on", "laptop_issued_on",
               "training_modules", "active"]
    execute_rows(conn, upsert_statement(conn, dim_cho), rows[columns].assign(updated_run_id=run_id))
    return WriteResult(len(rows))


def write_schemes(conn: Connection, rows: pd.DataFrame, run_id: int) -> WriteResult:
    if rows.empty:
        return WriteResult(0)
    columns = ["facility_id", "indicator_code", "month", "district_lgd", "block_lgd", "value", "target"]
    execute_rows(conn, upsert_statement(conn, fact_scheme_value), rows[columns].assign(run_id=run_id))
    mark_schemes_stale(conn, pd.Timestamp(rows["month"].min()).date())
    return WriteResult(len(rows))


def write_status(conn: Connection, rows: pd.DataFrame, run_id: int | None = None, *, source: str = "etl",
                 received_at: pd.Timestamp | None = None) -> WriteResult:
    """Append status events (a repeated event id changes nothing) and move each facility's current status forward
    to its newest event."""
    if rows.empty:
        return WriteResult(0)
    received = received_at if received_at is not None else pd.Timestamp.now(tz="Asia/Kolkata").tz_localize(None)
    events = rows[["event_id", "facility_id", "event_time", "kind", "doctors_online", "queue_length",
                   "connectivity"]].copy()
    events["received_at"] = received.floor("s")
    events["source"] = source
    e = fact_status_event.c
    staged = _staged_ids(conn, events["event_id"].tolist())
    known = set(conn.execute(select(e.event_id).select_from(
        fact_status_event.join(staged, staged.c.id == e.event_id))).scalars())
    fresh = events[~events["event_id"].isin(known)]
    if fresh.empty:
        return WriteResult(0, ignored=len(events))
    # Rows go in key order: two writers whose batches share event ids or facilities then take their row locks in
    # the same order and one waits for the other, where any other order can deadlock them (PostgreSQL). Counted by
    # the database: an event the other writer committed after the look-up above is a duplicate, not written twice.
    written = execute_rows(conn, upsert_statement(conn, fact_status_event, do_nothing=True),
                           fresh.sort_values("event_id"), counted=True)
    latest = (fresh.sort_values(["event_time", "event_id"]).drop_duplicates("facility_id", keep="last")
              .sort_values("facility_id"))
    # Only a newer event moves the current status: batches may arrive out of order.
    execute_rows(conn, upsert_statement(conn, current_status, where=_is_newer), latest.drop(columns=["source"]))
    return WriteResult(written, ignored=len(events) - written)


def _is_newer(stmt):  # type: ignore[no-untyped-def]
    return stmt.excluded.event_time >= current_status.c.event_time


WRITERS = {
    "consultations": write_consultations,
    "facilities": write_facilities,
    "chos": write_chos,
    "schemes": write_schemes,
    "status": write_status,
}

