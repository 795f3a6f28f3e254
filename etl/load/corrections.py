"""A corrected consultation that moved to another day: its stored row goes before the new one is written.

On PostgreSQL the fact table is partitioned by month and keyed on ``(consultation_id, day)`` (see
``etl.warehouse.partitions``), so an upsert of a row whose day changed would insert a second row (perhaps in another
month's partition) instead of updating the first. The same code runs on SQLite, where the delete is followed by a
plain insert. The rollups of the old day are refreshed by the caller, which records the old keys as touched.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, and_, bindparam, delete

from etl.warehouse.schema import fact_consultation


def delete_moved_consultations(conn: Connection, stored: pd.DataFrame, incoming: pd.DataFrame) -> int:
    """Delete the stored row of every consultation in ``incoming`` whose ``day`` differs from the stored one
    (``stored`` and ``incoming`` both have ``consultation_id`` and ``day``). Returns how many were deleted."""
    if stored.empty:
        return 0
    pairs = stored[["consultation_id", "day"]].merge(incoming[["consultation_id", "day"]], on="consultation_id",
                                                     suffixes=("_stored", "_new"))
    moved = pairs[pd.to_datetime(pairs["day_stored"]) != pd.to_datetime(pairs["day_new"])]
    if moved.empty:
        return 0
    f = fact_consultation.c
    statement = delete(fact_consultation).where(and_(f.consultation_id == bindparam("cid"),
                                                     f.day == bindparam("stored_day")))
    conn.execute(statement, [{"cid": str(cid), "stored_day": pd.Timestamp(day).date()}
                             for cid, day in zip(moved["consultation_id"], moved["day_stored"], strict=True)])
    return len(moved)
