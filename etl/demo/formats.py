"""How each day's consultation export looks: header dialect (English portal styles or Hindi), value spellings,
time format and file format. Every header and choice spelling used here is one the contract accepts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from etl.contracts.base import normalise_choice
from etl.contracts.catalog import CONSULTATIONS
from etl.demo.consultations import DayBatch
from etl.demo.csvio import write_csv
from etl.demo.names import FAKE_PATIENT_NAMES, FAKE_VILLAGES
from etl.demo.xlsx import Column, write_xlsx
from etl.warehouse.reference import read_reference


@dataclass(frozen=True)
class Dialect:
    name: str
    headers: tuple[tuple[str, str], ...]  # (canonical field, header text), in column order
    values: dict[str, dict[str, str]]  # field -> canonical value -> spelling in the file
    specialty_names: bool = False


ENGLISH = Dialect(
    "english",
    (("consultation_id", "Consultation ID"), ("started_at", "Start Time"), ("ended_at", "End Time"),
     ("spoke_id", "Spoke ID"), ("hub_id", "Hub ID"), ("district_lgd", "District LGD Code"), ("block", "Block"),
     ("cho_id", "CHO ID"), ("doctor_id", "Doctor ID"), ("age", "Age"), ("sex", "Gender"),
     ("specialty", "Specialty"), ("mode", "Mode"), ("channel", "Channel"), ("outcome", "Outcome"),
     ("wait_minutes", "Wait Time"), ("abha_number", "ABHA Number"), ("bhavya_id", "Bhavya ID"),
     ("phone", "Mobile Number")),
    {"sex": {"M": "M", "F": "F", "O": "O"}, "mode": {"ABHWC": "AB-HWC", "OPD": "OPD"},
     "channel": {"video": "video", "audio": "audio", "chat": "chat"},
     "outcome": {"completed": "completed", "referred": "referred", "abandoned": "abandoned", "no_show": "no_show"}},
)  # fmt: skip
PORTAL = Dialect(
    "portal",
    (("consultation_id", "Consultation No"), ("started_at", "Consultation Start"),
     ("ended_at", "Consultation End"), ("spoke_id", "HWC ID"), ("hub_id", "Hub Code"), ("block", "Block Name"),
     ("patient_name", "Patient Name"), ("age", "Patient Age"), ("sex", "Sex"), ("specialty", "Speciality"),
     ("mode", "Consultation Type"), ("channel", "Call Type"), ("outcome", "Consultation Status"),
     ("wait_minutes", "Waiting Time (min)"), ("cho_id", "CHO Code"), ("doctor_id", "Doctor Code"),
     ("abha_number", "ABHA ID"), ("bhavya_id", "BHAVYA ID"), ("phone", "Mobile"), ("address", "Village")),
    {"sex": {"M": "Male", "F": "Female", "O": "Other"},
     "mode": {"ABHWC": "eSanjeevani AB-HWC", "OPD": "eSanjeevani OPD"},
     "channel": {"video": "Video Call", "audio": "Phone", "chat": "Chat"},
     "outcome": {"completed": "Completed", "referred": "Referred", "abandoned": "Dropped", "no_show": "No Show"}},
    specialty_names=True,
)  # fmt: skip


def _hindi_spelling(field: str, canonical: str) -> str:
    """The Devanagari spelling the contract lists for a choice value."""
    for spelling, value in CONSULTATIONS.field(field).choices.items():
        if value == canonical and any("\u0900" <= ch <= "\u097f" for ch in spelling):
            return spelling
    raise KeyError(f"no Hindi spelling for {field}={canonical}")


HINDI = Dialect(
    "hindi",
    (("consultation_id", "परामर्श आईडी"), ("started_at", "परामर्श दिनांक"), ("ended_at", "समाप्ति समय"),
     ("spoke_id", "स्पोक आईडी"), ("hub_id", "हब आईडी"), ("district_lgd", "जिला कोड"), ("block", "प्रखंड"),
     ("cho_id", "सीएचओ आईडी"), ("doctor_id", "चिकित्सक आईडी"), ("patient_name", "मरीज का नाम"), ("age", "आयु"),
     ("sex", "लिंग"), ("specialty", "विशेषज्ञता"), ("mode", "परामर्श प्रकार"), ("channel", "माध्यम"),
     ("outcome", "परिणाम"), ("wait_minutes", "प्रतीक्षा समय"), ("abha_number", "आभा संख्या"),
     ("bhavya_id", "भव्य आईडी"), ("phone", "मोबाइल नंबर")),
    {"sex": {v: _hindi_spelling("sex", v) for v in ("M", "F", "O")},
     "mode": {"ABHWC": "AB-HWC", "OPD": _hindi_spelling("mode", "OPD")},
     "channel": {v: _hindi_spelling("channel", v) for v in ("video", "audio", "chat")},
     "outcome": {v: _hindi_spelling("outcome", v) for v in ("completed", "referred", "abandoned", "no_show")}},
)  # fmt: skip
DIALECTS = (ENGLISH, PORTAL, HINDI)


@dataclass(frozen=True)
class DayFormat:
    dialect: Dialect
    times: str  # iso_t | iso_space | offset | ddmm | excel
    kind: str  # csv | csv_bom | semicolon | utf16 | xlsx

    @property
    def extension(self) -> str:
        return {"xlsx": ".xlsx", "utf16": ".txt"}.get(self.kind, ".csv")

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.dialect.name}/{self.times}"


def day_format(offset: int) -> DayFormat:
    """The format of the file ``offset`` days before the last day. The variants sit in the last eight days (so a
    short run has each of them once) and recur further back."""
    fixed = {
        2: DayFormat(HINDI, "iso_space", "csv_bom"),
        3: DayFormat(PORTAL, "ddmm", "csv"),
        4: DayFormat(ENGLISH, "excel", "xlsx"),
        5: DayFormat(ENGLISH, "offset", "csv"),
        6: DayFormat(PORTAL, "iso_space", "utf16"),
        7: DayFormat(ENGLISH, "iso_space", "semicolon"),
        19: DayFormat(PORTAL, "excel", "xlsx"),
    }
    if offset in fixed:
        return fixed[offset]
    if offset >= 8:
        if offset % 9 == 2:
            return DayFormat(HINDI, "iso_space", "csv_bom")
        if offset % 11 == 3:
            return DayFormat(PORTAL, "ddmm", "csv")
        if offset % 13 == 5:
            return DayFormat(ENGLISH, "offset", "csv")
    return DayFormat(ENGLISH, "iso_t", "csv")


def check_dialects() -> None:
    """Raise if a dialect uses a header or value spelling the contract does not accept."""
    for d in DIALECTS:
        for name, header in d.headers:
            f = CONSULTATIONS.field(name)
            if header not in f.aliases:
                raise ValueError(f"{d.name}: header {header!r} is not an alias of {name}")
        for name, mapping in d.values.items():
            choices = CONSULTATIONS.field(name).choices
            for canonical, spelling in mapping.items():
                if choices.get(normalise_choice(spelling)) != canonical:
                    raise ValueError(f"{d.name}: {spelling!r} does not mean {name}={canonical}")


def _times(values: np.ndarray, style: str) -> pd.Series:
    text = pd.Series(np.datetime_as_string(values, unit="s"), dtype="str")
    if style == "iso_space":
        text = text.str.replace("T", " ", regex=False)
    elif style == "offset":
        text = text + "+05:30"
    elif style == "ddmm":
        text = text.str[8:10] + "/" + text.str[5:7] + "/" + text.str[0:4] + " " + text.str[11:16]
    return text.where(~np.isnat(values), "")


def _digits(values: np.ndarray, width: int) -> pd.Series:
    return pd.Series(values).astype(str).str.zfill(width)


def _identifiers(c: dict[str, np.ndarray]) -> dict[str, pd.Series]:
    abha = _digits(np.maximum(c["abha"], 0), 12)
    abha = "91-" + abha.str[0:4] + "-" + abha.str[4:8] + "-" + abha.str[8:12]
    return {
        "abha_number": abha.where(c["abha"] >= 0, ""),
        "bhavya_id": ("BHV" + _digits(np.maximum(c["bhavya"], 0), 10)).where(c["bhavya"] >= 0, ""),
        "phone": pd.Series(c["phone"]).astype(str).where(c["phone"] >= 0, ""),
    }


_SPECIALTY_NAMES = {r["specialty_code"]: r["name_en"] for r in read_reference("specialties.csv")}


def render(batch: DayBatch, fmt: DayFormat, rng: np.random.Generator) -> pd.DataFrame:
    """The day's rows as the file will hold them (duplicates repeated); text cells except for XLSX, where times
    and numbers keep their types."""
    c = batch.cols
    n = batch.n
    d = fmt.dialect
    excel = fmt.kind == "xlsx"
    ids = _identifiers(c)
    out: dict[str, object] = {}
    for name, header in d.headers:
        if name in ("started_at", "ended_at"):
            col = c[name] if excel else _times(c[name], fmt.times)
        elif name in ids:
            col = ids[name]
        elif name == "patient_name":
            col = np.array(FAKE_PATIENT_NAMES, dtype=object)[rng.integers(0, len(FAKE_PATIENT_NAMES), n)]
        elif name == "address":
            col = np.array(FAKE_VILLAGES, dtype=object)[rng.integers(0, len(FAKE_VILLAGES), n)]
        elif name in d.values:
            col = pd.Series(c[name]).map(d.values[name])
        elif name == "specialty" and d.specialty_names:
            col = pd.Series(c[name]).map(_SPECIALTY_NAMES)
        elif name in ("age", "district_lgd", "wait_minutes"):
            col = c[name].astype(float) if excel else pd.Series(c[name]).astype(str)
        else:
            col = c[name]
        blank = batch.blank.get(name)
        if blank is not None and blank.any():
            if excel and name in ("started_at", "ended_at"):
                col = np.where(blank, np.datetime64("NaT"), col)
            elif excel and name in ("age", "district_lgd", "wait_minutes"):
                col = np.where(blank, np.nan, col)
            else:
                col = pd.Series(col, dtype="object").where(~blank, "")
        out[header] = np.asarray(col) if not isinstance(col, pd.Series) else col.to_numpy()
    rows = np.repeat(np.arange(n), 1 + c["dup"].astype(int))
    if excel:
        return pd.DataFrame(out).iloc[rows].reset_index(drop=True)
    # Text files: every cell is already text. Repeat the duplicates on the arrays and keep plain object columns
    # (converting half a million rows to pandas' Arrow strings and back costs more than writing them).
    return pd.DataFrame({h: np.asarray(v, dtype=object)[rows] for h, v in out.items()}, dtype=object)


def write_day(frame: pd.DataFrame, fmt: DayFormat, path: Path) -> Path:
    if fmt.kind == "xlsx":
        kinds = {"Consultation ID": "text"}
        cols = []
        for header in frame.columns:
            values = frame[header].to_numpy()
            if np.issubdtype(values.dtype, np.datetime64):
                cols.append(Column(header, values, "datetime"))
            elif values.dtype.kind == "f":
                cols.append(Column(header, values, "number"))
            else:
                cols.append(Column(header, values, kinds.get(header, "text")))
        return write_xlsx(path, cols, sheet="Consultations")
    if fmt.kind == "utf16":  # Excel's "Unicode text": UTF-16 with a byte-order mark, tab-delimited
        frame.to_csv(path, index=False, sep="\t", encoding="utf-16", lineterminator="\r\n")
        return path
    if fmt.kind == "csv_bom":
        return write_csv(frame, path, bom=True, eol="\r\n")
    return write_csv(frame, path, sep=";" if fmt.kind == "semicolon" else ",")
