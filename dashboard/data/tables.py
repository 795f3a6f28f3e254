"""The tables behind the views. A page's grid and its "Export CSV" both call the same builder with the same filter,
so the download has exactly the rows on screen. Column labels come from the translation catalogue.

Each table is cached as it is shown (keyed by filter, scope, the page parameters it reads and the language), so a
repeated view costs one cache read, not the reshaping of the data behind it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from dashboard.data import district as district_data
from dashboard.data import overview
from dashboard.data.context import DataContext, cached
from dashboard.data.filters import Filter, Scope
from dashboard.i18n import name_of, t

MAX_COMPARE = 6


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str  # translation key
    kind: str  # int | float | pct | date | text | code (an identifier: never digit-grouped)
    description: str  # English, for the data dictionary


Builder = Callable[[DataContext, Filter, Scope, Mapping[str, str], str], pd.DataFrame]


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    build: Builder
    needs_district: bool = False

    def labels(self, lang: str, frame: pd.DataFrame | None = None) -> list[str]:
        """CSV header: translated labels of the known columns; other columns (e.g. one per compared district)
        are already labelled."""
        known = {c.key: t(c.label, lang) for c in self.columns}
        keys = list(frame.columns) if frame is not None else list(known)
        return [known.get(k, k) for k in keys]


def _name(frame: pd.DataFrame, lang: str, en: str = "name_en", hi: str = "name_hi") -> pd.Series:
    if frame.empty:
        return pd.Series([], dtype="object")
    return pd.Series([name_of({"name_en": a, "name_hi": b}, lang) for a, b in zip(frame[en], frame[hi], strict=True)],
                     index=frame.index, dtype="object")


def _select(frame: pd.DataFrame, spec_columns: tuple[ColumnSpec, ...]) -> pd.DataFrame:
    keys = [c.key for c in spec_columns]
    if frame.empty:
        return pd.DataFrame(columns=keys)
    return frame[keys].reset_index(drop=True)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON-ready rows for a grid: missing values as None, days as ISO text. The same rows as
    ``frame.astype(object).where(frame.notna(), None).to_dict("records")`` with dates written out, in a tenth of
    the time (one conversion to Python objects instead of a pass of pandas per column)."""
    columns = [str(c) for c in frame.columns]
    values = frame.to_numpy(dtype=object, na_value=None)
    return [{c: (v.isoformat() if isinstance(v, date) else v) for c, v in zip(columns, row, strict=True)}
            for row in values]


def district_lgd_param(params: Mapping[str, str]) -> int | None:
    raw = params.get("lgd") or ""
    return int(raw) if raw.isdigit() else None


# ---------------------------------------------------------------- overview

OVERVIEW_COLUMNS = (
    ColumnSpec("rank", "col.rank", "int", "Rank by consultations among the districts shown (1 = most)."),
    ColumnSpec("district_lgd", "col.district_lgd", "code", "District code in the Local Government Directory."),
    ColumnSpec("district", "col.district", "text", "District name."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations in the period (spoke's district)."),
    ColumnSpec("prev_consultations", "col.prev_consultations", "int",
               "Consultations in the previous period of equal length."),
    ColumnSpec("change_pct", "col.change_pct", "pct", "Change against the previous period, in percent."),
    ColumnSpec("spokes_total", "col.spokes_total", "int", "Spokes (Arogya Mandirs) in the facility master."),
    ColumnSpec("spokes_active", "col.spokes_active", "int", "Spokes with at least one consultation in the period."),
    ColumnSpec("active_spoke_pct", "col.active_spoke_pct", "pct", "Active spokes as a percentage of all spokes."),
    ColumnSpec("per_active_spoke", "col.per_active_spoke", "float", "Consultations per active spoke."),
    ColumnSpec("hubs_serving", "col.hubs_serving", "int", "Hubs that answered a consultation from the district."),
    ColumnSpec("median_wait", "col.median_wait", "float",
               "Median wait in minutes, read from the fixed wait histogram."),
    ColumnSpec("referral_rate", "col.referral_rate", "pct", "Referred consultations as a percentage of all."),
    ColumnSpec("blocks_total", "col.blocks_total", "int", "Blocks of the district."),
    ColumnSpec("blocks_breaching", "col.blocks_breaching", "int", "Blocks with fewer than two spokes."),
)


def overview_districts(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str],
                       lang: str) -> pd.DataFrame:
    return _overview_districts(ctx, f, scope, lang)


@cached
def _overview_districts(ctx: DataContext, f: Filter, scope: Scope, lang: str) -> pd.DataFrame:
    frame = overview.district_metrics(ctx, f, scope).copy()
    frame["district"] = _name(frame, lang)
    return _select(frame, OVERVIEW_COLUMNS)


# ---------------------------------------------------------------- district page

BLOCK_COLUMNS = (
    ColumnSpec("block_lgd", "col.block_lgd", "code", "Block code in the Local Government Directory."),
    ColumnSpec("block", "col.block", "text", "Block name."),
    ColumnSpec("spokes", "col.spokes_total", "int", "Spokes in the block (facility master)."),
    ColumnSpec("spokes_active", "col.spokes_active", "int", "Spokes with a consultation in the period."),
    ColumnSpec("consultations", "col.consultations", "int", "Consultations at the block's spokes in the period."),
    ColumnSpec("chos", "col.chos", "int", "Active Community Health Officers posted in the block."),
    ColumnSpec("rule", "col.rule", "text", "Whether the block has at least two spokes (BREACH if not)."),
)


def district_blocks(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    lgd = district_lgd_param(params)
    if lgd is None:
        return pd.DataFrame(columns=[c.key for c in BLOCK_COLUMNS])
    return _district_blocks(ctx, f, scope, lgd, lang)


@cached
def _district_blocks(ctx: DataContext, f: Filter, scope: Scope, lgd: int, lang: str) -> pd.DataFrame:
    frame = district_data.block_table(ctx, f, scope, lgd).copy()
    frame["block"] = _name(frame, lang)
    frame["rule"] = [t("col.rule_breach" if b else "col.rule_ok", lang) for b in frame["breach"]]
    return _select(frame, BLOCK_COLUMNS)


FACILITY_COLUMNS = (
    ColumnSpec("facility_id", "col.facility_id", "text", "Facility identifier (NIN or state code)."),
    ColumnSpec("facility", "col.facility", "text", "Facility name."),
    ColumnSpec("facility_type", "col.facility_type", "text", "SC, PHC, UPHC, CHC, SDH, DH or MC."),
    ColumnSpec("role", "col.role", "text", "Hub or spoke."),
    ColumnSpec("block", "col.block", "text", "Block name."),
    ColumnSpec("hub_id", "col.hub", "text", "For a spoke: the hub it is assigned to."),
    ColumnSpec("consultations", "col.consultations", "int",
               "Consultations in the period: a spoke's as spoke, a hub's as hub."),
    ColumnSpec("last_consultation", "col.last_consultation", "date", "Day of the last consultation up to the period's "
               "end."),
    ColumnSpec("chos", "col.chos", "int", "Active CHOs posted at the facility."),
)


def district_facilities(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str],
                        lang: str) -> pd.DataFrame:
    lgd = district_lgd_param(params)
    if lgd is None:
        return pd.DataFrame(columns=[c.key for c in FACILITY_COLUMNS])
    return _district_facilities(ctx, f, scope, lgd, lang)


@cached
def _district_facilities(ctx: DataContext, f: Filter, scope: Scope, lgd: int, lang: str) -> pd.DataFrame:
    frame = district_data.facilities(ctx, f, scope, lgd).copy()
    frame["facility"] = frame["name"]
    frame["block"] = _name(frame, lang, "block_en", "block_hi")
    frame["role"] = [t(f"role.{r}", lang) for r in frame["role"]]
    return _select(frame, FACILITY_COLUMNS)


IDLE_COLUMNS = (
    ColumnSpec("facility_id", "col.facility_id", "text", "Spoke identifier."),
    ColumnSpec("facility", "col.facility", "text", "Spoke name."),
    ColumnSpec("block", "col.block", "text", "Block name."),
    ColumnSpec("hub_id", "col.hub", "text", "Assigned hub."),
    ColumnSpec("last_consultation", "col.last_consultation", "date", "Last consultation (empty: never)."),
    ColumnSpec("days_idle", "col.days_idle", "int", "Days since the last consultation (empty: never)."),
)


def district_idle(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    lgd = district_lgd_param(params)
    if lgd is None:
        return pd.DataFrame(columns=[c.key for c in IDLE_COLUMNS])
    return _district_idle(ctx, f, scope, lgd, lang)


@cached
def _district_idle(ctx: DataContext, f: Filter, scope: Scope, lgd: int, lang: str) -> pd.DataFrame:
    frame = district_data.idle_spokes(ctx, f, scope, lgd).copy()
    frame["facility"] = frame["name"]
    frame["block"] = _name(frame, lang, "block_en", "block_hi")
    return _select(frame, IDLE_COLUMNS)


SILENT_COLUMNS = (
    ColumnSpec("cho_id", "col.cho_id", "text", "CHO identifier."),
    ColumnSpec("cho", "col.cho", "text", "CHO name."),
    ColumnSpec("facility", "col.facility", "text", "Facility the CHO is posted at."),
    ColumnSpec("block", "col.block", "text", "Block name."),
    ColumnSpec("last_active", "col.last_active", "date", "Last day with a consultation (empty: never)."),
    ColumnSpec("days_silent", "col.days_silent", "int", "Days since the last activity (empty: never)."),
)


def district_silent(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str], lang: str) -> pd.DataFrame:
    lgd = district_lgd_param(params)
    if lgd is None:
        return pd.DataFrame(columns=[c.key for c in SILENT_COLUMNS])
    return _district_silent(ctx, f, scope, lgd, lang)


@cached
def _district_silent(ctx: DataContext, f: Filter, scope: Scope, lgd: int, lang: str) -> pd.DataFrame:
    frame = district_data.silent_chos(ctx, f, scope, lgd).copy()
    frame["cho"] = frame["name"]
    frame["facility"] = frame["facility_name"]
    frame["block"] = _name(frame, lang, "block_en", "block_hi")
    return _select(frame, SILENT_COLUMNS)


# ---------------------------------------------------------------- comparison

COMPARE_MEASURES: tuple[tuple[str, bool], ...] = (
    # measure, higher is better (for the rank)
    ("consultations", True),
    ("change_pct", True),
    ("spokes_active", True),
    ("active_spoke_pct", True),
    ("per_active_spoke", True),
    ("hubs_serving", True),
    ("median_wait", False),
    ("referral_rate", False),
    ("blocks_breaching", False),
)
COMPARE_COLUMNS = (
    ColumnSpec("measure", "col.measure_code", "text", "Measure code (see the overview table's dictionary)."),
    ColumnSpec("label", "col.metric", "text", "Measure."),
    ColumnSpec("of", "col.ranked", "int", "Number of districts ranked on the measure (those with a value)."),
)
# Then, per chosen district, two columns: "<district name>" (the value) and "<district name> · rank" (1 = best).


def compare_ids(params: Mapping[str, str]) -> list[int]:
    seen: list[int] = []
    for part in (params.get("cmp") or "").split(","):
        if part.strip().isdigit() and int(part) not in seen:
            seen.append(int(part))
    return seen[:MAX_COMPARE]


def ranked_metrics(ctx: DataContext, f: Filter, scope: Scope) -> pd.DataFrame:
    """Every district in scope with each measure's rank (1 = best), ignoring the filter's geography."""
    frame = overview.district_metrics(ctx, f.with_(district_lgds=(), block_lgds=(), facility_ids=()), scope).copy()
    for measure, higher in COMPARE_MEASURES:
        frame[f"rank_{measure}"] = frame[measure].rank(method="min", ascending=not higher, na_option="keep")
    return frame


def compare_districts(ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str],
                      lang: str) -> pd.DataFrame:
    """Side by side: one row per measure, a value and a rank column per chosen district (ranks among all)."""
    return _compare_table(ctx, f, scope, tuple(compare_ids(params)), lang)


@cached
def _compare_table(ctx: DataContext, f: Filter, scope: Scope, chosen: tuple[int, ...], lang: str) -> pd.DataFrame:
    ranked = ranked_metrics(ctx, f, scope)
    rows: list[dict[str, object]] = [
        {"measure": measure, "label": t(f"col.{measure}", lang), "of": int(ranked[measure].notna().sum())}
        for measure, _ in COMPARE_MEASURES
    ]
    columns = [c.key for c in COMPARE_COLUMNS]
    for lgd in chosen:
        match = ranked[ranked["district_lgd"] == lgd]
        if match.empty:
            continue
        r = match.iloc[0]
        name = name_of(r.to_dict(), lang)
        rank_col = f"{name} · {t('col.rank', lang)}"
        columns += [name, rank_col]
        for row, (measure, _) in zip(rows, COMPARE_MEASURES, strict=True):
            row[name] = None if pd.isna(r[measure]) else float(r[measure])
            row[rank_col] = None if pd.isna(r[f"rank_{measure}"]) else int(r[f"rank_{measure}"])
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=columns)


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("overview-districts", OVERVIEW_COLUMNS, overview_districts),
        TableSpec("district-blocks", BLOCK_COLUMNS, district_blocks, needs_district=True),
        TableSpec("district-facilities", FACILITY_COLUMNS, district_facilities, needs_district=True),
        TableSpec("district-idle-spokes", IDLE_COLUMNS, district_idle, needs_district=True),
        TableSpec("district-silent-chos", SILENT_COLUMNS, district_silent, needs_district=True),
        TableSpec("compare-districts", COMPARE_COLUMNS, compare_districts),
    )
}


def build_table(name: str, ctx: DataContext, f: Filter, scope: Scope, params: Mapping[str, str],
                lang: str) -> pd.DataFrame:
    return TABLES[name].build(ctx, f, scope, params, lang)
