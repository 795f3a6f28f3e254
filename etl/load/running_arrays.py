"""Running totals computed in arrays rather than by a window query: the rows of a ``cumulative_*`` table from the
daily sums of its rollup, a block of days at a time, in the table's (day, keys) order.

A full build of the state demo's running totals writes about 14 million rows. SQLite's window query sorts every
(key, day) of the calendar and inserts in key order into tables keyed by day; here each block is a (key x day) grid
whose running sums are one ``cumsum``, and the rows leave in the key order of the table, so the insert appends.
No SQL here: ``etl.load.cumulative`` reads the daily sums and writes what this yields.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd

BLOCK_DAYS = 32
_NO_DAY = np.iinfo(np.int64).min


def _key_codes(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each row's key as a number whose order is the keys' sort order, and per key column the value of each number
    (``values[i][code]``)."""
    columns = [pd.factorize(frame[k], sort=True) for k in keys]
    sizes = [len(uniques) for _, uniques in columns]
    if int(np.prod([max(n, 1) for n in sizes], dtype=object)) < 2**62:
        combined = np.zeros(len(frame), dtype=np.int64)
        for (codes, _), n in zip(columns, sizes, strict=True):
            combined = combined * n + codes
        distinct, inverse = np.unique(combined, return_inverse=True)
        parts = []
        for n in reversed(sizes):
            parts.append(distinct % n)
            distinct = distinct // n
        parts.reverse()
    else:  # pragma: no cover - more distinct key combinations than an int64 can number
        stacked, inverse = np.unique(np.stack([codes for codes, _ in columns], axis=1), axis=0, return_inverse=True)
        parts = [stacked[:, i] for i in range(len(keys))]
    values = [np.asarray(uniques)[part] for (_, uniques), part in zip(columns, parts, strict=True)]
    return inverse.reshape(-1), values


def _day_offsets(days: pd.Series, first: date) -> np.ndarray:
    """Days after ``first`` of each value (a date, timestamp or ISO text), converted once per distinct day."""
    codes, uniques = pd.factorize(days)
    stamps = pd.to_datetime(pd.Series(uniques).astype(str).str.slice(0, 10), format="%Y-%m-%d")
    offsets = (stamps.to_numpy(dtype="datetime64[D]") - np.datetime64(first, "D")).astype(np.int64)
    return offsets[codes]


def running_rows(daily: pd.DataFrame, base: pd.DataFrame | None, keys: list[str], measures: list[str],
                 activity: bool, first: date, last: date, block_days: int | None = None) -> Iterator[pd.DataFrame]:
    """The running-total rows from ``first`` to ``last``, ``block_days`` (``BLOCK_DAYS``) days per frame, by day, key.

    ``daily`` holds one row per key and day with a consultation (``keys``, ``day``, ``measures``). ``base`` holds
    each key's row of the day before ``first`` (``keys``, ``measures`` and with ``activity`` ``active_days`` and
    ``last_day``), or is None for a build from nothing. A key has a row on every day from its first day in
    ``daily`` (from ``first`` when it is in ``base``): its base plus the sums through that day; with ``activity``
    also the days with a consultation and the last of them."""
    block_days = block_days or BLOCK_DAYS
    base = base if base is not None and not base.empty else None
    n_days = (last - first).days + 1
    if n_days <= 0 or (daily.empty and base is None):
        return
    key_frame = daily[keys] if base is None else pd.concat([daily[keys], base[keys]], ignore_index=True)
    codes, key_values = _key_codes(key_frame, keys)
    n_keys = len(key_values[0])
    key_of_day, key_of_base = codes[:len(daily)], codes[len(daily):]
    offsets = _day_offsets(daily["day"], first) if len(daily) else np.zeros(0, dtype=np.int64)
    sums = daily[measures].to_numpy(dtype=np.int64)
    del daily, key_frame  # from here on the arrays stand for the frame (the caller may let go of it too)

    # A rollup read along its (day, ...) key comes in day order already: then no copy of the sums.
    if len(offsets) > 1 and not (offsets[1:] >= offsets[:-1]).all():
        order = np.argsort(offsets, kind="stable")
        offsets, key_of_day, sums = offsets[order], key_of_day[order], sums[order]
    first_day = np.full(n_keys, n_days, dtype=np.int64)
    seen_keys, first_at = np.unique(key_of_day, return_index=True)
    first_day[seen_keys] = offsets[first_at]
    carry = np.zeros((n_keys, len(measures)), dtype=np.int64)
    active = np.zeros(n_keys, dtype=np.int64)
    last_seen = np.full(n_keys, _NO_DAY, dtype=np.int64)
    if base is not None:
        first_day[key_of_base] = 0
        carry[key_of_base] = base[measures].to_numpy(dtype=np.int64)
        if activity:
            active[key_of_base] = base["active_days"].to_numpy(dtype=np.int64)
            stamps = pd.to_datetime(base["last_day"])
            known = stamps.notna().to_numpy()
            base_last = np.full(len(base), _NO_DAY, dtype=np.int64)
            base_last[known] = (stamps[known].to_numpy(dtype="datetime64[D]")
                                - np.datetime64(first, "D")).astype(np.int64)
            last_seen[key_of_base] = base_last

    start = np.datetime64(first, "D")
    # Grids are day-major (day, key[, measure]), the order of the table's primary key and of the rows written.
    for j0 in range(0, n_days, block_days):
        j1 = min(j0 + block_days, n_days)
        width = j1 - j0
        lo, hi = np.searchsorted(offsets, [j0, j1])
        rows_days, rows_keys = offsets[lo:hi] - j0, key_of_day[lo:hi]
        grid = np.zeros((width, n_keys, len(measures)), dtype=np.int64)
        grid[rows_days, rows_keys] = sums[lo:hi]
        grid[0] += carry
        for t in range(1, width):  # one add of whole (key x measure) planes a day: cumsum along axis 0 is slower
            grid[t] += grid[t - 1]
        carry = grid[-1].copy()
        day_numbers = np.arange(j0, j1)
        emitted = (day_numbers[:, None] >= first_day[None, :]).reshape(-1)
        values = grid.reshape(-1, len(measures))[emitted]
        out: dict[str, object] = {"day": np.repeat(start + day_numbers, n_keys)[emitted]}
        for name, key_column in zip(keys, key_values, strict=True):
            out[name] = pd.Series(np.tile(key_column, width)[emitted], dtype=key_column.dtype)
        for i, name in enumerate(measures):
            out[name] = values[:, i]
        if activity:
            present = np.zeros((width, n_keys), dtype=bool)
            present[rows_days, rows_keys] = True
            days_active = np.cumsum(present, axis=0, dtype=np.int64) + active
            active = days_active[-1].copy()
            seen = np.where(present, day_numbers[:, None], _NO_DAY)
            seen[0] = np.maximum(seen[0], last_seen)
            seen = np.maximum.accumulate(seen, axis=0)
            last_seen = seen[-1].copy()
            out["active_days"] = days_active.reshape(-1)[emitted]
            seen_flat = seen.reshape(-1)[emitted]
            last_day = np.full(len(seen_flat), np.datetime64("NaT"), dtype="datetime64[D]")
            known = seen_flat != _NO_DAY
            last_day[known] = start + seen_flat[known]
            out["last_day"] = last_day
        yield pd.DataFrame(out)
