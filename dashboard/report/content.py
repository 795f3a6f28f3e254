"""What the district review report shows, assembled from ``dashboard.data`` (the same functions, hence the same
numbers, as the district and scheme pages) and the district map from ``dashboard.figures``. No SQL here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard.boundaries import stored_blocks
from dashboard.data import district as district_data
from dashboard.data import overview, reference
from dashboard.data import schemes as scheme_data
from dashboard.data.context import DataContext
from dashboard.data.filters import Filter, Scope
from dashboard.data.hubs import names, pick
from dashboard.data.tables import (
    BLOCK_COLUMNS,
    IDLE_COLUMNS,
    SILENT_COLUMNS,
    ColumnSpec,
    district_blocks,
    district_idle,
    district_silent,
)
from dashboard.figures.facility_map import facility_map, fit_view
from dashboard.i18n import format_date, format_indian, format_pct, format_short, name_of, t
from dashboard.report.month import ReportMonth

DISTRICTS_GEOJSON = "bihar_districts.geojson"
MAP_HEIGHT = 460
MAP_WIDTH = 600  # of the A4 sheet's 700 px, what the map keeps beside its colour bar
SCHEME_COLUMNS: tuple[ColumnSpec, ...] = tuple(
    c for key in ("indicator", "centres", "value", "target", "achieved_pct")
    for c in scheme_data.CATALOGUE_COLUMNS if c.key == key)


class DistrictNotFound(LookupError):
    """The district does not exist or is outside the caller's scope (the two are not told apart)."""


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: str
    sub: str


@dataclass(frozen=True)
class Section:
    """A table of the report: its columns (labels and kinds) and its rows, already in the report's language."""

    key: str
    title: str
    columns: tuple[ColumnSpec, ...]
    rows: pd.DataFrame
    note: str = ""


@dataclass(frozen=True)
class DistrictReport:
    district_lgd: int
    district_name: str
    lang: str
    month: ReportMonth
    filter: Filter
    today: date
    kpis: tuple[Kpi, ...]
    kpi_row: dict[str, Any]
    facilities: int
    sections: tuple[Section, ...]
    map_figure: dict[str, Any]
    freshness: str

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value))


def kpi_items(row: dict[str, Any], days: int, blocks_total: int, blocks_breaching: int, lang: str) -> tuple[Kpi, ...]:
    """The district page's KPI cards as text, plus the two-spokes-per-block rule."""
    change = row.get("change_pct")
    if _missing(change):
        change_text = t("kpi.change_none", lang, days=format_indian(days))
    else:
        change_text = t("kpi.change", lang, sign="+" if change >= 0 else "", pct=format_pct(change), days=days)
    wait = row.get("median_wait")
    return (
        Kpi("consultations", t("kpi.consultations", lang), format_short(row["consultations"], lang), change_text),
        Kpi("spokes", t("kpi.active_spokes", lang), format_pct(row.get("active_spoke_pct")),
            t("kpi.active_spokes_sub", lang, active=format_indian(row["spokes_active"]),
              total=format_indian(row["spokes_total"]))),
        Kpi("hubs", t("kpi.hubs", lang), format_short(row["hubs_serving"], lang), t("kpi.hubs_sub", lang)),
        Kpi("chos", t("kpi.chos", lang), format_short(row["chos_active"], lang),
            t("kpi.chos_sub", lang, active=format_indian(row["chos_active"]), total=format_indian(row["chos_total"]))),
        Kpi("wait", t("kpi.wait", lang), t("kpi.na", lang) if _missing(wait) else
            f"{format_indian(wait, 1)} {t('unit.minutes', lang)}", t("kpi.wait_sub", lang)),
        Kpi("blocks", t("col.blocks_breaching", lang), format_indian(blocks_breaching),
            t("report.blocks_breaching", lang, n=format_indian(blocks_breaching), total=format_indian(blocks_total))),
    )


def freshness_text(frame: pd.DataFrame, lang: str) -> str:
    """The freshness line of every page: when each dataset was last loaded."""
    if frame.empty:
        return t("fresh.never", lang)
    items = [t("fresh.item", lang, dataset=t(f"dataset.{r.dataset}", lang), when=format_date(r.last_loaded))
             for r in frame.itertuples()]
    return f"{t('fresh.label', lang)} " + " · ".join(items)


def scheme_rows(ctx: DataContext, f: Filter, scope: Scope, lang: str) -> pd.DataFrame:
    """Count indicators (the package flags are not targets) with value, target and % achieved in the month."""
    frame = scheme_data.catalogue(ctx, f, scope)
    if frame.empty:
        return pick(frame, SCHEME_COLUMNS)
    counts = frame[(frame["unit"] != "flag") & (frame["centres"] > 0)].copy()
    counts["indicator"] = names(counts, lang)
    return pick(counts, SCHEME_COLUMNS)


def map_figure(ctx: DataContext, f: Filter, scope: Scope, lgd: int, lang: str, geo_dir: Path,
               geo_prefix: str) -> tuple[dict[str, Any], int]:
    """The district page's facility map (without the hub→spoke links) and the number of facilities on it. Boundary
    files are referenced by their ``/geo/`` URL, as on the page."""
    facilities = district_data.facilities(ctx, f, scope, lgd)
    outline = geo_prefix + DISTRICTS_GEOJSON if (geo_dir / DISTRICTS_GEOJSON).is_file() else None
    blocks_url, block_lgds = None, []
    stored = stored_blocks(geo_dir, lgd)
    if stored is not None:
        known = set(reference.blocks(ctx, scope, (int(lgd),))["block_lgd"].astype(int))
        block_lgds = [code for code in stored.codes if code in known]
        blocks_url = f"{geo_prefix}{stored.name}?v={stored.version}" if block_lgds else None
    figure = facility_map(facilities, pd.DataFrame(), outline, lgd, lang, False, height=MAP_HEIGHT,
                          blocks_url=blocks_url, block_lgds=block_lgds)
    placed = facilities.dropna(subset=["lat", "lon"]) if not facilities.empty else facilities
    if not placed.empty:  # fit every facility into the sheet's narrower map
        figure["layout"]["map"].update(fit_view([float(v) for v in placed["lat"]], [float(v) for v in placed["lon"]],
                                                width_px=MAP_WIDTH, height_px=MAP_HEIGHT))
    return figure, len(facilities)


def assemble(ctx: DataContext, scope: Scope, lgd: int, month: ReportMonth, lang: str, *, today: date,
             geo_dir: Path, geo_prefix: str = "/geo/") -> DistrictReport:
    """Everything the report shows for district ``lgd`` in ``month``, in ``lang``. ``DistrictNotFound`` when the
    district is unknown or outside ``scope``."""
    districts = reference.districts(ctx, scope)
    match = districts[districts["district_lgd"] == lgd]
    if match.empty or not scope.allows(lgd):
        raise DistrictNotFound(lgd)
    row = match.iloc[0].to_dict()
    f = month.filter(lgd, today)
    params = {"lgd": str(lgd)}
    kpi_row = overview.kpis(ctx, f, scope).iloc[0].to_dict()
    blocks = district_blocks(ctx, f, scope, params, lang)
    breaching = district_data.block_table(ctx, f, scope, lgd)
    blocks_breaching = int(breaching["breach"].sum()) if not breaching.empty else 0
    idle = district_idle(ctx, f, scope, params, lang)
    silent = district_silent(ctx, f, scope, params, lang)
    figure, n_facilities = map_figure(ctx, f, scope, lgd, lang, geo_dir, geo_prefix)
    sections = (
        Section("blocks", t("district.blocks", lang), BLOCK_COLUMNS, blocks,
                t("report.blocks_breaching", lang, n=format_indian(blocks_breaching),
                  total=format_indian(len(blocks)))),
        Section("idle", t("district.idle", lang), IDLE_COLUMNS, idle,
                t("report.idle_count", lang, n=format_indian(len(idle)),
                  total=format_indian(kpi_row["spokes_total"]))),
        Section("silent", t("district.silent", lang), SILENT_COLUMNS, silent,
                t("report.silent_count", lang, n=format_indian(len(silent)),
                  total=format_indian(kpi_row["chos_total"]))),
        Section("schemes", t("report.schemes", lang), SCHEME_COLUMNS, scheme_rows(ctx, f, scope, lang)),
    )
    return DistrictReport(
        district_lgd=lgd, district_name=name_of(row, lang), lang=lang, month=month, filter=f, today=today,
        kpis=kpi_items(kpi_row, f.days, len(blocks), blocks_breaching, lang), kpi_row=kpi_row,
        facilities=n_facilities, sections=sections, map_figure=figure,
        freshness=freshness_text(reference.freshness(ctx), lang),
    )
