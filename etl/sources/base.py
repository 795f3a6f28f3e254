"""What every file reader yields: raw string cells, the physical row numbers, and per-row problems."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DATASETS: tuple[str, ...] = ("facilities", "chos", "schemes", "status", "consultations")


class FileRejected(Exception):
    """A file-level problem: the whole file is refused. ``str(exc)`` is a clear human reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class RawChunk:
    """Up to ``chunk_rows`` records of one file, every cell a ``str`` ("" for empty or missing)."""

    frame: pd.DataFrame
    row_numbers: np.ndarray  # int64, 1-based physical line (CSV, JSON lines), sheet row (XLSX) or element index
    problems: list[str]  # per row: "" when well-formed, else a human reason

    def __len__(self) -> int:
        return len(self.frame)


def clean_headers(raw: list[str]) -> list[str]:
    """Strip BOMs and surrounding spaces; make repeated names unique with " (2)", " (3)", ..."""
    seen: set[str] = set()
    out: list[str] = []
    for value in raw:
        name = str(value).replace("\ufeff", "").strip()
        candidate, k = name, 1
        while candidate in seen:
            k += 1
            candidate = f"{name} ({k})".strip()
        seen.add(candidate)
        out.append(candidate)
    return out


def frame_from_columns(headers: list[str], columns: list[list[str]] | list[np.ndarray]) -> pd.DataFrame:
    """A DataFrame of object columns (no string inference: the values stay plain Python ``str``)."""
    data = {i: np.asarray(col, dtype=object) for i, col in enumerate(columns)}
    frame = pd.DataFrame(data, dtype=object, copy=False)
    frame.columns = pd.Index(headers, dtype=object)
    return frame


def frame_from_rows(headers: list[str], rows: list[list[str]]) -> pd.DataFrame:
    """Rows already padded/truncated to ``len(headers)`` cells."""
    if not rows:
        return frame_from_columns(headers, [[] for _ in headers])
    return frame_from_columns(headers, [list(col) for col in zip(*rows, strict=True)])


def field_count_problem(found: int, expected: int, *, last: bool) -> str:
    if found < expected:
        hint = " (truncated file?)" if last else ""
        return f"row has {found} field{'s' if found != 1 else ''} but the header has {expected}{hint}"
    return f"row has {found} fields but the header has {expected}"
