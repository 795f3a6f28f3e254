"""The ETL run ledger and the quarantine: what was read, loaded and rejected, and why."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, desc, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from etl.load.bulk import DriverRows, execute_driver_rows
from etl.warehouse.schema import data_version, etl_run, quarantine
from etl.warehouse.upsert import upsert

FINISHED_OK = ("loaded", "already_loaded")


def utcnow() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass
class RunCounts:
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    released: int = 0

    def add(self, other: RunCounts) -> None:
        self.read += other.read
        self.loaded += other.loaded
        self.rejected += other.rejected
        self.released += other.released


def start_run(engine: Engine, source: str, dataset: str | None, file_name: str | None,
              file_hash: str | None) -> int:
    with engine.begin() as conn:
        result = conn.execute(insert(etl_run).values(
            source=source, dataset=dataset, file_name=file_name, file_hash=file_hash, started_at=utcnow(),
            status="running"))
        return int(result.inserted_primary_key[0])


def add_counts(conn: Connection, run_id: int, counts: RunCounts) -> None:
    """Add a committed batch's counts to its run, in the batch's own transaction."""
    conn.execute(update(etl_run).where(etl_run.c.run_id == run_id).values(
        rows_read=etl_run.c.rows_read + counts.read,
        rows_loaded=etl_run.c.rows_loaded + counts.loaded,
        rows_rejected=etl_run.c.rows_rejected + counts.rejected,
        rows_released=etl_run.c.rows_released + counts.released,
    ))


def finish_run(engine: Engine, run_id: int, status: str, message: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(update(etl_run).where(etl_run.c.run_id == run_id).values(
            status=status, finished_at=utcnow(), message=message))


def already_loaded(engine: Engine, dataset: str, file_hash: str) -> int | None:
    """The run that loaded this exact file before, if any."""
    with engine.connect() as conn:
        return conn.execute(
            select(etl_run.c.run_id).where(etl_run.c.file_hash == file_hash, etl_run.c.dataset == dataset,
                                           etl_run.c.status == "loaded").order_by(etl_run.c.run_id).limit(1)
        ).scalar()


def close_interrupted_runs(engine: Engine) -> list[int]:
    """Runs left 'running' by a killed process (the caller holds the ETL lock, so none is really running)."""
    with engine.begin() as conn:
        stale = list(conn.execute(select(etl_run.c.run_id).where(etl_run.c.status == "running")).scalars())
        if stale:
            conn.execute(update(etl_run).where(etl_run.c.run_id.in_(stale)).values(
                status="interrupted", finished_at=utcnow(),
                message="the process stopped before this run finished; the file is loaded again on the next run"))
    return stale


def supersede_quarantine_of_interrupted(conn: Connection, file_hash: str, run_id: int) -> None:
    """A re-run of a file that was interrupted re-quarantines its bad rows; the earlier records are superseded."""
    # The interrupted runs first (almost always none): given the subquery, SQLite's planner walks every pending
    # quarantine row through the released_run_id index instead of the few rows of those runs.
    earlier = list(conn.execute(select(etl_run.c.run_id).where(
        etl_run.c.file_hash == file_hash, etl_run.c.status == "interrupted")).scalars())
    if earlier:
        conn.execute(update(quarantine).where(quarantine.c.run_id.in_(earlier),
                                              quarantine.c.released_run_id.is_(None))
                     .values(released_run_id=run_id))


def quarantine_rows(conn: Connection, run_id: int, dataset: str, file_name: str | None, rejects: pd.DataFrame) -> int:
    if rejects.empty:
        return 0
    # Values made ready for the driver here, the raw row as the JSON text SQLAlchemy's JSON type would bind: its
    # processing of each row and value costs several times the insert (a day file quarantines hundreds of rows).
    serialize = getattr(conn.dialect, "_json_serializer", None) or json.dumps
    n = len(rejects)
    prepared = DriverRows(
        ["dataset", "file_name", "row_number", "natural_key", "reason_code", "reason", "raw"],
        [[dataset] * n, [file_name] * n,
         [int(v) if pd.notna(v) else None for v in rejects["row_number"]],
         [_text_or_none(v) for v in rejects["natural_key"]],
         [str(v) for v in rejects["reason_code"]],
         [str(v)[:2000] for v in rejects["reason"]],
         [serialize(_jsonable(raw)) for raw in rejects["raw"]]],
        extra=("run_id",))
    return execute_driver_rows(conn, insert(quarantine), prepared, (run_id,))


def _text_or_none(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _jsonable(raw: Any) -> dict[str, str]:
    # Values read from a file are text already: only the others are looked at.
    return {k if type(k) is str else str(k): v if type(v) is str else _text_or_none(v) or ""
            for k, v in dict(raw).items()}


def bump_data_version(conn: Connection) -> None:
    """Tell every dashboard process that the data changed (their cache keys include this version)."""
    current = conn.execute(select(data_version.c.version).where(data_version.c.id == 1)).scalar()
    upsert(conn, data_version, [{"id": 1, "version": (current or 0) + 1, "changed_at": utcnow()}])


# The row of ``data_version`` that counts changes of the live state (current status, alerts) rather than loads: the
# status API, the alert evaluation and an acknowledgement bump it in their own transaction, so the dashboard's briefly
# cached live board is never older than the last committed change (the result cache's other keys stay valid).
LIVE_VERSION_ID = 2


def bump_live_version(conn: Connection) -> None:
    """Count one committed change of the live state (an atomic increment: concurrent writers never lose a bump)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(data_version).values(id=LIVE_VERSION_ID, version=1, changed_at=utcnow())
    conn.execute(stmt.on_conflict_do_update(index_elements=[data_version.c.id], set_={
        "version": data_version.c.version + 1, "changed_at": stmt.excluded.changed_at}))


def recent_runs(engine: Engine, limit: int = 20) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(etl_run).order_by(desc(etl_run.c.run_id)).limit(limit)).mappings().all()
    return pd.DataFrame(rows, columns=[c.name for c in etl_run.columns])


def top_rejection_reasons(engine: Engine, limit: int = 10, run_ids: Iterable[int] | None = None) -> pd.DataFrame:
    stmt = (select(quarantine.c.dataset, quarantine.c.reason_code, func.count().label("rows"),
                   func.max(quarantine.c.reason).label("example"))
            .where(quarantine.c.released_run_id.is_(None))
            .group_by(quarantine.c.dataset, quarantine.c.reason_code)
            .order_by(desc("rows")).limit(limit))
    if run_ids is not None:
        stmt = stmt.where(quarantine.c.run_id.in_(list(run_ids)))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=["dataset", "reason_code", "rows", "example"])


def as_json(frame: pd.DataFrame) -> str:
    return json.dumps(frame.to_dict(orient="records"), default=str, ensure_ascii=False, indent=2)
