"""Hub and spoke utilisation: hub load and capacity, spoke activity, the hub→spoke network, specialty and channel
mix, the hour × weekday load and service-hours compliance. Rollups and dimensions only.

Which district a consultation belongs to: both ends'. Hub views place a hub in its own district (the district
filter, the block filter and the scope select hubs by the hub's own district and block) and count every
consultation the hub answered, whichever district the spoke lies in. Spoke views place a spoke in its district.
The network shows a pair when the spoke or the hub lies in the district and either end is in the caller's scope.

Definitions (documented for the data dictionary and the page):

- **Scheduled service day**: a day of the period whose weekday is marked "1" in the hub's ``service_days``
  (Monday first).
- **Serving day**: a scheduled service day on which the hub answered at least one consultation (any mode,
  any specialty: ``rollup_hub_day``).
- **Serving hours** = the hub's service window (``service_end`` − ``service_start``, in hours) × its serving days.
- **Consultations per serving hour** = consultations answered inside the service hours (all consultations under
  the filter minus those the ETL flagged outside the hub's hours or days) ÷ serving hours. Numerator and
  denominator cover the same hours, so a hub that also works evenings is not shown as busier than it is.
- **Service days not served** = scheduled service days − serving days.
- **Doctors serving per day** = distinct doctors who answered at the hub, averaged over the days it served.
- **Load rank**: hubs ranked by consultations per serving hour (1 = busiest), shown beside their own assigned
  spoke count (the capacity view).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    distinct,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from dashboard.data import cumulative as running
from dashboard.data.activity import district_by_district, with_spoke_last_day
from dashboard.data.columns import rank_highest_first, ratio
from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Filter, Scope
from dashboard.data.sql import (
    bucket_sums,
    codepoints,
    district_clauses,
    facility_clauses,
    facility_dim_clauses,
    read_df,
    scope_clause,
)
from dashboard.data.tables import ColumnSpec, TableSpec
from dashboard.i18n import normalise_lang, t
from dashboard.privacy.suppression import DEFAULT_K, rate_or_missing, suppress_rate, suppress_rates
from etl.warehouse.histogram import WAIT_BUCKET_COLUMNS, percentile_from_counts, percentiles_from_count_rows
from etl.warehouse.schema import (
    CHANNELS,
    cumulative_hub_hour_day,
    cumulative_hub_mode_day,
    cumulative_hub_specialty_day,
    cumulative_spoke_day,
    dim_block,
    dim_cho,
    dim_district,
    dim_facility,
    dim_specialty,
    rollup_facility_day,
    rollup_hub_day,
    rollup_hub_hour,
    rollup_hub_mode_day,
    rollup_hub_specialty_day,
)

rfd = rollup_facility_day
fac = dim_facility

IDLE_WINDOWS: tuple[int, ...] = (7, 30)
DEFAULT_START, DEFAULT_END, DEFAULT_DAYS = "09:00", "16:00", "1111111"
WEEKDAYS = 7
HOURS = 24
MISSED_DATES_SHOWN = 10


# ---------------------------------------------------------------- helpers shared by the hubs, CHO and scheme modules

# A grid shows at most this many rows (a note says how many there are; the CSV has every row): a screen of a few
# dozen rows is read, and every row sent costs the browser and each warm callback its JSON (about 300 bytes a row).
MAX_GRID_ROWS = 500


def names(frame: pd.DataFrame, lang: str, en: str = "name_en", hi: str = "name_hi") -> pd.Series:
    """``name_of`` for a whole column pair: the Hindi name where asked for and present, else the English one."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype="object")
    # Plain lists: one text per row without pandas' per-operation cost, which dominates on grid-sized frames.
    texts, name = _texts(frame[en]), en
    if normalise_lang(lang) == "hi":
        texts, name = [h or e for h, e in zip(_texts(frame[hi]), texts, strict=True)], hi
    return pd.Series(texts, index=frame.index, dtype=str, name=name)


def _texts(values: pd.Series) -> list[str]:
    """Each value as text, "" where missing."""
    return ["" if gone else str(v) for v, gone in zip(values.tolist(), values.isna().tolist(), strict=True)]


def pick(frame: pd.DataFrame, columns: tuple[ColumnSpec, ...]) -> pd.DataFrame:
    """The columns of a table spec, in order (an empty frame keeps the header)."""
    keys = [c.key for c in columns]
    return pd.DataFrame(columns=keys) if frame.empty else frame[keys].reset_index(drop=True)


def _plain(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):  # nine significant digits: half the bytes of a full repr, far below what is shown
        return None if value != value else float(f"{value:.9g}")
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    return value


def _as_date(value: object) -> date | None:
    """A date from what the driver returns (a date already, usually: kept as is) or None."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def iso_dates(values: pd.Series) -> pd.Series:
    """Dates (None where missing) from ISO text as the query cast them: one vectorised parse instead of a driver
    conversion per row."""
    parsed = pd.to_datetime(values.astype("string").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    return pd.Series(parsed.dt.date.to_numpy(dtype=object), index=values.index, dtype="object").where(
        parsed.notna().to_numpy(), None)


def grid_records(frame: pd.DataFrame, limit: int | None = None) -> list[dict[str, object]]:
    """Grid rows (JSON-ready: NaN and NA as null, dates as ISO text), at most ``limit``. Column by column, which is
    several times faster than ``DataFrame.to_dict`` on large tables."""
    part = frame.iloc[:limit] if limit is not None else frame
    keys = [str(k) for k in part.columns]
    columns = [_plain_column(part[k]) for k in part.columns]
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


def _plain_column(values: pd.Series) -> list[object]:
    """A column's values as ``_plain`` writes them: whole numpy integer and boolean columns as they are, text and
    integers in other columns without a call per value."""
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else ""
    if kind and kind in "iub":
        return values.tolist()
    if kind == "f":
        return [None if v != v else float(f"{v:.9g}") for v in values.tolist()]
    return [v if type(v) is str or type(v) is int else _plain(v) for v in values.tolist()]


_AS_IS = frozenset({str, int, bool, type(None)})


def plain_records(keys: Sequence[str], rows: Iterable[Sequence[object]]) -> list[dict[str, object]]:
    """Grid rows from plain tuples (values in the order of ``keys``), written as ``grid_records`` writes a frame's
    (the common types first: a call per value shows on a grid of hundreds of rows)."""
    return [dict(zip(keys, [v if type(v) in _AS_IS else v.isoformat() if type(v) is date else _plain(v) for v in row],
                     strict=True)) for row in rows]


# ---------------------------------------------------------------- service calendar (pure)


def window_hours(start: str | None, end: str | None) -> float:
    """Length of a service window 'HH:MM'–'HH:MM' in hours (0 when unreadable or not positive)."""
    try:
        h1, m1 = (int(x) for x in (start or DEFAULT_START).split(":"))
        h2, m2 = (int(x) for x in (end or DEFAULT_END).split(":"))
    except ValueError:
        return 0.0
    return max(0.0, (h2 * 60 + m2 - h1 * 60 - m1) / 60.0)


def scheduled_dates(service_days: str | None, start: date, end: date) -> list[date]:
    """The days in [start, end] whose weekday is a service day (``service_days``: seven 0/1, Monday first)."""
    mask = (service_days or DEFAULT_DAYS).ljust(WEEKDAYS, "0")[:WEEKDAYS]
    out = []
    day = start
    while day <= end:
        if mask[day.weekday()] == "1":
            out.append(day)
        day += timedelta(days=1)
    return out


def _day_bits(service_days: str | None) -> int:
    """``service_days`` (seven 0/1, Monday first) as bits: bit w set when weekday w is a service day."""
    mask = (service_days or DEFAULT_DAYS).ljust(WEEKDAYS, "0")[:WEEKDAYS]
    return sum(1 << w for w in range(WEEKDAYS) if mask[w] == "1")


def _rate(part: pd.Series, whole: pd.Series, scale: float = 100.0) -> pd.Series:
    """``ratio`` of two frame columns (missing values stay missing), on their index."""
    return pd.Series(ratio(part.astype(float).to_numpy(), whole.astype(float).to_numpy(), scale), index=part.index)


# ---------------------------------------------------------------- shared clauses


def hub_dim_clauses(f: Filter, scope: Scope) -> list[ColumnElement[bool]]:
    """Hubs (dim_facility rows) in the filter's geography (the hub's own district and block) and type, in scope."""
    return [fac.c.role == "hub", *facility_dim_clauses(f, scope)]


def spoke_dim_clauses(f: Filter, scope: Scope) -> list[ColumnElement[bool]]:
    return [fac.c.role == "spoke", *facility_dim_clauses(f, scope)]


def _hub_ids(f: Filter, scope: Scope) -> Select:
    return select(fac.c.facility_id).where(*hub_dim_clauses(f, scope))


def hub_row_clauses(f: Filter, scope: Scope) -> list[ColumnElement[bool]]:
    """Facility-rollup rows answered in the period by the hubs under the filter (mode and specialty applied)."""
    clauses = [rfd.c.day >= f.start, rfd.c.day <= f.end, rfd.c.hub_id.in_(_hub_ids(f, scope)),
               scope_clause(rfd.c.hub_district_lgd, scope)]
    if f.modes:
        clauses.append(rfd.c.mode.in_(f.modes))
    if f.specialties:
        clauses.append(rfd.c.specialty_code.in_(f.specialties))
    return clauses


def _frame_or_empty(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return frame if not frame.empty else pd.DataFrame(columns=columns)


# ---------------------------------------------------------------- hub load and capacity

HUB_COUNTS = ("consultations", "n_completed", "n_referred", "n_abandoned", "n_no_show", "n_video", "n_audio", "n_chat",
              "n_outside_hours")


def hub_rollup(f: Filter) -> Table:
    """The hub load rollup that answers the filter: per hub, day and mode unless a specialty is chosen."""
    return rollup_hub_specialty_day if f.specialties else rollup_hub_mode_day


def hub_rollup_clauses(table: Table, f: Filter, scope: Scope) -> list[ColumnElement[bool]]:
    """Rows of a hub load rollup answered in the period by the hubs under the filter (mode and specialty applied);
    the same rows as ``hub_row_clauses`` on the facility rollup, summed over spokes."""
    c = table.c
    clauses = [c.day >= f.start, c.day <= f.end, c.hub_id.in_(_hub_ids(f, scope)),
               scope_clause(c.hub_district_lgd, scope)]
    if f.modes:
        clauses.append(c.mode.in_(f.modes))
    if f.specialties:
        clauses.append(c.specialty_code.in_(f.specialties))
    return clauses


def hub_sums(f: Filter, scope: Scope) -> Select:
    """Per hub under the filter: ``HUB_COUNTS`` and the wait histogram over the period, from a hub load rollup."""
    table = hub_rollup(f)
    sums = [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in HUB_COUNTS]
    return (select(table.c.hub_id.label("facility_id"), *sums, *bucket_sums(table))
            .where(*hub_rollup_clauses(table, f, scope)).group_by(table.c.hub_id))


def _hub_sums(conn: Connection, f: Filter, scope: Scope) -> Select:
    """``hub_sums``, from the hub running totals when they are fresh (two rows per hub and mode)."""
    table = cumulative_hub_specialty_day if f.specialties else cumulative_hub_mode_day
    sp = running.span(conn, table, f.start, f.end)
    if sp is None:
        return hub_sums(f, scope)
    return running.hub_totals(sp, table, f, _hub_ids(f, scope), (*HUB_COUNTS, *WAIT_BUCKET_COLUMNS), "hub_id",
                              label="facility_id")


@cached
def spokes_served(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """Per hub under the filter: the distinct spokes it answered in the period (facility_id, spokes_served). Reads
    every facility-rollup row of the period (a distinct count cannot be summed from daily rollups): used by the CSV
    of hub load, not by the page."""
    stmt = (select(rfd.c.hub_id.label("facility_id"), func.count(distinct(rfd.c.spoke_id)).label("spokes_served"))
            .where(*hub_row_clauses(f, scope), rfd.c.consultations > 0).group_by(rfd.c.hub_id))
    with ctx.engine.connect() as conn:
        return _frame_or_empty(read_df(conn, stmt), ["facility_id", "spokes_served"])


def _served_clauses(f: Filter, scope: Scope) -> list[ColumnElement[bool]]:
    """``rollup_hub_day`` rows of the days the hubs under the filter served in the period ((day, hub) is its key)."""
    hd = rollup_hub_day.c
    return [hd.day >= f.start, hd.day <= f.end, hd.consultations > 0, hd.hub_id.in_(_hub_ids(f, scope)),
            scope_clause(hd.hub_district_lgd, scope)]


# Above this many hubs the dates are read for every hub and the rest dropped here, not listed in the query.
_LISTED_HUBS = 500


def _served_dates(conn: Connection, f: Filter, scope: Scope, hub_ids: list[str]) -> dict[str, set[date]]:
    """The days each of ``hub_ids`` served in the period (none: an empty set); ISO text from the query, each date
    parsed once."""
    hd = rollup_hub_day.c
    clauses = _served_clauses(f, scope)
    if len(hub_ids) <= _LISTED_HUBS:
        clauses.append(hd.hub_id.in_(hub_ids))
    out: dict[str, set[date]] = {hub_id: set() for hub_id in hub_ids}
    dates: dict[str, date] = {}
    for hub_id, day in conn.execute(select(hd.hub_id, cast(hd.day, String)).where(*clauses)).all():
        if hub_id in out:
            on = dates.get(day)
            if on is None:
                on = dates[day] = date.fromisoformat(day[:10])
            out[hub_id].add(on)
    return out


@cached
def hub_load(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """One row per hub under the filter: load, waits, outcomes, doctors, serving hours, capacity rank, service-days
    compliance, and the summed wait histogram (``wait_b..`` columns, for totals). Distinct spokes served:
    ``spokes_served``.

    The days served and doctor-days come summed per hub. The dates themselves are read only for the hubs that need
    them: those with service on some weekdays only (which of their days were service days) and those that missed a
    scheduled day (which dates): usually a few of a state's hundreds."""
    hub_district = dim_district.alias("hub_district")
    assigned = (select(fac.c.hub_id.label("facility_id"), func.count().label("spokes_assigned"))
                .where(fac.c.role == "spoke", fac.c.hub_id.is_not(None)).group_by(fac.c.hub_id).subquery())
    dims = (
        select(fac.c.facility_id, fac.c.name, fac.c.facility_type, fac.c.district_lgd, fac.c.block_lgd,
               hub_district.c.name_en.label("district_en"), hub_district.c.name_hi.label("district_hi"),
               dim_block.c.name_en.label("block_en"), dim_block.c.name_hi.label("block_hi"),
               fac.c.service_start, fac.c.service_end, fac.c.service_days,
               func.coalesce(assigned.c.spokes_assigned, 0).label("spokes_assigned"))
        .select_from(fac.outerjoin(hub_district, hub_district.c.district_lgd == fac.c.district_lgd)
                     .outerjoin(dim_block, dim_block.c.block_lgd == fac.c.block_lgd)
                     .outerjoin(assigned, assigned.c.facility_id == fac.c.facility_id))
        .where(*hub_dim_clauses(f, scope))
        .order_by(fac.c.name)
    )
    hd = rollup_hub_day.c
    served = (select(hd.hub_id, func.count().label("days"), func.sum(hd.doctors).label("doctor_days"))
              .where(*_served_clauses(f, scope)).group_by(hd.hub_id))
    calendars = _Calendars(f.start, f.end)
    with ctx.engine.connect() as conn:
        result = conn.execute(dims)
        keys = list(result.keys())
        hubs = [tuple(row) for row in result.fetchall()]
        sums = {row[0]: row[1:] for row in conn.execute(_hub_sums(conn, f, scope)).all()}
        days = {hub_id: (int(n), int(doctors or 0)) for hub_id, n, doctors in conn.execute(served).all()}
        masks = keys.index("service_days")
        need = [row[0] for row in hubs if not calendars.every_day(row[masks])
                or days.get(row[0], (0, 0))[0] < len(calendars.dates(row[masks]))]
        served_on = _served_dates(conn, f, scope, need) if need else {}
    return _hub_frame(keys, hubs, sums, days, served_on, calendars, ctx.suppression_k)


class _Calendars:
    """The period's scheduled dates and weekday bits per ``service_days`` mask, worked out once per mask."""

    def __init__(self, start: date, end: date) -> None:
        self.start, self.end = start, end
        self._dates: dict[str | None, list[date]] = {}
        self._bits: dict[str | None, int] = {}

    def dates(self, mask: str | None) -> list[date]:
        if mask not in self._dates:
            self._dates[mask] = scheduled_dates(mask, self.start, self.end)
        return self._dates[mask]

    def bits(self, mask: str | None) -> int:
        if mask not in self._bits:
            self._bits[mask] = _day_bits(mask)
        return self._bits[mask]

    def every_day(self, mask: str | None) -> bool:
        return self.bits(mask) == (1 << WEEKDAYS) - 1


_SUMMED = (*HUB_COUNTS, *WAIT_BUCKET_COLUMNS)
_HUB_DERIVED = ("spokes_assigned", "scheduled_days", "days_served", "serving_days", "missed_days", "doctors_per_day",
                "missed_dates", "window_hours", "serving_hours", "in_hours", "per_serving_hour", "wait_p50",
                "wait_p90", "abandoned_pct", "no_show_pct", "referral_pct", "outside_pct", "per_assigned_spoke")
_COUNTS_USED = tuple(HUB_COUNTS.index(n) for n in ("consultations", "n_referred", "n_abandoned", "n_no_show",
                                                    "n_outside_hours"))
_HUB_INTEGERS = frozenset({"scheduled_days", "days_served", "serving_days", "missed_days", "in_hours",
                           *HUB_COUNTS, *WAIT_BUCKET_COLUMNS, "spokes_assigned"})


def _hub_frame(keys: list[str], hubs: list[tuple], sums: Mapping[str, Sequence[object]],
               days: Mapping[str, tuple[int, int]], served_on: Mapping[str, set[date]], calendars: _Calendars,
               k: int) -> pd.DataFrame:
    """``hub_load``'s frame from the hub rows, their sums and days served: the calendar (serving days, dates not
    served) in plain Python over a few hundred hubs, the rates and wait percentiles over whole columns, ordered
    busiest first (load per serving hour, then consultations, then name), then one frame built from whole columns
    (adding ~40 columns one by one to a frame costs more than all the rest)."""
    at = {name: i for i, name in enumerate(keys)}
    zero = (0,) * len(_SUMMED)
    windows: dict[tuple[object, object], float] = {}
    # HUB_COUNTS then the wait buckets, as summed (NULL: 0); float64 holds these counts exactly.
    summed_all = np.nan_to_num(np.array([sums.get(row[0], zero) for row in hubs], dtype=np.float64)
                               .reshape(len(hubs), len(_SUMMED))).astype(np.int64)
    calendar_rows: list[tuple[object, ...]] = []
    for row in hubs:
        hub_id, mask = row[0], row[at["service_days"]]
        served, doctor_days = days.get(hub_id, (0, 0))
        calendar = calendars.dates(mask)
        on = served_on.get(hub_id)
        if calendars.every_day(mask) or on is None:
            serving = served
        else:
            bits = calendars.bits(mask)
            serving = sum(1 for d in on if bits >> d.weekday() & 1)
        missed = len(calendar) - serving
        dates = ""
        if missed > 0 and on is not None:
            not_served = [d for d in calendar if d not in on]
            dates = ", ".join(d.strftime("%d-%m-%Y") for d in not_served[:MISSED_DATES_SHOWN])
            dates += " …" if len(not_served) > MISSED_DATES_SHOWN else ""
        window = (row[at["service_start"]], row[at["service_end"]])
        hours = windows.get(window)
        if hours is None:
            hours = windows[window] = window_hours(*window)
        calendar_rows.append((int(row[at["spokes_assigned"]] or 0), len(calendar), served, serving, missed,
                              doctor_days, dates, hours))
    assigned, scheduled, served, serving, missed, doctor_days, dates, hours = (
        np.array(c, dtype=object if i == 6 else np.float64 if i == 7 else np.int64)
        for i, c in enumerate(zip(*calendar_rows, strict=True))) if hubs else \
        (np.zeros(0, dtype=np.int64),) * 6 + (np.zeros(0, dtype=object), np.zeros(0))
    total, referred, abandoned, no_show, outside = (summed_all[:, i] for i in _COUNTS_USED)
    waits = summed_all[:, len(HUB_COUNTS):]
    in_hours = total - outside
    serving_hours = hours * serving

    # Outcome splits of patients: a rate is withheld where either side of its split is a small count (1..k-1).
    # The counts behind them stay here for pooled totals; no grid or export shows them per hub.
    rates = [np.where(suppress_rates(n, total, k), np.nan, ratio(n, total)) for n in (abandoned, no_show, referred)]
    derived = (  # in the order of _HUB_DERIVED
        assigned, scheduled, served, serving, missed, ratio(doctor_days, served, 1.0), dates, hours, serving_hours,
        in_hours, ratio(in_hours, serving_hours, 1.0), percentiles_from_count_rows(waits, 50),
        percentiles_from_count_rows(waits, 90), *rates, ratio(outside, total), ratio(total, assigned, 1.0))
    load_at = _HUB_DERIVED.index("per_serving_hour")
    load = derived[load_at].tolist()
    totals = total.tolist()
    order = sorted(range(len(hubs)), key=lambda i: (-(-1.0 if load[i] != load[i] else load[i]), -totals[i],
                                                     hubs[i][at["name"]]))
    rows = [hubs[i] for i in order]
    data: dict[str, object] = {key: list(values) for key, values in zip(keys, zip(*rows, strict=True), strict=True)} \
        if rows else {key: pd.Series([], dtype="object") for key in keys}
    summed = summed_all[order]
    data.update({name: summed[:, j] for j, name in enumerate(_SUMMED)})
    for name, values in zip(_HUB_DERIVED, derived, strict=True):
        data[name] = pd.Series(values[order], dtype="object") if name == "missed_dates" else \
            values[order].astype("int64" if name in _HUB_INTEGERS else "float64")
    data["load_rank"] = rank_highest_first(derived[load_at][order].astype("float64"))  # 1 = busiest
    return pd.DataFrame(data)


@cached
def service_windows(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """Service windows of the hubs under the filter and how many hubs keep each (most common first)."""
    stmt = (select(fac.c.service_start, fac.c.service_end, func.count().label("hubs"))
            .where(*hub_dim_clauses(f, scope)).group_by(fac.c.service_start, fac.c.service_end))
    with ctx.engine.connect() as conn:
        frame = read_df(conn, stmt)
    return frame.sort_values("hubs", ascending=False).reset_index(drop=True) if not frame.empty else frame


def hub_totals(hubs: pd.DataFrame, k: int = DEFAULT_K) -> dict[str, float | int | None]:
    """KPI figures over the hubs of ``hub_load``: pooled rates (each consultation counts once)."""
    if hubs.empty:
        return {"hubs": 0, "hubs_serving": 0, "consultations": 0, "per_serving_hour": None, "wait_p50": None,
                "wait_p90": None, "abandoned_pct": None, "no_show_pct": None, "referral_pct": None,
                "doctors_per_day": None, "missed_days": 0, "n_outside_hours": 0, "outside_pct": None}
    total = int(hubs["consultations"].sum())
    buckets = [float(hubs[c].to_numpy().sum()) for c in WAIT_BUCKET_COLUMNS]
    hours = float(hubs["serving_hours"].sum())
    served = int(hubs["days_served"].sum())
    doctor_days = float((hubs["doctors_per_day"].fillna(0) * hubs["days_served"]).sum())

    def share(n: str, patient_split: bool = True) -> float | None:
        # Outcome shares are patient breakdowns (small-cell suppressed); outside-hours is operational.
        part = int(hubs[n].fillna(0).sum())
        if not total or (patient_split and suppress_rate(part, total, k)):
            return None
        return 100.0 * part / total

    return {
        "hubs": int(len(hubs)),
        "hubs_serving": int((hubs["consultations"] > 0).sum()),
        "consultations": total,
        "per_serving_hour": float(hubs["in_hours"].sum()) / hours if hours > 0 else None,
        "wait_p50": percentile_from_counts(buckets, 50),
        "wait_p90": percentile_from_counts(buckets, 90),
        "abandoned_pct": share("n_abandoned"),
        "no_show_pct": share("n_no_show"),
        "referral_pct": share("n_referred"),
        "doctors_per_day": doctor_days / served if served else None,
        "missed_days": int(hubs["missed_days"].sum()),
        "n_outside_hours": int(hubs["n_outside_hours"].sum()),
        "outside_pct": share("n_outside_hours", patient_split=False),
    }


def channel_mix(hubs: pd.DataFrame) -> pd.DataFrame:
    """Consultations by channel (video, audio, chat) over the hubs of ``hub_load``."""
    counts = [int(hubs[f"n_{c}"].sum()) if not hubs.empty else 0 for c in CHANNELS]
    total = sum(counts)
    return pd.DataFrame({"channel": list(CHANNELS), "consultations": counts,
                         "share_pct": [100.0 * n / total if total else np.nan for n in counts]})


# ---------------------------------------------------------------- specialty mix and hour × weekday


@cached
def specialty_mix(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """Consultations and referrals per specialty at the hubs under the filter, most consulted first."""
    hs = rollup_hub_specialty_day
    stmt = (select(hs.c.specialty_code, func.sum(hs.c.consultations).label("consultations"),
                   func.sum(hs.c.n_referred).label("n_referred"))
            .where(*hub_rollup_clauses(hs, f, scope)).group_by(hs.c.specialty_code))
    with ctx.engine.connect() as conn:
        sp = running.span(conn, cumulative_hub_specialty_day, f.start, f.end)
        if sp is not None:  # two running-total rows per hub, mode and specialty
            stmt = running.hub_totals(sp, cumulative_hub_specialty_day, f, _hub_ids(f, scope),
                                      ("consultations", "n_referred"), "specialty_code")
        mix = _frame_or_empty(read_df(conn, stmt), ["specialty_code", "consultations", "n_referred"])
        sp = dim_specialty.c
        names = read_df(conn, select(sp.specialty_code, sp.name_en, sp.name_hi))
    mix = mix.merge(names, on="specialty_code", how="left")
    mix["name_en"] = mix["name_en"].fillna(mix["specialty_code"])
    mix["name_hi"] = mix["name_hi"].fillna("")
    for col in ("consultations", "n_referred"):
        mix[col] = pd.to_numeric(mix[col]).fillna(0).astype("int64")
    mix = mix[mix["consultations"] > 0]
    total = int(mix["consultations"].sum())
    mix["share_pct"] = (100.0 * mix["consultations"] / total) if total else np.nan
    mix["referral_pct"] = rate_or_missing(mix["n_referred"], mix["consultations"],
                                          _rate(mix["n_referred"], mix["consultations"]), ctx.suppression_k)
    mix["n_referred"] = mix["n_referred"].astype("Int64").mask(mix["referral_pct"].isna())
    return mix.sort_values(["consultations", "specialty_code"], ascending=[False, True]).reset_index(drop=True)


@cached
def hour_weekday(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """Consultations answered by the hubs under the filter per weekday (0 = Monday) and hour of day (IST): all
    7 × 24 cells, zeros filled. Specialty does not apply (the hourly rollup has none)."""
    hh = rollup_hub_hour.c
    clauses = [hh.day >= f.start, hh.day <= f.end, hh.hub_id.in_(_hub_ids(f, scope)),
               scope_clause(hh.hub_district_lgd, scope)]
    if f.modes:
        clauses.append(hh.mode.in_(f.modes))
    stmt = (select(hh.day, hh.hour, func.sum(hh.consultations).label("consultations"))
            .where(*clauses).group_by(hh.day, hh.hour))
    grid = pd.MultiIndex.from_product([range(WEEKDAYS), range(HOURS)], names=["weekday", "hour"])
    with ctx.engine.connect() as conn:
        sp = running.span(conn, cumulative_hub_hour_day, f.start, f.end)
        if sp is not None:  # two running-total rows per hub, hour and mode
            wide = read_df(conn, running.hour_weekday(sp, f, _hub_ids(f, scope)))
        else:
            rows = read_df(conn, stmt)
    if sp is not None:
        cells = {(weekday, int(hour)): int(n or 0) for hour, *days in wide.itertuples(index=False, name=None)
                 for weekday, n in enumerate(days)}
        return pd.DataFrame({"weekday": grid.get_level_values(0), "hour": grid.get_level_values(1),
                             "consultations": [cells.get(cell, 0) for cell in grid]}).astype("int64")
    if rows.empty:
        return pd.DataFrame(index=grid).assign(consultations=0).reset_index().astype("int64")
    rows["weekday"] = pd.to_datetime(rows["day"]).dt.day_of_week
    rows["hour"] = rows["hour"].astype("int64")
    summed = rows.groupby(["weekday", "hour"])["consultations"].sum()
    out = summed.reindex(grid, fill_value=0).reset_index()
    out["consultations"] = out["consultations"].astype("int64")
    return out


# ---------------------------------------------------------------- spokes


def _active_chos(conn, spoke_ids) -> dict[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """(cho_id, name) of the active CHOs per spoke of ``spoke_ids`` (a select or a list), by name."""
    c = dim_cho.c
    out: dict[str, list[tuple[str, str]]] = {}
    for facility_id, cho_id, name in conn.execute(select(c.facility_id, c.cho_id, c.name)
                                                  .where(c.active.is_(True), c.facility_id.in_(spoke_ids))
                                                  .order_by(c.facility_id, c.name)).all():
        out.setdefault(facility_id, []).append((str(cho_id), str(name)))
    return out


def _chonames(conn, spoke_ids: Select) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Active CHOs per spoke, joined by ", " (most spokes have one)."""
    chos = _active_chos(conn, spoke_ids)
    return pd.DataFrame({"facility_id": list(chos), "cho_ids": [", ".join(i for i, _ in v) for v in chos.values()],
                         "cho_names": [", ".join(n for _, n in v) for v in chos.values()]}, dtype="str")


@cached
def spoke_activity(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """One row per spoke under the filter: consultations and active days in the period (mode and specialty
    applied), the last consultation up to the period's last day (any mode or specialty), days since it, idle
    flags for 7 and 30 days, block, CHO, assigned hub and whether that hub lies in another district.

    *Idle for N days*: no consultation in the N days ending on the period's last day, counted only for a spoke
    operational since at least N days before that day (a spoke that opened last week is not "idle for 30 days")."""
    hub = fac.alias("hub")
    spoke_district = dim_district.alias("spoke_district")
    hub_district = dim_district.alias("hub_district")
    spoke_ids = select(fac.c.facility_id).where(*spoke_dim_clauses(f, scope))
    dims = (
        select(fac.c.facility_id, fac.c.name, fac.c.facility_type, fac.c.district_lgd,
               spoke_district.c.name_en.label("district_en"), spoke_district.c.name_hi.label("district_hi"),
               fac.c.block_lgd, dim_block.c.name_en.label("block_en"), dim_block.c.name_hi.label("block_hi"),
               cast(fac.c.operational_since, String).label("operational_since"), fac.c.hub_id,
               hub.c.name.label("hub_name"),
               hub.c.district_lgd.label("hub_district_lgd"),
               hub_district.c.name_en.label("hub_district_en"), hub_district.c.name_hi.label("hub_district_hi"))
        .select_from(fac.outerjoin(spoke_district, spoke_district.c.district_lgd == fac.c.district_lgd)
                     .outerjoin(dim_block, dim_block.c.block_lgd == fac.c.block_lgd)
                     .outerjoin(hub, hub.c.facility_id == fac.c.hub_id)
                     .outerjoin(hub_district, hub_district.c.district_lgd == hub.c.district_lgd))
        .where(*spoke_dim_clauses(f, scope))
        .order_by(fac.c.name)
    )
    # The rows carry their spoke's district: the filter's districts are read along (district_lgd, day).
    period = [rfd.c.day >= f.start, rfd.c.day <= f.end, rfd.c.consultations > 0, rfd.c.spoke_id.in_(spoke_ids),
              *district_clauses(rfd.c.district_lgd, f, scope), district_by_district(f, scope)]
    if f.modes:
        period.append(rfd.c.mode.in_(f.modes))
    if f.specialties:
        period.append(rfd.c.specialty_code.in_(f.specialties))
    activity = (select(rfd.c.spoke_id.label("facility_id"), func.sum(rfd.c.consultations).label("consultations"),
                       func.count(distinct(rfd.c.day)).label("active_days"))
                .where(*period).group_by(rfd.c.spoke_id))
    with ctx.engine.connect() as conn:
        totals = running.span(conn, cumulative_spoke_day, f.start, f.end)
        # The last day is over every mode and specialty: the totals keep it while they are fresh.
        source, last_day = with_spoke_last_day(fac, fac.c.facility_id, f.end, totals,
                                               *district_clauses(rfd.c.district_lgd, f, scope))
        last = (select(fac.c.facility_id, cast(last_day, String).label("last_consultation")).select_from(source)
                .where(*spoke_dim_clauses(f, scope)))
        spokes = read_df(conn, dims)
        sp = None if running.by_consultation_kind(f) else totals
        if sp is not None:  # two running-total rows per spoke instead of its rollup rows of the period
            totals = read_df(conn, running.activity(sp, cumulative_spoke_day, "spoke_id", spoke_ids)).rename(
                columns={"key": "facility_id", "last_day": "last_consultation"})
            totals = _frame_or_empty(totals, ["facility_id", "consultations", "active_days", "last_consultation"])
            active = totals[["facility_id", "consultations", "active_days"]]
            latest = totals[["facility_id", "last_consultation"]]
        else:
            active = _frame_or_empty(read_df(conn, activity), ["facility_id", "consultations", "active_days"])
            latest = _frame_or_empty(read_df(conn, last), ["facility_id", "last_consultation"])
        chos = _chonames(conn, spoke_ids)
    latest = latest[latest["last_consultation"].notna()]
    frame = spokes.merge(active, on="facility_id", how="left").merge(latest, on="facility_id", how="left")
    return _spoke_metrics(frame.merge(chos, on="facility_id", how="left"), f)


def _spoke_metrics(frame: pd.DataFrame, f: Filter) -> pd.DataFrame:
    """``spoke_activity``'s derived columns for spokes joined to their period activity and CHOs."""
    for col in ("consultations", "active_days"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype("int64")
    frame["cho_ids"] = frame["cho_ids"].fillna("")
    frame["cho_names"] = frame["cho_names"].fillna("")
    frame["last_consultation"] = iso_dates(frame["last_consultation"])
    frame["per_active_day"] = _rate(frame["consultations"], frame["active_days"], 1.0)
    frame["days_since"] = pd.Series([None if v is None else (f.end - v).days for v in frame["last_consultation"]],
                                    index=frame.index, dtype="Int64")
    since = list(iso_dates(frame["operational_since"]))
    frame["operational_since"] = pd.Series(since, index=frame.index, dtype="object")
    for days in IDLE_WINDOWS:
        # Idle for N days: no consultation in the N days to the period's end, and open for all of them.
        silent = frame["days_since"].isna() | (frame["days_since"].fillna(0) >= days)
        opened = pd.Series([d is None or d <= f.end - timedelta(days=days) for d in since], index=frame.index,
                           dtype="bool")
        frame[f"idle_{days}"] = silent & opened
    hub_known = frame["hub_district_lgd"].notna()
    frame["cross_district"] = hub_known & (frame["hub_district_lgd"].fillna(-1).astype("int64")
                                           != frame["district_lgd"].astype("int64"))
    return frame


@dataclass(frozen=True)
class SpokeOverview:
    """What the spoke section shows, computed in the database: the counts over every spoke under the filter, and
    only the rows the grids show, grid-ready (``spokes_table``, ``idle_table`` and ``cross_table``'s first rows)."""

    counts: dict[str, int]  # spokes, active, idle_7, idle_30, cross_district
    top: list[dict[str, object]]  # by consultations, most first
    idle: list[dict[str, object]]  # idle for the chosen window: never active first, then the longest idle
    cross: list[dict[str, object]]  # assigned to a hub in another district


def _label(en: object, hi: object, hindi: bool) -> str:
    english = "" if en is None else str(en)
    return (str(hi) or english) if hindi and hi is not None else english


def _spoke_rows(rows: list, f: Filter, lang: str) -> dict[str, dict[str, object]]:
    """Grid rows (every column of the three spoke grids, JSON-ready) by spoke id, from the overview's row query (a
    row per spoke and active CHO, by spoke and then CHO name): ``_spoke_metrics`` and ``_spoke_labels`` for a few
    hundred rows, without pandas."""
    hindi = normalise_lang(lang) == "hi"
    out: dict[str, dict[str, object]] = {}
    chos: dict[str, list[str]] = {}
    for (facility_id, name, district_en, district_hi, block_en, block_hi, hub_id, hub_name, hub_district_en,
         hub_district_hi, consultations, active_days, last_consultation, cho_name) in rows:
        names = chos.get(facility_id)
        if names is not None:  # the same spoke with its next CHO
            names.append(cho_name)
            continue
        chos[facility_id] = [] if cho_name is None else [cho_name]
        consultations, active_days = int(consultations or 0), int(active_days or 0)
        last = date.fromisoformat(last_consultation[:10]) if last_consultation else None
        out[facility_id] = {
            "facility_id": facility_id, "spoke": name,
            "district": _label(district_en, district_hi, hindi), "block": _label(block_en, block_hi, hindi),
            "cho": "", "hub_id": hub_id, "hub": hub_name,
            "hub_district": _label(hub_district_en, hub_district_hi, hindi),
            "consultations": consultations, "active_days": active_days,
            "per_active_day": _plain(consultations / active_days) if active_days > 0 else None,
            "last_consultation": last.isoformat() if last else None,
            "days_since": (f.end - last).days if last else None,
        }
    for facility_id, names in chos.items():
        out[facility_id]["cho"] = ", ".join(names)
    return out


@cached
def spoke_overview(ctx: DataContext, f: Filter, scope: Scope, idle_days: int, lang: str,
                   limit: int | None = None) -> SpokeOverview:
    """``spoke_activity``'s counts and the first ``limit`` (default ``MAX_GRID_ROWS``) rows of its three grids,
    without reading every spoke into Python: a state has ~10,000 spokes, a grid shows 500 (the CSV exports read
    ``spoke_activity``). With the running totals stale, or a mode or specialty filter (which they do not keep), from
    ``spoke_activity``."""
    window = idle_days if idle_days in IDLE_WINDOWS else IDLE_WINDOWS[0]
    limit = MAX_GRID_ROWS if limit is None else limit
    hub = fac.alias("hub")
    spoke_district = dim_district.alias("spoke_district")
    hub_district = dim_district.alias("hub_district")
    with ctx.engine.connect() as conn:
        sp = None if running.by_consultation_kind(f) else running.span(conn, cumulative_spoke_day, f.start, f.end)
        if sp is None:
            frame = spoke_activity(ctx, f, scope)
            counts = {"spokes": len(frame), "active": int((frame["consultations"] > 0).sum()),
                      **{f"idle_{d}": int(frame[f"idle_{d}"].sum()) for d in IDLE_WINDOWS},
                      "cross_district": int(frame["cross_district"].sum())}
            params = {"idle": str(window)}
            return SpokeOverview(counts, grid_records(spokes_table(ctx, f, scope, {}, lang), limit),
                                 grid_records(idle_table(ctx, f, scope, params, lang), limit),
                                 grid_records(cross_table(ctx, f, scope, {}, lang), limit))
        # Every spoke under the filter once (a common table expression: one pass over the spokes and their running
        # totals), then from it in the same statement: the counts, and each grid's first rows, named.
        p = running.pair(cumulative_spoke_day, sp)
        e, b = p.e.c, p.s.c
        last = e.last_day

        def idle(days: int) -> ColumnElement[bool]:
            edge = f.end - timedelta(days=days)
            return and_(or_(last.is_(None), last <= edge),
                        or_(fac.c.operational_since.is_(None), fac.c.operational_since <= edge))

        cross = and_(hub.c.district_lgd.is_not(None), hub.c.district_lgd != fac.c.district_lgd)
        # Active in the period: its last day up to the end falls after the day before it (no look at that row).
        flags = {"active": last > sp.before, **{f"idle_{d}": idle(d) for d in IDLE_WINDOWS}, "cross_district": cross}
        spokes = (fac.outerjoin(p.e, and_(e.spoke_id == fac.c.facility_id, p.at_end))
                  .outerjoin(p.s, and_(b.spoke_id == fac.c.facility_id, b.day == sp.before))
                  .outerjoin(hub, hub.c.facility_id == fac.c.hub_id))
        per = (select(fac.c.facility_id, fac.c.name, fac.c.district_lgd, fac.c.block_lgd, fac.c.hub_id,
                      func.coalesce(p.diff("consultations"), 0).label("consultations"),
                      p.diff("active_days").label("active_days"), last.label("last_day"),
                      *[case((flag, 1), else_=0).label(name) for name, flag in flags.items()])
               .select_from(spokes).where(*spoke_dim_clauses(f, scope)).cte("per_spoke"))
        carried = [per.c[k] for k in _CARRIED]
        counted = select(literal_column("0").label("part"), null().label("rn"), *[null().label(k) for k in _CARRIED],
                         func.count().label("spokes"),
                         *[func.coalesce(func.sum(per.c[name]), 0).label(name) for name in flags])
        district_of = dim_district.alias("cross_spoke_district")  # the cross grid's order: the spoke's district
        named = per.join(district_of, district_of.c.district_lgd == per.c.district_lgd)
        n = len(flags)
        firsts = [  # each grid's spokes in its order; a grid's number is its part
            _first_rows(1, select(*carried), {"consultations": True, "name": False, "facility_id": False}, limit, n),
            _first_rows(2, select(*carried, per.c.last_day.is_not(None).label("seen"))
                        .where(per.c[f"idle_{window}"] == 1),
                        {"seen": False, "last_day": False, "name": False, "facility_id": False}, limit, n),
            _first_rows(3, select(*carried, district_of.c.name_en.label("district_en")).select_from(named)
                        .where(per.c.cross_district == 1),
                        {"district_en": False, "name": False, "facility_id": False}, limit, n),
        ]
        picked = union_all(counted, *firsts).subquery("picked")
        q = picked.c
        shown = (select(q.part, q.facility_id, q.name, spoke_district.c.name_en, spoke_district.c.name_hi,
                        dim_block.c.name_en, dim_block.c.name_hi, q.hub_id, hub.c.name,
                        hub_district.c.name_en, hub_district.c.name_hi, q.consultations, q.active_days,
                        cast(q.last_day, String), dim_cho.c.name, q.spokes, *[q[name] for name in flags])
                 .select_from(picked.outerjoin(spoke_district, spoke_district.c.district_lgd == q.district_lgd)
                              .outerjoin(dim_block, dim_block.c.block_lgd == q.block_lgd)
                              .outerjoin(hub, hub.c.facility_id == q.hub_id)
                              .outerjoin(hub_district, hub_district.c.district_lgd == hub.c.district_lgd)
                              .outerjoin(dim_cho, and_(dim_cho.c.facility_id == q.facility_id,
                                                       dim_cho.c.active.is_(True))))
                 .order_by(q.part, q.rn, dim_cho.c.name))  # each spoke's CHOs by name, as _active_chos
        rows = conn.execute(shown).all()
    spokes_at = 15  # after the part and the 14 fields _spoke_rows reads
    totals = next(r for r in rows if r[0] == 0)
    counts = {"spokes": int(totals[spokes_at]),
              **{name: int(v) for name, v in zip(flags, totals[spokes_at + 1:], strict=True)}}
    by_part = {part: _spoke_rows([r[1:spokes_at] for r in rows if r[0] == part], f, lang) for part in (1, 2, 3)}
    grids = {name: [_only(row, keys) for row in by_part[part].values()]
             for part, name, keys in ((1, "top", SPOKE_COLUMNS), (2, "idle", IDLE_COLUMNS),
                                      (3, "cross", CROSS_COLUMNS))}
    return SpokeOverview(counts=counts, top=grids["top"], idle=grids["idle"], cross=grids["cross"])


# What each grid's first rows carry from the spokes' common table expression to the statement that names them.
_CARRIED = ("facility_id", "name", "district_lgd", "block_lgd", "hub_id", "consultations", "active_days", "last_day")


def _first_rows(part: int, rows: Select, order: Mapping[str, bool], limit: int, flags: int) -> Select:
    """The first ``limit`` of ``rows`` in ``order`` (column names of ``rows``, True: descending; text by code
    point), numbered 1.. in that order (``rn``): the numbering sorts only the rows kept. Columns as the counts' row
    of the union: part, rn, ``_CARRIED``, then the spokes and ``flags`` counts (NULL here)."""
    def keys(columns) -> list[ColumnElement]:  # type: ignore[no-untyped-def]
        out = []
        for name, descending in order.items():
            column = columns[name]
            key = codepoints(column) if isinstance(column.type, String) else column
            out.append(key.desc() if descending else key)
        return out

    first = rows.order_by(*keys(rows.selected_columns)).limit(limit).subquery()
    return select(literal_column(str(part)), func.row_number().over(order_by=keys(first.c)),
                  *[first.c[k] for k in _CARRIED], *[null()] * (1 + flags))


def _only(row: dict[str, object], columns: tuple[ColumnSpec, ...]) -> dict[str, object]:
    return {c.key: row[c.key] for c in columns}


def idle_spokes(frame: pd.DataFrame, days: int) -> pd.DataFrame:
    """Spokes of ``spoke_activity`` with no consultation in the ``days`` days to the period's last day; never
    active first, then longest idle."""
    column = f"idle_{days}" if f"idle_{days}" in frame else f"idle_{IDLE_WINDOWS[0]}"
    idle = frame[frame[column]] if not frame.empty else frame
    key = idle["days_since"].fillna(10**9).astype("int64") if not idle.empty else pd.Series(dtype="int64")
    return (idle.assign(_k=key).sort_values(["_k", "name", "facility_id"], ascending=[False, True, True])
            .drop(columns="_k").reset_index(drop=True))


def cross_district(frame: pd.DataFrame) -> pd.DataFrame:
    """Spokes of ``spoke_activity`` assigned to a hub in another district."""
    out = frame[frame["cross_district"]] if not frame.empty else frame
    return out.sort_values(["district_en", "name", "facility_id"]).reset_index(drop=True) if not out.empty else out


# ---------------------------------------------------------------- the hub→spoke network of a district


@dataclass(frozen=True)
class Network:
    pairs: pd.DataFrame  # hub_id, spoke_id, consultations, assigned, names, districts, block, coordinates
    nodes: pd.DataFrame  # facility_id, name, facility_type, role, district_lgd, lat, lon, consultations, in_district

    @property
    def empty(self) -> bool:
        return self.nodes.empty


@cached
def network(ctx: DataContext, f: Filter, scope: Scope, lgd: int) -> Network:
    """The district's hubs and spokes and every hub→spoke pair with consultations in the period where the spoke or
    the hub lies in the district (either end in scope). Mode, specialty, block (the spoke's) and facility filters
    apply to the pairs."""
    if not scope.allows(lgd):
        return Network(pd.DataFrame(), pd.DataFrame())
    # "The spoke or the hub lies in the district", as two terms each read through an index: the district's spokes
    # along (district_lgd, day), and the hubs that served from the district in the period (rollup_hub_day's
    # (hub_district_lgd, day) index) along (hub_id, day). A plain OR of the two districts read the period's rows of
    # the whole state.
    hd = rollup_hub_day.c
    district_hubs = (select(hd.hub_id).where(hd.hub_district_lgd == lgd, hd.day >= f.start, hd.day <= f.end)
                     .distinct())
    clauses = [rfd.c.day >= f.start, rfd.c.day <= f.end, rfd.c.consultations > 0,
               or_(rfd.c.district_lgd == lgd, and_(rfd.c.hub_id.in_(district_hubs), rfd.c.hub_district_lgd == lgd)),
               or_(scope_clause(rfd.c.district_lgd, scope), scope_clause(rfd.c.hub_district_lgd, scope))]
    if f.modes:
        clauses.append(rfd.c.mode.in_(f.modes))
    if f.specialties:
        clauses.append(rfd.c.specialty_code.in_(f.specialties))
    if f.block_lgds:
        clauses.append(rfd.c.block_lgd.in_(f.block_lgds))
    clauses += facility_clauses(rfd.c.spoke_id, rfd.c.hub_id, f, "either")
    pair_stmt = (select(rfd.c.hub_id, rfd.c.spoke_id, func.max(rfd.c.hub_district_lgd).label("hub_district_lgd"),
                        func.max(rfd.c.district_lgd).label("spoke_district_lgd"),
                        func.sum(rfd.c.consultations).label("consultations"))
                 .where(*clauses).group_by(rfd.c.hub_id, rfd.c.spoke_id))
    node_clauses = [fac.c.district_lgd == lgd, scope_clause(fac.c.district_lgd, scope)]
    if f.facility_types:
        node_clauses.append(fac.c.facility_type.in_(f.facility_types))
    cols = (fac.c.facility_id, fac.c.name, fac.c.facility_type, fac.c.role, fac.c.district_lgd, fac.c.block_lgd,
            fac.c.hub_id, fac.c.lat, fac.c.lon, dim_district.c.name_en.label("district_en"),
            dim_district.c.name_hi.label("district_hi"), dim_block.c.name_en.label("block_en"),
            dim_block.c.name_hi.label("block_hi"))
    joined = (fac.outerjoin(dim_district, dim_district.c.district_lgd == fac.c.district_lgd)
              .outerjoin(dim_block, dim_block.c.block_lgd == fac.c.block_lgd))
    with ctx.engine.connect() as conn:
        pair_rows = [tuple(r) for r in conn.execute(pair_stmt).all()]
        node_rows = [tuple(r) for r in conn.execute(select(*cols).select_from(joined).where(*node_clauses)).all()]
        own = {r[0] for r in node_rows}
        ids = sorted({r[0] for r in pair_rows} | {r[1] for r in pair_rows})
        if ids:
            node_rows += [tuple(r) for r in conn.execute(select(*cols).select_from(joined)
                                                          .where(fac.c.facility_id.in_(ids))).all()
                          if r[0] not in own]
    return _network_frames(pair_rows, node_rows, [c.name for c in cols], lgd)


_PAIR_COLUMNS = ("hub_id", "spoke_id", "hub_district_lgd", "spoke_district_lgd", "consultations")
# What each pair carries of its two ends (as hub_<column> and spoke_<column>), and the types of those columns a frame
# with no pair still has.
_HUB_END = ("name", "district_en", "district_hi", "lat", "lon")
_SPOKE_END = ("name", "district_en", "district_hi", "block_en", "block_hi", "lat", "lon")
_END_DTYPES = {"lat": "float64", "lon": "float64"}


def _network_frames(pair_rows: list[tuple], node_rows: list[tuple], node_columns: list[str], lgd: int) -> Network:
    """``network``'s two frames from its rows, in plain Python (a district has a few hundred pairs and nodes): each
    node's consultations (as hub or as spoke), both ends' names and places on each pair, and whether the pair is an
    assignment; pairs by hub name, then most consultations, then spoke name (unknown names last); nodes by role and
    name."""
    at = {name: i for i, name in enumerate(node_columns)}
    info = {r[0]: r for r in node_rows}
    missing = (None,) * len(node_columns)
    hub_at, spoke_at = [at[k] for k in _HUB_END], [at[k] for k in _SPOKE_END]
    as_hub: dict[str, int] = {}
    as_spoke: dict[str, int] = {}
    rows = []
    for hub_id, spoke_id, hub_district, spoke_district, n in pair_rows:
        n = int(n or 0)
        as_hub[hub_id] = as_hub.get(hub_id, 0) + n
        as_spoke[spoke_id] = as_spoke.get(spoke_id, 0) + n
        hub, spoke = info.get(hub_id, missing), info.get(spoke_id, missing)
        rows.append((hub_id, spoke_id, hub_district, spoke_district, n, *(hub[i] for i in hub_at),
                     *(spoke[i] for i in spoke_at), spoke[at["hub_id"]] == hub_id))
    hub_name, spoke_name = len(_PAIR_COLUMNS), len(_PAIR_COLUMNS) + len(_HUB_END)
    rows.sort(key=lambda r: (r[hub_name] is None, r[hub_name] or "", -r[4], r[spoke_name] is None,
                             r[spoke_name] or ""))
    ends = {**{f"hub_{k}": _END_DTYPES.get(k, "str") for k in _HUB_END},
            **{f"spoke_{k}": _END_DTYPES.get(k, "str") for k in _SPOKE_END}}
    columns = [*_PAIR_COLUMNS, *ends, "assigned"]
    if rows:
        pair_frame = pd.DataFrame(rows, columns=columns)
        pair_frame["consultations"] = pair_frame["consultations"].astype("int64")
        pair_frame["assigned"] = pair_frame["assigned"].astype("bool")
    else:  # typed as a frame with rows would be
        kinds = {**dict.fromkeys(_PAIR_COLUMNS, "object"), "consultations": "int64", **ends, "assigned": "bool"}
        pair_frame = pd.DataFrame({c: pd.Series([], dtype=kinds[c]) for c in columns})
    role, district, name = at["role"], at["district_lgd"], at["name"]
    nodes = sorted(node_rows, key=lambda r: (r[role], r[name]))
    node_frame = pd.DataFrame(nodes, columns=node_columns)
    node_frame["in_district"] = np.array([int(r[district]) == lgd for r in nodes], dtype="bool")
    node_frame["consultations"] = np.array(
        [(as_hub if r[role] == "hub" else as_spoke).get(r[0], 0) for r in nodes], dtype="int64")
    return Network(pair_frame, node_frame)


# ---------------------------------------------------------------- the tables behind the views (grids and CSV)
# Cached as labelled: a warm grid update or export is a cache read. The key holds the query's parameters and language.

HUB_COLUMNS = (
    ColumnSpec("load_rank", "col.load_rank", "int", "Rank by consultations per serving hour (1 = busiest)."),
    ColumnSpec("facility_id", "col.hub_id", "code", "Hub identifier."),
    ColumnSpec("hub", "col.hub_name", "text", "Hub name."),
    ColumnSpec("facility_type", "col.facility_type", "text", "PHC, UPHC, CHC, SDH, DH or MC."),
    ColumnSpec("district", "col.district", "text", "The hub's own district."),
    ColumnSpec("spokes_assigned", "col.spokes_assigned", "int", "Spokes assigned to the hub in the facility master."),
    ColumnSpec("spokes_served", "col.spokes_served", "int",
               "Distinct spokes the hub answered in the period (assigned or not)."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations the hub answered in the period."),
    ColumnSpec("per_serving_hour", "col.per_serving_hour", "float",
               "Consultations inside the service hours per serving hour (window length x serving days)."),
    ColumnSpec("serving_days", "col.serving_days", "int", "Scheduled service days on which the hub answered."),
    ColumnSpec("serving_hours", "col.serving_hours", "float", "Service window in hours x serving days."),
    ColumnSpec("per_assigned_spoke", "col.per_assigned_spoke", "float",
               "Consultations in the period per assigned spoke."),
    ColumnSpec("wait_p50", "col.wait_p50", "float", "Median wait in minutes, from the fixed wait histogram."),
    ColumnSpec("wait_p90", "col.wait_p90", "float", "90th percentile wait in minutes, from the wait histogram."),
    ColumnSpec("abandoned_pct", "col.abandoned_pct", "pct", "Abandoned consultations as a percentage of all."),
    ColumnSpec("no_show_pct", "col.no_show_pct", "pct", "No-shows as a percentage of all consultations."),
    ColumnSpec("referral_pct", "col.referral_rate", "pct", "Referred consultations as a percentage of all."),
    ColumnSpec("doctors_per_day", "col.doctors_per_day", "float",
               "Distinct doctors who answered, averaged over the days the hub served."),
)

SERVICE_COLUMNS = (
    ColumnSpec("facility_id", "col.hub_id", "code", "Hub identifier."),
    ColumnSpec("hub", "col.hub_name", "text", "Hub name."),
    ColumnSpec("district", "col.district", "text", "The hub's own district."),
    ColumnSpec("service_hours", "col.service_hours", "text", "Service window (IST) from the facility master."),
    ColumnSpec("service_days", "col.service_days", "text", "Weekdays served, from the facility master."),
    ColumnSpec("scheduled_days", "col.scheduled_days", "int", "Days of the period that are service days."),
    ColumnSpec("serving_days", "col.serving_days", "int", "Scheduled service days on which the hub answered."),
    ColumnSpec("missed_days", "col.missed_days", "int", "Scheduled service days with no consultation answered."),
    ColumnSpec("missed_dates", "col.missed_dates", "text", "The first ten of those days, dd-mm-yyyy."),
    ColumnSpec("n_outside_hours", "col.outside_hours", "int",
               "Consultations answered outside the hub's service hours or days."),
    ColumnSpec("outside_pct", "col.outside_pct", "pct", "Those as a percentage of the hub's consultations."),
)

SPOKE_COLUMNS = (
    ColumnSpec("facility_id", "col.facility_id", "code", "Spoke identifier."),
    ColumnSpec("spoke", "col.spoke", "text", "Spoke name."),
    ColumnSpec("district", "col.district", "text", "Spoke's district."),
    ColumnSpec("block", "col.block", "text", "Spoke's block."),
    ColumnSpec("cho", "col.cho", "text", "Active CHO(s) posted at the spoke."),
    ColumnSpec("hub_id", "col.hub", "code", "Assigned hub."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations at the spoke in the period."),
    ColumnSpec("active_days", "col.active_days", "int", "Days in the period with at least one consultation."),
    ColumnSpec("per_active_day", "col.per_active_day", "float", "Consultations per active day."),
    ColumnSpec("last_consultation", "col.last_consultation", "date",
               "Last consultation up to the period's last day (empty: never)."),
    ColumnSpec("days_since", "col.days_since", "int", "Days from the last consultation to the period's last day."),
)

IDLE_COLUMNS = (
    ColumnSpec("facility_id", "col.facility_id", "code", "Spoke identifier."),
    ColumnSpec("spoke", "col.spoke", "text", "Spoke name."),
    ColumnSpec("district", "col.district", "text", "Spoke's district."),
    ColumnSpec("block", "col.block", "text", "Spoke's block."),
    ColumnSpec("cho", "col.cho", "text", "Active CHO(s) posted at the spoke (empty: none)."),
    ColumnSpec("hub_id", "col.hub", "code", "Assigned hub."),
    ColumnSpec("last_consultation", "col.last_consultation", "date", "Last consultation (empty: never)."),
    ColumnSpec("days_since", "col.days_since", "int", "Days since the last consultation (empty: never)."),
)

CROSS_COLUMNS = (
    ColumnSpec("facility_id", "col.facility_id", "code", "Spoke identifier."),
    ColumnSpec("spoke", "col.spoke", "text", "Spoke name."),
    ColumnSpec("district", "col.district", "text", "Spoke's district."),
    ColumnSpec("block", "col.block", "text", "Spoke's block."),
    ColumnSpec("hub_id", "col.hub", "code", "Assigned hub."),
    ColumnSpec("hub", "col.hub_name", "text", "Assigned hub's name."),
    ColumnSpec("hub_district", "col.hub_district", "text", "Assigned hub's district."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations at the spoke in the period."),
)

NETWORK_COLUMNS = (
    ColumnSpec("hub_id", "col.hub_id", "code", "Hub identifier."),
    ColumnSpec("hub", "col.hub_name", "text", "Hub name."),
    ColumnSpec("hub_district", "col.hub_district", "text", "Hub's district."),
    ColumnSpec("spoke_id", "col.facility_id", "code", "Spoke identifier."),
    ColumnSpec("spoke", "col.spoke", "text", "Spoke name."),
    ColumnSpec("spoke_district", "col.district", "text", "Spoke's district."),
    ColumnSpec("block", "col.block", "text", "Spoke's block."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations between the two in the period."),
    ColumnSpec("assigned", "col.assigned", "text", "Whether the spoke is assigned to this hub."),
)

SPECIALTY_COLUMNS = (
    ColumnSpec("specialty_code", "col.specialty_code", "code", "Specialty code."),
    ColumnSpec("specialty", "col.specialty", "text", "Specialty."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations answered by the hubs shown."),
    ColumnSpec("share_pct", "col.share_pct", "pct", "Share of all consultations shown."),
    ColumnSpec("n_referred", "col.referred", "int", "Consultations that ended in a referral."),
    ColumnSpec("referral_pct", "col.referral_rate", "pct", "Referred as a percentage of the specialty's."),
)

CHANNEL_COLUMNS = (
    ColumnSpec("channel", "col.channel", "text", "video, audio or chat."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations answered by the hubs shown."),
    ColumnSpec("share_pct", "col.share_pct", "pct", "Share of all consultations shown."),
)

HEATMAP_COLUMNS = (
    ColumnSpec("weekday", "col.weekday", "text", "Day of the week."),
    ColumnSpec("hour", "col.hour", "int", "Hour of the day (IST), 0-23: 9 is 09:00-09:59."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations answered in that hour on those days."),
)


def service_days_text(mask: str | None, lang: str) -> str:
    mask = (mask or DEFAULT_DAYS).ljust(WEEKDAYS, "0")[:WEEKDAYS]
    if mask == "1" * WEEKDAYS:
        return t("hubs.every_day", lang)
    return ", ".join(t(f"weekday.short.{i}", lang) for i in range(WEEKDAYS) if mask[i] == "1") or "–"


def idle_window(params: Mapping[str, str]) -> int:
    raw = params.get("idle") or ""
    return int(raw) if raw.isdigit() and int(raw) in IDLE_WINDOWS else IDLE_WINDOWS[0]


def network_district(f: Filter) -> int | None:
    """The network's district: the filter's first district."""
    return f.district_lgds[0] if f.district_lgds else None


def _hub_labels(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["hub"] = frame["name"]
    frame["district"] = names(frame, lang, "district_en", "district_hi")
    return frame


@cached
def hubs_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = hub_load(ctx, f, scope).merge(spokes_served(ctx, f, scope), on="facility_id", how="left")
    frame["spokes_served"] = pd.to_numeric(frame["spokes_served"]).fillna(0).astype("int64")
    return pick(_hub_labels(frame, lang), HUB_COLUMNS)


@cached
def hubs_grid(ctx: DataContext, f: Filter, scope: Scope, lang: str, shown: tuple[str, ...]) -> pd.DataFrame:
    """The hub load grid's rows: only the ``shown`` columns (and the row id) of ``hubs_table``, in its order; the
    CSV (``hubs_table``) has every column."""
    keep = tuple(c for c in HUB_COLUMNS if c.key in shown or c.key == "facility_id")
    return pick(_hub_labels(hub_load(ctx, f, scope), lang), keep)


@cached
def service_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    """Service-hours compliance per hub: most scheduled days missed first, then most consultations outside the
    hours, then by name. Only its columns are built (from plain lists; a hub frame has ~50)."""
    hubs = hub_load(ctx, f, scope)
    if hubs.empty:
        return pick(hubs, SERVICE_COLUMNS)
    missed, outside, name = (hubs[c].tolist() for c in ("missed_days", "n_outside_hours", "name"))
    order = sorted(range(len(hubs)), key=lambda i: (-missed[i], -outside[i], name[i]))
    starts, ends, masks = (hubs[c].tolist() for c in ("service_start", "service_end", "service_days"))
    texts: dict[str | None, str] = {}
    for mask in set(masks):
        texts[mask] = service_days_text(mask, lang)
    made = {"hub": hubs["name"], "district": names(hubs, lang, "district_en", "district_hi"),
            "service_hours": pd.Series([f"{a}–{b}" for a, b in zip(starts, ends, strict=True)]),
            "service_days": pd.Series([texts[m] for m in masks])}
    return pd.DataFrame({c.key: (made[c.key] if c.key in made else hubs[c.key]).take(order).reset_index(drop=True)
                         for c in SERVICE_COLUMNS})


def _spoke_labels(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    frame = frame.copy()
    frame["spoke"] = frame["name"]
    frame["district"] = names(frame, lang, "district_en", "district_hi")
    frame["block"] = names(frame, lang, "block_en", "block_hi")
    frame["cho"] = frame["cho_names"]
    frame["hub"] = frame["hub_name"]
    frame["hub_district"] = names(frame, lang, "hub_district_en", "hub_district_hi")
    return frame


@cached
def spokes_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = spoke_activity(ctx, f, scope)
    frame = frame.sort_values(["consultations", "name", "facility_id"], ascending=[False, True, True])
    return pick(_spoke_labels(frame, lang), SPOKE_COLUMNS)


@cached
def idle_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = idle_spokes(spoke_activity(ctx, f, scope), idle_window(params))
    return pick(_spoke_labels(frame, lang), IDLE_COLUMNS)


@cached
def cross_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = cross_district(spoke_activity(ctx, f, scope))
    return pick(_spoke_labels(frame, lang), CROSS_COLUMNS)


@cached
def network_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    lgd = network_district(f)
    if lgd is None:
        return pd.DataFrame(columns=[c.key for c in NETWORK_COLUMNS])
    pairs = network(ctx, f, scope, lgd).pairs.copy()
    if pairs.empty:
        return pd.DataFrame(columns=[c.key for c in NETWORK_COLUMNS])
    pairs["hub"] = pairs["hub_name"]
    pairs["hub_district"] = names(pairs, lang, "hub_district_en", "hub_district_hi")
    pairs["spoke"] = pairs["spoke_name"]
    pairs["spoke_district"] = names(pairs, lang, "spoke_district_en", "spoke_district_hi")
    pairs["block"] = names(pairs, lang, "spoke_block_en", "spoke_block_hi")
    pairs["assigned"] = [t("yes" if a else "no", lang) for a in pairs["assigned"]]
    return pick(pairs, NETWORK_COLUMNS)


@cached
def specialty_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = specialty_mix(ctx, f, scope).copy()
    frame["specialty"] = names(frame, lang, "name_en", "name_hi")
    return pick(frame, SPECIALTY_COLUMNS)


@cached
def channel_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = channel_mix(hub_load(ctx, f, scope))
    frame["channel"] = [t(f"channel.{c}", lang) for c in frame["channel"]]
    return pick(frame, CHANNEL_COLUMNS)


@cached
def heatmap_table(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    frame = hour_weekday(ctx, f, scope).copy()
    frame["weekday"] = [t(f"weekday.{int(d)}", lang) for d in frame["weekday"]]
    return pick(frame, HEATMAP_COLUMNS)


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("hubs-load", HUB_COLUMNS, hubs_table),
        TableSpec("hubs-service", SERVICE_COLUMNS, service_table),
        TableSpec("hubs-spokes", SPOKE_COLUMNS, spokes_table),
        TableSpec("hubs-idle-spokes", IDLE_COLUMNS, idle_table),
        TableSpec("hubs-cross-district", CROSS_COLUMNS, cross_table),
        TableSpec("hubs-network", NETWORK_COLUMNS, network_table),
        TableSpec("hubs-specialties", SPECIALTY_COLUMNS, specialty_table),
        TableSpec("hubs-channels", CHANNEL_COLUMNS, channel_table),
        TableSpec("hubs-hour-weekday", HEATMAP_COLUMNS, heatmap_table),
    )
}
