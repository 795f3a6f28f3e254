"""Per dataset: the rules beyond field types, and the shape of the rows the loader writes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from etl.contracts.catalog import CHOS, CONSULTATIONS, CONTRACTS, FACILITIES, SCHEMES, STATUS
from etl.transform.context import TransformContext
from etl.transform.parse import parse_service_days
from etl.transform.pseudonym import DOCTOR_TOKEN_HEX
from etl.transform.validate import FileState, Rule, Validated, duplicate_rule, msg, natural_keys, parse_fields, split

EARLIEST_START = datetime(2019, 1, 1)
FUTURE_TOLERANCE = timedelta(minutes=5)
INDIA_LAT = (6.0, 38.0)
INDIA_LON = (68.0, 98.0)


def _malformed_rule(problems: list[str], index: pd.Index) -> Rule:
    series = pd.Series(problems, index=index, dtype=object).fillna("")
    return Rule("malformed_row", series != "", lambda rows: series.loc[rows])


def _unknown_facility_rule(ids: dict[str, pd.Series], ctx: TransformContext) -> Rule:
    known = ctx.facilities.index
    unknown = {label: column.notna() & ~column.isin(known) for label, column in ids.items()}
    bad = pd.Series(False, index=next(iter(ids.values())).index)
    for mask in unknown.values():
        bad |= mask

    def message(index: pd.Index) -> pd.Series:
        texts = [
            UNKNOWN_FACILITY_SEPARATOR.join(UNKNOWN_FACILITY_MESSAGE.format(label, ids[label].at[i])
                                            for label in ids if unknown[label].at[i])
            for i in index
        ]
        return pd.Series(texts, index=index, dtype=object)

    return Rule("unknown_facility", bad, message)


UNKNOWN_FACILITY_MESSAGE = "{0} '{1}' is not in the facility master"
UNKNOWN_FACILITY_SEPARATOR = "; "
_UNKNOWN_FACILITY_PART = re.compile(r"(?:spoke|hub|facility) '(.*)' is not in the facility master")


def missing_facility_ids(reason: str) -> list[str] | None:
    """The facility ids an ``unknown_facility`` reason names, or None if the text is not one this rule wrote."""
    parts = [_UNKNOWN_FACILITY_PART.fullmatch(part) for part in reason.split(UNKNOWN_FACILITY_SEPARATOR)]
    if not parts or any(p is None for p in parts):
        return None
    return [p.group(1) for p in parts if p is not None]


def _facility_attr(ids: pd.Series, ctx: TransformContext, column: str) -> pd.Series:
    return ids.map(ctx.facilities[column])


def _place_at_facility(rows: pd.DataFrame, ctx: TransformContext) -> None:
    """Give rows keyed by ``facility_id`` that facility's district and block from the master."""
    rows["district_lgd"] = _facility_attr(rows["facility_id"], ctx, "district_lgd")
    rows["block_lgd"] = _facility_attr(rows["facility_id"], ctx, "block_lgd").astype("Int64")


def _minutes_of_day(clock: pd.Series) -> np.ndarray:
    """``HH:MM`` texts as minutes after midnight (looked up once per distinct value)."""
    codes, uniques = pd.factorize(clock)
    minutes = np.array([int(u[:2]) * 60 + int(u[3:5]) for u in uniques], dtype=np.int64)
    return minutes[codes]


def _served_on(service_days: pd.Series, weekday: np.ndarray) -> np.ndarray:
    """Whether each row's weekday (Monday 0) is one of its ``1111100``-style service days."""
    codes, uniques = pd.factorize(service_days)
    table = np.array([[str(u)[i:i + 1] == "1" for i in range(7)] for u in uniques], dtype=bool).reshape(-1, 7)
    return table[codes, weekday]


def consultations(raw: pd.DataFrame, rows: np.ndarray, problems: list[str], ctx: TransformContext,
                  state: FileState) -> Validated:
    contract = CONSULTATIONS
    typed, rules = parse_fields(raw, contract)
    rules.insert(0, _malformed_rule(problems, raw.index))
    start, end = typed["started_at"], typed["ended_at"]
    rules.append(Rule("end_before_start", start.notna() & end.notna() & (end < start),
                      msg("ended_at {0} is before started_at {1}", end, start)))
    rules.append(Rule("start_in_future", start > ctx.now + FUTURE_TOLERANCE,
                      msg("started_at {0} is in the future", start)))
    rules.append(Rule("start_too_old", start < EARLIEST_START, msg("started_at {0} is before 2019", start)))
    age = typed["age"]
    rules.append(Rule("age_out_of_range", age.notna() & ~age.between(0, 120), msg("age {0} is not 0-120", age)))
    wait = typed["wait_minutes"]
    rules.append(Rule("wait_out_of_range", wait.notna() & ~wait.between(0, 1440),
                      msg("wait_minutes {0} is not 0-1440", wait)))
    keys = natural_keys(raw, contract)
    rules.append(duplicate_rule(keys, rows, state, "consultation id"))
    spoke_district = _facility_attr(typed["spoke_id"], ctx, "district_lgd")
    given = typed["district_lgd"]
    rules.append(Rule("district_mismatch", given.notna() & spoke_district.notna() & (given != spoke_district),
                      msg("district {0} is not the spoke's district {1}", given, spoke_district)))
    rules.append(_unknown_facility_rule({"spoke": typed["spoke_id"], "hub": typed["hub_id"]}, ctx))
    result = split(typed, raw, rules, rows, keys, contract, ctx.pseudonymiser)

    good = result.rows
    if good.empty:
        result.rows = pd.DataFrame(columns=[*FACT_CONSULTATION_COLUMNS, "_row"])
        return result
    raw_good = raw.loc[good.index]
    started = good["started_at"]
    hub = good["hub_id"]
    hub_start = _facility_attr(hub, ctx, "service_start").fillna("09:00")
    hub_end = _facility_attr(hub, ctx, "service_end").fillna("16:00")
    hub_days = _facility_attr(hub, ctx, "service_days").fillna("1111111")
    minute_of_day = (started.dt.hour * 60 + started.dt.minute).to_numpy()
    outside = ((minute_of_day < _minutes_of_day(hub_start)) | (minute_of_day >= _minutes_of_day(hub_end))
               | ~_served_on(hub_days, started.dt.day_of_week.to_numpy()))
    duration = (good["ended_at"] - started).dt.total_seconds() / 60.0
    out = pd.DataFrame({
        "consultation_id": good["consultation_id"],
        "started_at": started,
        "ended_at": good["ended_at"],
        "day": started.dt.normalize(),
        "hour": started.dt.hour.astype(int),
        "spoke_id": good["spoke_id"],
        "hub_id": hub,
        "district_lgd": _facility_attr(good["spoke_id"], ctx, "district_lgd").astype(int),
        "block_lgd": _facility_attr(good["spoke_id"], ctx, "block_lgd").astype("Int64"),
        "hub_district_lgd": _facility_attr(hub, ctx, "district_lgd").astype("Int64"),
        "cho_id": good["cho_id"],
        "doctor_token": ctx.pseudonymiser.tokens("doctor", raw_good["doctor_id"], DOCTOR_TOKEN_HEX),
        "specialty_code": good["specialty"].map({s: ctx.specialty_code(s) for s in good["specialty"].unique()}),
        "mode": good["mode"],
        "channel": good["channel"],
        "outcome": good["outcome"],
        "wait_minutes": good["wait_minutes"].astype(float),
        "duration_minutes": duration.round(2),
        "patient_token": ctx.pseudonymiser.patient_tokens(raw_good["abha_number"], raw_good["bhavya_id"],
                                                          raw_good["phone"], good.index),
        "age": good["age"].astype(int),
        "sex": good["sex"],
        "outside_hours": pd.Series(outside, index=good.index, dtype=bool),
        "_row": good["_row"],
    })
    result.rows = out
    return result


FACT_CONSULTATION_COLUMNS = [
    "consultation_id", "started_at", "ended_at", "day", "hour", "spoke_id", "hub_id", "district_lgd", "block_lgd",
    "hub_district_lgd", "cho_id", "doctor_token", "specialty_code", "mode", "channel", "outcome", "wait_minutes",
    "duration_minutes", "patient_token", "age", "sex", "outside_hours",
]  # fmt: skip


def facilities(raw: pd.DataFrame, rows: np.ndarray, problems: list[str], ctx: TransformContext,
               state: FileState) -> Validated:
    contract = FACILITIES
    typed, rules = parse_fields(raw, contract)
    rules.insert(0, _malformed_rule(problems, raw.index))
    district = typed["district_lgd"]
    rules.append(Rule("unknown_district", district.notna() & ~district.isin(ctx.districts),
                      msg("district_lgd {0} is not a known LGD district code", district)))
    lat, lon = typed["lat"], typed["lon"]
    outside_india = (lat.notna() & ~lat.between(*INDIA_LAT)) | (lon.notna() & ~lon.between(*INDIA_LON))
    rules.append(Rule("bad_coordinates", outside_india,
                      msg("coordinates {0}, {1} are outside India", lat, lon)))
    rules.append(Rule("bad_coordinates", lat.isna() != lon.isna(), "latitude and longitude must be given together"))
    block_code = typed["block_lgd"]
    rules.append(Rule("bad_block", block_code.notna() & (block_code <= 0), "block_lgd must be a positive code"))
    days_parsed = parse_service_days(raw["service_days"])
    rules.append(Rule("bad_value", days_parsed[1], msg("service_days: cannot read '{0}'", raw["service_days"])))
    start, end = typed["service_start"], typed["service_end"]
    rules.append(Rule("bad_service_hours", start.notna() & end.notna() & (end <= start),
                      msg("service_end {0} is not after service_start {1}", end, start)))
    keys = natural_keys(raw, contract)
    rules.append(duplicate_rule(keys, rows, state, "facility id"))
    result = split(typed, raw, rules, rows, keys, contract, ctx.pseudonymiser)
    good = result.rows
    good["service_days"] = days_parsed[0].loc[good.index].where(days_parsed[0].loc[good.index].notna(), "1111111")
    good["hub_id"] = good["hub_id"].where(good["role"] == "spoke", None)
    good["block_lgd"] = good["block_lgd"].astype("Int64")
    result.rows = good
    return result


def chos(raw: pd.DataFrame, rows: np.ndarray, problems: list[str], ctx: TransformContext,
         state: FileState) -> Validated:
    contract = CHOS
    typed, rules = parse_fields(raw, contract)
    rules.insert(0, _malformed_rule(problems, raw.index))
    modules = typed["training_modules"]
    rules.append(Rule("modules_out_of_range", modules.notna() & ~modules.astype("Float64").between(0, 18),
                      msg("training_modules {0} is not 0-18", modules)))
    joined, laptop = typed["joined_on"], typed["laptop_issued_on"]
    rules.append(Rule("date_in_future", (joined > ctx.now) | (laptop > ctx.now), "a date is in the future"))
    keys = natural_keys(raw, contract)
    rules.append(duplicate_rule(keys, rows, state, "CHO id"))
    rules.append(_unknown_facility_rule({"facility": typed["facility_id"]}, ctx))
    result = split(typed, raw, rules, rows, keys, contract, ctx.pseudonymiser)
    good = result.rows
    _place_at_facility(good, ctx)
    good["training_modules"] = pd.to_numeric(good["training_modules"]).fillna(0).astype(int)
    good["active"] = good["active"].astype(str) == "1"
    result.rows = good
    return result


def schemes(raw: pd.DataFrame, rows: np.ndarray, problems: list[str], ctx: TransformContext,
            state: FileState) -> Validated:
    contract = SCHEMES
    typed, rules = parse_fields(raw, contract)
    rules.insert(0, _malformed_rule(problems, raw.index))
    value, target = typed["value"], typed["target"]
    rules.append(Rule("negative_value", (value < 0) | (target < 0), "value and target must not be negative"))
    indicator = typed["indicator_code"].str.upper()
    rules.append(Rule("unknown_indicator", indicator.notna() & ~indicator.isin(ctx.indicators),
                      msg("indicator {0} is not in the indicator catalogue", indicator)))
    rules.append(Rule("month_in_future", typed["month"] > ctx.now,
                      msg("month {0} is in the future", typed["month"])))
    keys = natural_keys(raw, contract)
    rules.append(duplicate_rule(keys, rows, state, "facility/indicator/month"))
    rules.append(_unknown_facility_rule({"facility": typed["facility_id"]}, ctx))
    typed["indicator_code"] = indicator
    result = split(typed, raw, rules, rows, keys, contract, ctx.pseudonymiser)
    good = result.rows
    _place_at_facility(good, ctx)
    result.rows = good
    return result


def status(raw: pd.DataFrame, rows: np.ndarray, problems: list[str], ctx: TransformContext,
           state: FileState) -> Validated:
    contract = STATUS
    typed, rules = parse_fields(raw, contract)
    rules.insert(0, _malformed_rule(problems, raw.index))
    rules.append(Rule("time_in_future", typed["event_time"] > ctx.now + FUTURE_TOLERANCE,
                      msg("event_time {0} is more than 5 minutes in the future", typed["event_time"])))
    for name in ("doctors_online", "queue_length"):
        rules.append(Rule("negative_value", typed[name] < 0, f"{name} must not be negative"))
    keys = natural_keys(raw, contract)
    rules.append(duplicate_rule(keys, rows, state, "event id"))
    rules.append(_unknown_facility_rule({"facility": typed["facility_id"]}, ctx))
    return split(typed, raw, rules, rows, keys, contract, ctx.pseudonymiser)


TRANSFORMS: dict[str, Callable[..., Validated]] = {
    "consultations": consultations,
    "facilities": facilities,
    "chos": chos,
    "schemes": schemes,
    "status": status,
}
assert set(TRANSFORMS) == set(CONTRACTS)
