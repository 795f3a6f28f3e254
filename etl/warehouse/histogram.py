"""Fixed-bucket histograms kept in the rollups, so percentiles never need raw rows.

Wait times (minutes from joining the queue to the doctor picking up) fall into ``WAIT_EDGES``; bucket ``i`` holds
values in ``[WAIT_EDGES[i], WAIT_EDGES[i+1])`` and the last bucket is open-ended. A percentile is read back by linear
interpolation inside the bucket that holds it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

WAIT_EDGES: tuple[float, ...] = (0, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180)
# The open last bucket is read back as if it ended here.
WAIT_LAST_EDGE: float = 240.0
WAIT_BUCKET_COLUMNS: tuple[str, ...] = tuple(f"wait_b{i:02d}" for i in range(len(WAIT_EDGES)))


def wait_bucket_index(minutes: np.ndarray) -> np.ndarray:
    """Bucket index for each wait in minutes (NaN → -1)."""
    values = np.asarray(minutes, dtype=float)
    idx = np.searchsorted(np.asarray(WAIT_EDGES, dtype=float), values, side="right") - 1
    idx = np.clip(idx, 0, len(WAIT_EDGES) - 1)
    return np.where(np.isnan(values), -1, idx)


def percentile_from_counts(counts: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) of values binned as ``counts`` over ``WAIT_EDGES``.

    Uses the same rule as ``numpy.percentile(..., method="linear")`` would on values spread evenly within each
    bucket: the rank ``q/100 * n`` is located and interpolated between the bucket edges.
    """
    total = float(sum(counts))
    if total <= 0:
        return None
    target = q / 100.0 * total
    uppers = list(WAIT_EDGES[1:]) + [WAIT_LAST_EDGE]
    cumulative = 0.0
    for lower, upper, count in zip(WAIT_EDGES, uppers, counts, strict=True):
        if count <= 0:
            continue
        if cumulative + count >= target:
            fraction = (target - cumulative) / count
            return float(lower + fraction * (upper - lower))
        cumulative += count
    return float(WAIT_LAST_EDGE)


def percentiles_from_count_rows(counts: np.ndarray, q: float) -> np.ndarray:
    """``percentile_from_counts`` for each row of a (rows × buckets) array of counts, NaN where a row has none:
    the same arithmetic in the same order, so the same floats."""
    counts = np.asarray(counts, dtype=np.float64).reshape(-1, len(WAIT_EDGES))
    totals = counts.sum(axis=1)
    target = q / 100.0 * totals
    before = np.cumsum(counts, axis=1) - counts  # what the buckets before each one hold
    # The first bucket with counts that reaches the target (the loop skips empty buckets).
    reaches = (counts > 0) & (before + counts >= target[:, None])
    found = reaches.any(axis=1)
    at = reaches.argmax(axis=1)
    rows = np.arange(len(counts))
    lower = np.asarray(WAIT_EDGES, dtype=np.float64)
    upper = np.append(lower[1:], WAIT_LAST_EDGE)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = (target - before[rows, at]) / counts[rows, at]
    out = np.where(found, lower[at] + fraction * (upper[at] - lower[at]), WAIT_LAST_EDGE)
    return np.where(totals > 0, out, np.nan)
