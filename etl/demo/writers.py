"""Writing the master files (facilities, CHOs) and a month of scheme returns in the layouts real exports use."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from etl.demo.chos import Roster, ddmmyyyy
from etl.demo.csvio import write_csv
from etl.demo.xlsx import Column, write_xlsx

FACILITY_HEADERS = {
    "facility_id": "Facility ID", "name": "Facility Name", "facility_type": "Facility Type", "role": "Role",
    "district_lgd": "District LGD Code", "block_lgd": "Block LGD Code", "block_name": "Block Name",
    "block_name_hi": "Block Name (Hindi)", "lat": "Latitude", "lon": "Longitude", "hub_id": "Assigned Hub",
    "operational_since": "Operational Since", "service_start": "Service Start", "service_end": "Service End",
    "service_days": "Service Days",
}  # fmt: skip
CHO_HEADERS = ("CHO ID", "CHO Name", "HWC ID", "Date of Joining", "Laptop Issue Date", "Modules Completed",
               "In Service")
SCHEME_CSV_HEADERS = ("Facility ID", "Indicator Code", "Month", "Value", "Target")
SCHEME_XLSX_HEADERS = ("HWC ID", "Indicator", "Reporting Month", "Achievement", "Target")


def facility_frame(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows[list(FACILITY_HEADERS)].copy()
    out["lat"] = out["lat"].map(lambda v: f"{v:.5f}")
    out["lon"] = out["lon"].map(lambda v: f"{v:.5f}")
    out["role"] = out["role"].map(lambda r: r.title() if r in ("hub", "spoke") else r)
    out["operational_since"] = out["operational_since"].map(lambda d: d.isoformat())
    return out.rename(columns=FACILITY_HEADERS)


def write_facilities_csv(rows: pd.DataFrame, path: Path) -> Path:
    """Facility master rows, ordered by district, role and id, as UTF-8 CSV."""
    ordered = rows.sort_values(["district_lgd", "role", "facility_id"], kind="stable")
    return write_csv(facility_frame(ordered), path)


def _cho_columns(r: pd.DataFrame) -> list[tuple[str, object]]:
    return list(zip(CHO_HEADERS, (
        r.cho_id.tolist(), r.name.tolist(), r.facility_id.tolist(), ddmmyyyy(r.joined_on.tolist()),
        ddmmyyyy(r.laptop_issued_on.tolist()), r.training_modules.to_numpy(), np.where(r.active, "Yes", "No").tolist(),
    ), strict=True))  # fmt: skip


def write_chos_xlsx(roster: Roster, path: Path) -> Path:
    """The CHO roster as the state's workbook (sheet "CHO List", dd-mm-yyyy dates as text)."""
    return write_xlsx(path, [Column(h, v, "number" if h == "Modules Completed" else "text")
                             for h, v in _cho_columns(roster.frame)], sheet="CHO List")


def write_chos_csv(roster: Roster, path: Path) -> Path:
    """The same roster as CSV (large states: a workbook of 30,000 rows is slow to read)."""
    return write_csv(pd.DataFrame(dict(_cho_columns(roster.frame))), path)


def write_scheme_month(frame: pd.DataFrame, month: date, path_stem: Path, xlsx: bool) -> Path:
    """A month of scheme returns: the state's XLSX workbook layout, or the CSV one."""
    if xlsx:
        return write_xlsx(path_stem.with_suffix(".xlsx"), [
            Column(SCHEME_XLSX_HEADERS[0], frame.facility_id.to_numpy()),
            Column(SCHEME_XLSX_HEADERS[1], frame.indicator_code.to_numpy()),
            Column(SCHEME_XLSX_HEADERS[2], np.full(len(frame), np.datetime64(month.isoformat(), "s")), "datetime"),
            Column(SCHEME_XLSX_HEADERS[3], frame.value.to_numpy(), "number"),
            Column(SCHEME_XLSX_HEADERS[4], frame.target.to_numpy(), "number"),
        ])  # fmt: skip
    path = path_stem.with_suffix(".csv")
    write_csv(frame.set_axis(list(SCHEME_CSV_HEADERS), axis=1), path)
    return path
