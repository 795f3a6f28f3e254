"""Apply a contract to a chunk of raw rows: parse every field by its kind, run the rules, split good from bad.

A bad row is never dropped silently: it becomes a quarantine record with its row number, its raw values (patient
identifiers already replaced by tokens, names and addresses removed) and every reason it failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl.contracts.base import Contract, HeaderMap, Kind
from etl.transform import parse
from etl.transform.pseudonym import Pseudonymiser, mask_secret

SECRET_KINDS = {"abha_number": "abha", "bhavya_id": "bhavya", "phone": "phone", "doctor_id": "doctor"}
REJECT_COLUMNS = ["row_number", "natural_key", "reason_code", "reason", "raw"]


@dataclass
class Rule:
    """A rule's verdict on a chunk: which rows break it and why."""

    code: str
    bad: pd.Series
    # A fixed text, or a function that writes the message for the given bad rows only (most rows pass every rule,
    # so messages are never built for them).
    message: str | Callable[[pd.Index], pd.Series]


def msg(template: str, *columns: pd.Series) -> Callable[[pd.Index], pd.Series]:
    """A message built lazily from ``template`` (``{0}``, ``{1}``...) and the rows' values in ``columns``."""

    def build(index: pd.Index) -> pd.Series:
        parts = [[str(v)[:60] for v in column.loc[index].tolist()] for column in columns]
        return pd.Series([template.format(*values) for values in zip(*parts, strict=True)], index=index, dtype=object)

    return build


@dataclass
class Validated:
    rows: pd.DataFrame  # typed canonical columns plus ``_row`` (the row number in the source)
    rejects: pd.DataFrame  # REJECT_COLUMNS

    @property
    def read(self) -> int:
        return len(self.rows) + len(self.rejects)


@dataclass
class FileState:
    """What a rule needs to know about the rest of the file (ids seen in earlier chunks)."""

    seen_keys: dict[str, int] = field(default_factory=dict)


def canonical_frame(frame: pd.DataFrame, header_map: HeaderMap, contract: Contract) -> pd.DataFrame:
    """The chunk with canonical column names; unknown and dropped columns removed, absent fields as ""."""
    kept = {h: c for h, c in header_map.columns.items() if contract.field(c).kind is not Kind.DROP}
    out = frame[list(kept)].rename(columns=kept)
    for f in contract.fields:
        if f.kind is not Kind.DROP and f.name not in out.columns:
            out[f.name] = ""
    return out.reset_index(drop=True)


_PARSERS: dict[Kind, Callable[[pd.Series], tuple[pd.Series, pd.Series]]] = {
    Kind.INT: parse.parse_int,
    Kind.FLOAT: parse.parse_float,
    Kind.DATE: parse.parse_date,
    Kind.DATETIME: parse.parse_datetime,
    Kind.MONTH: parse.parse_month,
    Kind.TIME: parse.parse_time_of_day,
    Kind.TEXT: parse.parse_text,
    Kind.ID: parse.parse_text,
}
_KIND_WORDS = {
    Kind.INT: "a whole number", Kind.FLOAT: "a number", Kind.DATE: "a date", Kind.DATETIME: "a date and time",
    Kind.MONTH: "a month", Kind.TIME: "a time of day (HH:MM)", Kind.CHOICE: "one of the accepted values",
}  # fmt: skip


def parse_fields(raw: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, list[Rule]]:
    """Typed columns for every field, and a rule per field for unreadable or missing required values."""
    typed: dict[str, pd.Series] = {}
    rules: list[Rule] = []
    for f in contract.fields:
        if f.kind in (Kind.DROP, Kind.SECRET):
            continue
        column = parse.clean_text(raw[f.name])
        empty = column == ""
        if empty.all():
            # An absent or empty column: nothing to parse.
            values = pd.Series(f.default if f.default is not None else None, index=raw.index, dtype=object)
            if f.kind in (Kind.INT, Kind.FLOAT) and f.default is None:
                values = values.astype("Float64" if f.kind is Kind.FLOAT else "Int64")
            elif f.kind in (Kind.DATE, Kind.DATETIME, Kind.MONTH):
                values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]")
            bad = pd.Series(False, index=raw.index)
        elif f.kind is Kind.CHOICE:
            values, bad = parse.parse_choice(column, f.choices, clean=True)
        else:
            values, bad = _PARSERS[f.kind](column, clean=True)
        if f.required:
            rules.append(Rule("missing_field", empty, f"{f.name} is required but empty"))
        elif f.default is not None and empty.any():
            values = values.astype(object).where(~empty, f.default)
        if bad.any():
            rules.append(Rule("bad_value", bad, msg(f"{f.name}: cannot read '{{0}}' as {_KIND_WORDS[f.kind]}", column)))
        typed[f.name] = values
    return pd.DataFrame(typed, index=raw.index), rules


def natural_keys(raw: pd.DataFrame, contract: Contract) -> pd.Series:
    key = raw[contract.key[0]].astype(str).str.strip()
    for name in contract.key[1:]:
        key = key + "|" + raw[name].astype(str).str.strip()
    return key


def duplicate_rule(keys: pd.Series, row_numbers: np.ndarray, state: FileState, key_label: str) -> Rule:
    """A key already seen earlier in the same file: the later row is quarantined, the first one kept."""
    first_in_chunk = ~keys.duplicated(keep="first")
    earlier = keys.map(state.seen_keys)
    dup_earlier_chunk = earlier.notna()
    dup_in_chunk = ~first_in_chunk
    firsts = pd.Series(row_numbers, index=keys.index).groupby(keys.values).transform("first")
    first_row = earlier.where(dup_earlier_chunk, firsts)
    bad = (dup_earlier_chunk | dup_in_chunk) & (keys != "")
    message = msg(f"duplicate {key_label} '{{0}}' in this file (first at row {{1}})", keys,
                  first_row.astype("Int64"))
    new_keys = keys[first_in_chunk & ~dup_earlier_chunk & (keys != "")]
    state.seen_keys.update(zip(new_keys.tolist(), pd.Series(row_numbers, index=keys.index)[new_keys.index].tolist(),
                               strict=True))
    return Rule("duplicate_in_file", bad, message)


def split(typed: pd.DataFrame, raw: pd.DataFrame, rules: list[Rule], row_numbers: np.ndarray, keys: pd.Series,
          contract: Contract, pseudonymiser: Pseudonymiser) -> Validated:
    """Rows that broke no rule, and quarantine records for the others (every reason, first one as the code)."""
    n = len(typed)
    bad_any = np.zeros(n, dtype=bool)
    for rule in rules:
        bad_any |= rule.bad.to_numpy(dtype=bool, na_value=False)
    good = typed.loc[~bad_any].copy()
    good["_row"] = row_numbers[~bad_any]
    if not bad_any.any():
        return Validated(good, pd.DataFrame(columns=REJECT_COLUMNS))
    bad_index = typed.index[bad_any]
    codes = pd.Series(None, index=bad_index, dtype=object)
    reasons = pd.Series("", index=bad_index, dtype=object)
    for rule in rules:
        mask = rule.bad.reindex(bad_index).fillna(False).astype(bool)
        if not mask.any():
            continue
        hit = mask[mask].index
        message = (pd.Series(rule.message, index=hit, dtype=object) if isinstance(rule.message, str)
                   else rule.message(hit))
        codes[hit[codes[hit].isna()]] = rule.code
        previous = reasons[hit]
        reasons[hit] = previous.where(previous == "", previous + "; ") + message
    raw_bad = raw.loc[bad_index].copy()
    for name, kind in SECRET_KINDS.items():
        if name in raw_bad.columns:
            raw_bad[name] = [mask_secret(str(v), kind, pseudonymiser) for v in raw_bad[name]]
    rejects = pd.DataFrame({
        "row_number": row_numbers[bad_any],
        "natural_key": keys.loc[bad_index].str.slice(0, 200).to_numpy(),
        "reason_code": codes.to_numpy(),
        "reason": reasons.to_numpy(),
        "raw": raw_bad.to_dict(orient="records"),
    })
    return Validated(good, rejects)
