"""Small hand-made export files for ETL tests, and checksums of warehouse tables."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from sqlalchemy import Engine, Table, select

FACILITY_HEADER = ["Facility ID", "Facility Name", "Facility Type", "Role", "District LGD Code", "Block LGD Code",
                   "Block Name", "Latitude", "Longitude", "Hub ID"]
FACILITIES = [
    ["H1", "PHC Bahadurganj", "PHC", "hub", "203", "20301", "Bahadurganj", "26.26", "87.82", ""],
    ["H2", "Sadar Hospital Kishanganj", "DH", "hub", "203", "20303", "Kishanganj", "26.10", "87.95", ""],
    ["S1", "HSC Alta", "SC", "spoke", "203", "20301", "Bahadurganj", "26.27", "87.80", "H1"],
    ["S2", "HSC Bhaura", "SC", "spoke", "203", "20301", "Bahadurganj", "26.25", "87.84", "H1"],
    ["S3", "HSC Chakla", "SC", "spoke", "203", "20303", "Kishanganj", "26.11", "87.93", "H2"],
    ["S4", "HSC Dumaria", "SC", "spoke", "200", "20001", "Adhaura", "24.90", "83.60", "H2"],
]
CONSULTATION_HEADER = ["Consultation ID", "Start Time", "End Time", "Spoke ID", "Hub ID", "Age", "Gender",
                       "Specialty", "Outcome", "Wait Time", "CHO ID", "ABHA Number", "Mobile", "Patient Name"]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8",
              delimiter: str = ",") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def consultation_rows(n: int, day: str = "2025-08-01", spokes: tuple[str, ...] = ("S1", "S2", "S3"),
                      prefix: str = "C") -> list[list[str]]:
    rows = []
    hubs = {"S1": "H1", "S2": "H1", "S3": "H2", "S4": "H2", "S9": "H9"}
    for i in range(n):
        spoke = spokes[i % len(spokes)]
        minute = i % 50
        hour = 9 + (i // 50) % 7
        rows.append([
            f"{prefix}{i:06d}", f"{day} {hour:02d}:{minute:02d}:00", f"{day} {hour:02d}:{minute + 8:02d}:00", spoke,
            hubs[spoke], str(5 + i % 80), ("F", "M", "F", "O")[i % 4], ("GEN", "OBG", "PED")[i % 3],
            ("completed", "completed", "referred", "abandoned")[i % 4], str(i % 40), f"CHO-{spoke}",
            f"91-{1000 + i % 9000:04d}-5678-{i % 10000:04d}", f"98765{i % 100000:05d}", "Ram Kumar Test"])
    return rows


def table_checksum(engine: Engine, table: Table, exclude: tuple[str, ...] = ("run_id",)) -> str:
    columns = [c for c in table.columns if c.name not in exclude]
    order = [c for c in table.primary_key.columns] or columns
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for row in conn.execute(select(*columns).order_by(*order)):
            digest.update(repr(tuple(_canon(v) for v in row)).encode())
    return digest.hexdigest()


def _canon(value: object) -> object:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, bool):
        return int(value)
    return value
