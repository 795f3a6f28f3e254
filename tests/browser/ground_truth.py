"""Numbers the browser tests expect on screen, computed here straight from the demo's SQLite warehouse with plain
SQL over the fact and dimension tables (never through ``dashboard.data``, whose answers the pages show): a page
that agrees with these agrees with the data, not merely with itself.

Definitions (the pages' help texts say the same):

- a spoke is *idle for N days* when it had no consultation in the N days ending on the period's last day and was
  operational for all of them (no opening date counts as always open);
- a spoke is *assigned across a border* when its hub lies in another district;
- a CHO (active in the roster) is *silent* when their last consultation up to the period's last day is 7 or more
  days before it, or there is none;
- a centre *lags* on an indicator when, over the months the period overlaps, Σ value ÷ Σ target (rows with a
  target) is below 50 %.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

LAGGARD_PCT = 50.0
SILENT_DAYS = 7


def _one(db: Path, sql: str, params: dict[str, object]) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        (value,) = conn.execute(sql, params).fetchone()
    return int(value)


def idle_spokes(db: Path, end: date, days: int) -> int:
    return _one(db, """
        SELECT count(*) FROM dim_facility AS s
        WHERE s.role = 'spoke'
          AND (s.operational_since IS NULL OR s.operational_since <= :opened_by)
          AND NOT EXISTS (SELECT 1 FROM fact_consultation AS c
                          WHERE c.spoke_id = s.facility_id AND c.day > :after AND c.day <= :end)""",
                {"opened_by": (end - timedelta(days=days)).isoformat(),
                 "after": (end - timedelta(days=days)).isoformat(), "end": end.isoformat()})


def cross_district_spokes(db: Path) -> int:
    return _one(db, """
        SELECT count(*) FROM dim_facility AS s JOIN dim_facility AS h ON h.facility_id = s.hub_id
        WHERE s.role = 'spoke' AND h.district_lgd <> s.district_lgd""", {})


def silent_chos(db: Path, end: date) -> int:
    return _one(db, """
        SELECT count(*) FROM dim_cho AS o
        WHERE o.active = 1
          AND NOT EXISTS (SELECT 1 FROM fact_consultation AS c
                          WHERE c.cho_id = o.cho_id AND c.day > :after AND c.day <= :end)""",
                {"after": (end - timedelta(days=SILENT_DAYS)).isoformat(), "end": end.isoformat()})


def lagging_centres(db: Path, start: date, end: date, indicator: str) -> tuple[int, int]:
    """(centres below 50 % of target, centres with a target) for ``indicator`` over the period's months."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("""
            SELECT sum(CASE WHEN target IS NOT NULL THEN value ELSE 0 END), sum(target)
            FROM fact_scheme_value
            WHERE indicator_code = :indicator AND month >= :first_month AND month <= :end
            GROUP BY facility_id""",
                            {"indicator": indicator, "first_month": start.replace(day=1).isoformat(),
                             "end": end.isoformat()}).fetchall()
    with_target = [(value or 0.0, target) for value, target in rows if target]
    return sum(1 for value, target in with_target if 100.0 * value / target < LAGGARD_PCT), len(with_target)


def consultations(db: Path, start: date, end: date) -> int:
    return _one(db, "SELECT count(*) FROM fact_consultation WHERE day >= :start AND day <= :end",
                {"start": start.isoformat(), "end": end.isoformat()})
