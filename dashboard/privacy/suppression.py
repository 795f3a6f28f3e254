"""Small-cell suppression with complementary suppression, for patient breakdowns (age, sex, outcome).

A breakdown is a table of counts: rows are places or periods (district, block, facility, month), columns are the
categories of one patient attribute (age bands, sexes, outcomes). A count from 1 to k−1 (k = 5 by default,
``AROGYA_SUPPRESSION_K``) is a *primary* suppression. Row totals (consultations of a place: an operational count that
the dashboard publishes anyway) and column totals (the breakdown over all rows, e.g. a chart of the whole state) are
assumed published, so a lone suppressed cell could be recovered by subtraction: *complementary* suppressions are
added until no primary cell's value follows from what is published. That is checked exactly: with the published
cells and totals fixed, the range a suppressed cell can take over all non-negative tables is computed with two
max-flow problems on the bipartite graph of suppressed cells (rows and columns as nodes, cells as edges), and a
primary cell whose range is a single value gets more complements. Where no choice of cells can protect it (e.g. a
row of a single consultation whose category is given away by column totals of zero), the totals that give it away
are withheld: first column totals, then row totals (``hidden_col_totals``/``hidden_row_totals`` say which).

Operational counts (facility status, consultations per facility or district) are not suppressed; this module is for
breakdowns of patients. Rates derived from a two-way split (e.g. referral rate = referred / all) are suppressed with
``suppress_rate`` when either side of the split is a small count.

Pure functions; no I/O.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_K = 5


def is_small(value: int, k: int = DEFAULT_K) -> bool:
    return 0 < value < k


@dataclass(frozen=True)
class Suppression:
    """Which cells (and totals) to withhold. ``mask[i][j]`` is True for a suppressed cell; ``primary`` marks the
    small counts among them."""

    mask: tuple[tuple[bool, ...], ...]
    primary: tuple[tuple[bool, ...], ...]
    hidden_row_totals: tuple[bool, ...]
    hidden_col_totals: tuple[bool, ...]

    @property
    def suppressed(self) -> int:
        return sum(sum(row) for row in self.mask)

    @property
    def any(self) -> bool:
        return self.suppressed > 0


# ---------------------------------------------------------------- exact ranges of suppressed cells

def _max_flow(n: int, cap: dict[tuple[int, int], int], source: int, sink: int, limit: int) -> int:
    """Edmonds–Karp on a small graph; stops once ``limit`` is reached."""
    if source == sink:
        return limit
    adj: list[set[int]] = [set() for _ in range(n)]
    residual: dict[tuple[int, int], int] = {}
    for (a, b), c in cap.items():
        if c <= 0:
            continue
        residual[(a, b)] = residual.get((a, b), 0) + c
        residual.setdefault((b, a), 0)
        adj[a].add(b)
        adj[b].add(a)
    flow = 0
    while flow < limit:
        parent = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            a = queue.popleft()
            for b in adj[a]:
                if b not in parent and residual.get((a, b), 0) > 0:
                    parent[b] = a
                    queue.append(b)
        if sink not in parent:
            break
        push, b = limit - flow, sink
        while b != source:
            a = parent[b]
            push = min(push, residual[(a, b)])
            b = a
        b = sink
        while b != source:
            a = parent[b]
            residual[(a, b)] -= push
            residual[(b, a)] += push
            b = a
        flow += push
    return flow


def _groups(n: int, published: bool, hidden: Sequence[bool]) -> list[int]:
    """Node of each row (or column): its own when its total is published, else one shared node for all the rows
    whose totals are withheld (only their sum is known, from the grand total)."""
    nodes: list[int] = []
    for i in range(n):
        nodes.append(i if published and not hidden[i] else n)
    return nodes


def cell_ranges(values: Sequence[Sequence[int]], mask: Sequence[Sequence[bool]], *, rows_published: bool = True,
                cols_published: bool = True, hidden_row_totals: Sequence[bool] | None = None,
                hidden_col_totals: Sequence[bool] | None = None) -> dict[tuple[int, int], tuple[int, int]]:
    """For each suppressed cell, the (lowest, highest) value it can take in any table of non-negative integers that
    agrees with everything published: the unsuppressed cells, the row and column totals not withheld, and the grand
    total. A cell whose lowest equals its highest can be derived."""
    n_rows = len(values)
    n_cols = len(values[0]) if n_rows else 0
    hidden_rows = list(hidden_row_totals or [False] * n_rows)
    hidden_cols = list(hidden_col_totals or [False] * n_cols)
    row_node = _groups(n_rows, rows_published, hidden_rows)
    col_node = [n_rows + 1 + j for j in _groups(n_cols, cols_published, hidden_cols)]
    n_nodes = n_rows + n_cols + 2
    cells = [(i, j) for i in range(n_rows) for j in range(n_cols) if mask[i][j]]
    infinite = sum(int(v) for row in values for v in row) + 1
    ranges: dict[tuple[int, int], tuple[int, int]] = {}
    for e in cells:
        up: dict[tuple[int, int], int] = {}
        down: dict[tuple[int, int], int] = {}
        for c in cells:
            if c == e:
                continue
            r, s, x = row_node[c[0]], col_node[c[1]], int(values[c[0]][c[1]])
            # Raising e: the other cells at e's column node go down (column→row, up to their value), cells at a row
            # node go up (row→column, unbounded), until the cycle closes at e's row node. Lowering e: the reverse.
            up[(s, r)] = up.get((s, r), 0) + x
            up[(r, s)] = infinite
            down[(s, r)] = infinite
            down[(r, s)] = down.get((r, s), 0) + x
        u, v, x = row_node[e[0]], col_node[e[1]], int(values[e[0]][e[1]])
        rise = _max_flow(n_nodes, up, v, u, infinite)
        fall = _max_flow(n_nodes, down, v, u, x) if x > 0 else 0
        ranges[e] = (x - min(fall, x), x + rise)
    return ranges


def derivable_cells(values: Sequence[Sequence[int]], mask: Sequence[Sequence[bool]], **published: object,
                    ) -> set[tuple[int, int]]:
    return {cell for cell, (low, high) in cell_ranges(values, mask, **published).items()  # type: ignore[arg-type]
            if low == high}


# ---------------------------------------------------------------- the suppression

def suppress_table(values: Sequence[Sequence[int]], k: int = DEFAULT_K, *, rows_published: bool = True,
                   cols_published: bool = True) -> Suppression:
    """Primary suppression of the counts 1..k−1, then complementary suppression until no primary cell can be
    derived from the published cells and totals."""
    table = [[int(v) for v in row] for row in values]
    n_rows = len(table)
    n_cols = len(table[0]) if n_rows else 0
    if any(len(row) != n_cols for row in table):
        raise ValueError("every row needs the same number of cells")
    if any(v < 0 for row in table for v in row):
        raise ValueError("counts cannot be negative")
    primary = [[is_small(v, k) for v in row] for row in table]
    mask = [list(row) for row in primary]
    hidden_rows = [False] * n_rows
    hidden_cols = [False] * n_cols
    if not any(any(row) for row in primary):
        return _result(mask, primary, hidden_rows, hidden_cols)

    def suppressed_in_row(i: int) -> int:
        return sum(mask[i])

    def suppressed_in_col(j: int) -> int:
        return sum(mask[i][j] for i in range(n_rows))

    def pick(candidates: list[tuple[int, int]]) -> tuple[int, int] | None:
        """The complement that costs least: one that closes a cycle (its other line already has a suppressed
        cell), then the smallest non-zero count, zeros last."""
        if not candidates:
            return None

        def key(c: tuple[int, int]) -> tuple[int, int, int, int, int]:
            i, j = c
            closes = suppressed_in_col(j) > 0 and suppressed_in_row(i) > 0
            value = table[i][j]
            return (0 if closes else 1, 1 if value == 0 else 0, value, i, j)

        return min(candidates, key=key)

    for _ in range(4 * (n_rows * n_cols + n_rows + n_cols) + 8):
        changed = False
        # 1. No published line (row or column) may hold exactly one suppressed cell: subtraction would give it.
        if rows_published:
            for i in range(n_rows):
                if not hidden_rows[i] and suppressed_in_row(i) == 1:
                    choice = pick([(i, j) for j in range(n_cols) if not mask[i][j]])
                    if choice is not None:
                        mask[choice[0]][choice[1]] = True
                        changed = True
        if cols_published:
            for j in range(n_cols):
                if not hidden_cols[j] and suppressed_in_col(j) == 1:
                    choice = pick([(i, j) for i in range(n_rows) if not mask[i][j]])
                    if choice is not None:
                        mask[choice[0]][choice[1]] = True
                        changed = True
        if changed:
            continue
        # 2. The exact check: every primary cell must be able to take at least two values.
        exposed = [c for c in derivable_cells(table, mask, rows_published=rows_published,
                                              cols_published=cols_published, hidden_row_totals=hidden_rows,
                                              hidden_col_totals=hidden_cols) if primary[c[0]][c[1]]]
        if not exposed:
            return _result(mask, primary, hidden_rows, hidden_cols)
        i, j = exposed[0]
        choice = pick([(i, jj) for jj in range(n_cols) if not mask[i][jj]]
                      + [(ii, j) for ii in range(n_rows) if not mask[ii][j]])
        if choice is None:
            # Row and column are all suppressed: try a cell on another line that already has suppressions.
            choice = pick([(ii, jj) for ii in range(n_rows) for jj in range(n_cols) if not mask[ii][jj]
                           and (suppressed_in_row(ii) > 0 or suppressed_in_col(jj) > 0)])
        if choice is not None:
            mask[choice[0]][choice[1]] = True
        else:
            # Nothing left to suppress: withhold the totals that give the cell away.
            _withhold(i, j, hidden_rows, hidden_cols, rows_published, cols_published)
    raise RuntimeError("suppression did not converge")  # pragma: no cover - bounded by the table's size


def _withhold(i: int, j: int, hidden_rows: list[bool], hidden_cols: list[bool], rows_published: bool,
              cols_published: bool) -> None:
    """Column totals (the breakdown's own margins) go before row totals (operational counts)."""
    if cols_published and not hidden_cols[j]:
        hidden_cols[j] = True
    elif cols_published and not all(hidden_cols):
        hidden_cols[:] = [True] * len(hidden_cols)
    elif rows_published and not hidden_rows[i]:
        hidden_rows[i] = True
    elif rows_published and not all(hidden_rows):
        hidden_rows[:] = [True] * len(hidden_rows)
    else:  # pragma: no cover - a lone cell with only the grand total published
        raise ValueError("a breakdown with a single cell cannot be protected; do not publish it")


def _result(mask: list[list[bool]], primary: list[list[bool]], hidden_rows: list[bool],
            hidden_cols: list[bool]) -> Suppression:
    return Suppression(mask=tuple(tuple(r) for r in mask), primary=tuple(tuple(r) for r in primary),
                       hidden_row_totals=tuple(hidden_rows), hidden_col_totals=tuple(hidden_cols))


# ---------------------------------------------------------------- DataFrames

def suppress_breakdown(frame: pd.DataFrame, columns: Sequence[str], k: int = DEFAULT_K, *,
                       rows_published: bool = True, cols_published: bool = True) -> tuple[pd.DataFrame, Suppression]:
    """``frame`` with the suppressed cells of ``columns`` (one patient attribute's categories) set to missing
    (nullable ``Int64``), and the suppression itself (e.g. to withhold column totals it marks)."""
    out = frame.copy()
    if frame.empty or not columns:
        return out, _result([], [], [], [False] * len(columns))
    values = frame[list(columns)].fillna(0).astype("int64").to_numpy().tolist()
    result = suppress_table(values, k, rows_published=rows_published, cols_published=cols_published)
    mask = np.array(result.mask, dtype=bool)
    for j, col in enumerate(columns):
        series = out[col].astype("Int64")
        series[mask[:, j]] = pd.NA
        out[col] = series
    return out, result


def suppress_rate(part: int, whole: int, k: int = DEFAULT_K) -> bool:
    """Whether a rate ``part / whole`` from a two-way split (e.g. referred vs not) must be withheld: either side is
    a small count, and with the total published one side gives the other."""
    return is_small(int(part), k) or is_small(int(whole) - int(part), k)


def suppress_rates(part: np.ndarray, whole: np.ndarray, k: int = DEFAULT_K) -> np.ndarray:
    """``suppress_rate`` for whole integer columns: True where either side of the split is small (1..k-1)."""
    other = whole - part
    return ((part > 0) & (part < k)) | ((other > 0) & (other < k))


def rate_or_missing(part: pd.Series, whole: pd.Series, rate: pd.Series, k: int = DEFAULT_K) -> pd.Series:
    """``rate`` with the rows whose split (``part`` of ``whole``) has a small side set to NaN."""
    hide = [suppress_rate(p, w, k) if not (_missing(p) or _missing(w)) else False
            for p, w in zip(part, whole, strict=True)]
    out = rate.astype("float64").copy()
    out[np.array(hide, dtype=bool)] = np.nan
    return out


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
