"""Whole-column arithmetic the data modules share: ranks and rates over numpy arrays (a few hundred hubs or a few
dozen districts, where a pandas operation costs more than the arithmetic)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def rank_highest_first(values: np.ndarray) -> pd.arrays.IntegerArray:
    """``rank(method="min", ascending=False)``: 1 + the number of strictly higher values; none where missing."""
    missing = np.isnan(values)
    ordered = np.sort(values[~missing])
    ranks = np.zeros(len(values), dtype=np.int64)
    ranks[~missing] = len(ordered) - np.searchsorted(ordered, values[~missing], side="right") + 1
    return pd.arrays.IntegerArray(ranks, missing)


def ratio(part: np.ndarray, whole: np.ndarray, scale: float = 100.0) -> np.ndarray:
    """``scale * part / whole`` as floats, NaN where ``whole`` is not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(whole > 0, scale * np.asarray(part, dtype=np.float64) / whole, np.nan)
