"""Vectorised parsers for the value kinds of the contracts.

Each parser takes a Series of raw strings and returns the parsed Series plus a boolean Series that is True where a
non-empty value could not be parsed. Empty strings parse to missing (NaN/NaT/None) and are never "bad": whether a
field may be empty is the contract's business, not the parser's.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from etl.contracts.base import normalise_choice

IST = "Asia/Kolkata"
# Excel stores dates as days since 1899-12-30; only serials in this range (1954..2119) are taken as dates so that
# plain numbers are not silently misread.
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 20_000, 80_000
_DAY_FIRST_FORMATS = (
    "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%d-%m-%Y %I:%M %p", "%d/%m/%Y %I:%M %p", "%d-%b-%Y", "%d-%b-%Y %H:%M",
)  # fmt: skip
_PLAIN_ISO_LAYOUTS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?::\d{2})?$")


def clean_text(values: pd.Series) -> pd.Series:
    """Stripped text as plain Python strings (object dtype: iterating pandas' Arrow strings row by row is slow)."""
    text = values.astype(object).where(values.notna(), "")
    if pd.api.types.infer_dtype(text, skipna=False) != "string":
        text = text.map(str)
    # str.strip over the plain array: pandas' .str.strip() calls a Python lambda per value, several times slower.
    return pd.Series(list(map(str.strip, text.to_numpy(dtype=object))), index=text.index, dtype=object)


def _matching(text: pd.Series, among: pd.Series, pattern: re.Pattern[str], *, search: bool = False) -> pd.Series:
    """``among`` narrowed to the values ``pattern`` matches (at the start, or anywhere with ``search``); the regex
    runs only on the ``among`` values."""
    out = pd.Series(False, index=text.index)
    if among.any():
        test = pattern.search if search else pattern.match
        subset = text[among]
        out[subset.index] = [test(v) is not None for v in subset.to_numpy(dtype=object)]
    return out


_DIGIT_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]


def _well_formed(text: pd.Series, separator: str) -> np.ndarray:
    """Which 19-character values are exactly ``YYYY-MM-DD<separator>hh:mm:ss`` with seconds up to 59. strptime
    alone is lenient (one-digit fields, any whitespace for the space, a 60th second rolled into the next day); what
    it would bend goes to the general ISO parse, which reads or rejects it as it always did."""
    chars = np.asarray(text.to_numpy(dtype=object).astype("<U19")).view(np.uint32).reshape(-1, 19)
    digits = chars[:, _DIGIT_AT]
    ok = ((digits >= ord("0")) & (digits <= ord("9"))).all(axis=1)
    for at, char in ((4, "-"), (7, "-"), (10, separator), (13, ":"), (16, ":")):
        ok &= chars[:, at] == ord(char)
    return ok & (chars[:, 17] <= ord("5"))


def parse_datetime(values: pd.Series, *, clean: bool = False) -> tuple[pd.Series, pd.Series]:
    """Parse timestamps to naive IST. Accepts ISO 8601 (with or without an offset; an offset is converted to IST),
    dd-mm-yyyy and dd/mm/yyyy with optional HH:MM[:SS], and Excel serial numbers."""
    text = values if clean else clean_text(values)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    todo = text != ""
    # Most exports write one plain ISO layout: parse those in one vectorised pass, the rest value by value below.
    plain = todo & (pd.Series(np.fromiter(map(len, text.to_numpy(dtype=object)), dtype=np.int64, count=len(text)),
                              index=text.index) == len("2025-01-31T09:30:00"))
    if plain.any():
        # ISO's "T" or a space between date and time (most database exports): the first plain value's layout first.
        layouts = sorted(_PLAIN_ISO_LAYOUTS, key=lambda fmt: fmt[8] != text[plain].iloc[0][10:11])
        for fmt in layouts:
            candidates = plain & todo
            if candidates.any():
                candidates[candidates] = _well_formed(text[candidates], fmt[8])
            if not candidates.any():
                continue
            parsed = pd.to_datetime(text[candidates], format=fmt, errors="coerce")
            hit = parsed.notna()
            if hit.any():
                out[hit[hit].index] = parsed[hit].astype("datetime64[us]")
                todo = todo & out.isna()
    iso = _matching(text, todo, _ISO_START)
    if iso.any():
        with_offset = iso & _matching(text, iso, _OFFSET, search=True)
        naive = iso & ~with_offset
        if naive.any():
            out[naive] = pd.to_datetime(text[naive], format="ISO8601", errors="coerce").astype("datetime64[us]")
        if with_offset.any():
            aware = pd.to_datetime(text[with_offset], format="ISO8601", errors="coerce", utc=True)
            out[with_offset] = aware.dt.tz_convert(IST).dt.tz_localize(None).astype("datetime64[us]")
    serial = _matching(text, todo & ~iso, _NUMBER)
    if serial.any():
        numbers = pd.to_numeric(text[serial], errors="coerce")
        in_range = numbers.between(EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX)
        converted = EXCEL_EPOCH + pd.to_timedelta(numbers.where(in_range).astype(float).round(6), unit="D")
        out[serial] = converted.dt.round("s").astype("datetime64[us]")
    remaining = todo & ~iso & ~serial
    for fmt in _DAY_FIRST_FORMATS:
        if not remaining.any():
            break
        parsed = pd.to_datetime(text[remaining], format=fmt, errors="coerce")
        hit = parsed.notna()
        if hit.any():
            idx = hit[hit].index
            out[idx] = parsed[idx].astype("datetime64[us]")
            remaining[idx] = False
    bad = todo & out.isna()
    return out, bad


def parse_date(values: pd.Series, *, clean: bool = False) -> tuple[pd.Series, pd.Series]:
    """Dates (any timestamp format above; the time part is dropped) as Python ``date`` objects or None."""
    stamps, bad = parse_datetime(values, clean=clean)
    dates = stamps.dt.normalize()
    return dates, bad


def parse_month(values: pd.Series, *, clean: bool = False) -> tuple[pd.Series, pd.Series]:
    """A month as its first day: accepts yyyy-mm, mm-yyyy, mm/yyyy, month names (Aug 2025) and any date."""
    text = values if clean else clean_text(values)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    todo = text != ""
    for fmt in ("%Y-%m", "%m-%Y", "%m/%Y", "%b %Y", "%B %Y", "%b-%Y", "%B-%Y", "%Y%m"):
        remaining = todo & out.isna()
        if not remaining.any():
            break
        parsed = pd.to_datetime(text[remaining], format=fmt, errors="coerce")
        hit = parsed.notna()
        out[hit[hit].index] = parsed[hit].astype("datetime64[us]")
    remaining = todo & out.isna()
    if remaining.any():
        dates, _ = parse_date(text[remaining], clean=True)
        out[remaining] = dates
    out = out.dt.to_period("M").dt.start_time.astype("datetime64[us]")
    return out, todo & out.isna()


def _without_commas(text: pd.Series) -> pd.Series:
    """Thousands separators removed (plain str.replace per value: pandas' .str.replace is several times slower)."""
    return pd.Series([v.replace(",", "") for v in text.to_numpy(dtype=object)], index=text.index, dtype=object)


def parse_int(values: pd.Series, *, clean: bool = False) -> tuple[pd.Series, pd.Series]:
    """Whole numbers (``"12"``, ``"12.0"``, ``" 12 "``); returns a nullable Int64 Series."""
    text = _without_commas(values if clean else clean_text(values))
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce")
    whole = numbers.notna() & np.isclose(numbers.fillna(0) % 1, 0)
    out = numbers.where(whole).round().astype("Int64")
    bad = (text != "") & out.isna()
    return out, bad


def parse_float(values: pd.Series, *, clean: bool = False) -> tuple[pd.Series, pd.Series]:
    text = _without_commas(values if clean else clean_text(values))
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
    bad = (text != "") & (numbers.isna() | ~np.isfinite(numbers.fillna(0)))
    return numbers.where(~bad), bad


def parse_choice(values: pd.Series, choices: dict[str, str], *, clean: bool = False) -> tuple[pd.Series, pd.Series]:
    """Map spellings (any case, spacing or punctuation) onto canonical values; unknown spellings are bad."""
    text = values if clean else clean_text(values)
    lookup = {normalise_choice(k): v for k, v in choices.items()}
    lookup.update({normalise_choice(v): v for v in choices.values()})
    uniques = text.unique()
    mapping = {u: lookup.get(normalise_choice(u)) for u in uniques}
    out = text.map(mapping)
    bad = (text != "") & out.isna()
    return out.astype(object).where(out.notna(), None), bad


def parse_text(values: pd.Series, *, clean: bool = False) -> tuple[pd.Series, pd.Series]:
    text = values if clean else clean_text(values)
    return text.where(text != "", None), pd.Series(False, index=text.index)


def parse_time_of_day(values: pd.Series, *, clean: bool = False) -> tuple[pd.Series, pd.Series]:
    """``9:00``, ``09.00`` or ``16:00:00`` as ``HH:MM``."""
    text = values if clean else clean_text(values)
    parts = text.str.extract(_TIME)
    hours = pd.to_numeric(parts[0], errors="coerce")
    minutes = pd.to_numeric(parts[1], errors="coerce")
    ok = hours.between(0, 24) & minutes.between(0, 59)
    clock = [f"{int(h):02d}:{int(m):02d}" if good else None for h, m, good in zip(hours, minutes, ok, strict=True)]
    out = pd.Series(clock, index=text.index, dtype=object)
    bad = (text != "") & ~ok
    return out.astype(object), bad


_DAY_NAMES = {
    "mon": 0, "monday": 0, "सोम": 0, "सोमवार": 0,
    "tue": 1, "tues": 1, "tuesday": 1, "मंगल": 1, "मंगलवार": 1,
    "wed": 2, "wednesday": 2, "बुध": 2, "बुधवार": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "गुरु": 3, "गुरुवार": 3,
    "fri": 4, "friday": 4, "शुक्र": 4, "शुक्रवार": 4,
    "sat": 5, "saturday": 5, "शनि": 5, "शनिवार": 5,
    "sun": 6, "sunday": 6, "रवि": 6, "रविवार": 6,
}  # fmt: skip


def _service_days_one(text: str) -> str | None:
    compact = text.replace(" ", "")
    if re.fullmatch(r"[01]{7}", compact):
        return compact
    lowered = compact.casefold()
    if lowered in {"all", "daily", "everyday", "प्रतिदिन", "रोज़", "रोज"}:
        return "1111111"
    days = [0] * 7
    for token in re.split(r"[,;/|]+", lowered):
        if not token:
            continue
        span = token.split("-")
        if len(span) == 2 and span[0] in _DAY_NAMES and span[1] in _DAY_NAMES:
            start, end = _DAY_NAMES[span[0]], _DAY_NAMES[span[1]]
            i = start
            while True:
                days[i] = 1
                if i == end:
                    break
                i = (i + 1) % 7
            continue
        if token not in _DAY_NAMES:
            return None
        days[_DAY_NAMES[token]] = 1
    return "".join(map(str, days)) if any(days) else None


def parse_service_days(values: pd.Series, *, clean: bool = False) -> tuple[pd.Series, pd.Series]:
    """Days served as 7 digits Monday first (``1111111``), or names: ``Mon,Thu,Sat``, ``Mon-Sat``, ``daily``."""
    text = values if clean else clean_text(values)
    mapping = {u: _service_days_one(u) for u in text.unique() if u}
    out = text.map(mapping)
    bad = (text != "") & out.isna()
    return out.astype(object).where(out.notna(), None), bad
