"""Fast CSV writing for the big demo files (Arrow's C++ writer; pandas' ``to_csv`` is several times slower)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv


def write_csv(frame: pd.DataFrame, path: Path, *, sep: str = ",", bom: bool = False, eol: str = "\n") -> Path:
    """UTF-8 CSV (with a byte-order mark if ``bom``), values unquoted; falls back to pandas (which quotes where
    needed) if a value holds the delimiter, a quote or a line break."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    options = pacsv.WriteOptions(delimiter=sep, eol=eol, quoting_style="none", quoting_header="none")
    try:
        with path.open("wb") as handle:
            if bom:
                handle.write("\ufeff".encode())
            pacsv.write_csv(table, handle, write_options=options)
    except pa.ArrowInvalid:
        frame.to_csv(path, index=False, sep=sep, encoding="utf-8-sig" if bom else "utf-8", lineterminator=eol)
    return path
