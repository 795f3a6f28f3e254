"""The report as one HTML page (Jinja2, autoescaped): the print view a browser opens, and what Chromium prints.

The page loads only its own stylesheet, script and plotly.js (``static_url``), the fonts under ``/assets/fonts/`` and
the boundary files under ``/geo/``; the figures travel inside the page as JSON. It satisfies the app's Content
Security Policy (no inline script)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from plotly.io.json import to_json_plotly

from dashboard.data.tables import ColumnSpec
from dashboard.i18n import format_date, format_indian, format_pct, t
from dashboard.report.content import DistrictReport, Section

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
NUMERIC = frozenset({"int", "float", "pct"})


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def cell_text(value: Any, kind: str) -> str:
    """A table cell as the pages show it: Indian grouping, dd-mm-yyyy, "–" for a missing value."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "int":
        return format_indian(int(value))
    if kind == "float":
        number = float(value)
        return format_indian(number, 0 if number.is_integer() else 1)
    if kind == "pct":
        return format_pct(float(value))
    if kind == "date":
        return format_date(value if isinstance(value, date | str) else pd.Timestamp(value).date())
    return str(value)


@dataclass(frozen=True)
class _Column:
    label: str
    css: str


@dataclass(frozen=True)
class _Cell:
    text: str
    css: str


@dataclass(frozen=True)
class _Row:
    cells: list[_Cell]
    css: str


@dataclass(frozen=True)
class _Table:
    key: str
    title: str
    note: str
    columns: list[_Column]
    rows: list[_Row]
    empty: str


def _css(spec: ColumnSpec) -> str:
    return "num" if spec.kind in NUMERIC else ("code" if spec.kind == "code" else "")


def table_of(section: Section, lang: str) -> _Table:
    breach = t("col.rule_breach", lang)
    rows = []
    for record in section.rows.to_dict("records"):
        cells = [_Cell(cell_text(record.get(c.key), c.kind), _css(c)) for c in section.columns]
        rows.append(_Row(cells, "breach" if record.get("rule") == breach else ""))
    empty = t("report.schemes_none" if section.key == "schemes" else "state.empty_rows", lang)
    return _Table(section.key, section.title, section.note, [_Column(t(c.label, lang), _css(c))
                                                              for c in section.columns], rows, empty)


def figures_json(figures: dict[str, Any]) -> Markup:
    """Figures as JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` can end it."""
    text = to_json_plotly(figures)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def heading(report: DistrictReport) -> str:
    return t("report.heading", report.lang, district=report.district_name,
             month=report.month.label(report.lang, report.today))


def render_html(report: DistrictReport, static_url: str, generated_on: date) -> str:
    """The print page of ``report``; ``static_url`` ends with "/" (the report's stylesheet, script, plotly.js)."""
    lang = report.lang
    f = report.filter
    return _environment().get_template("district.html").render(
        lang=lang,
        title=t("report.title", lang),
        heading=heading(report),
        period=t("report.period", lang, start=format_date(f.start), end=format_date(f.end), days=f.days),
        generated=t("report.generated", lang, date=format_date(generated_on)),
        freshness=report.freshness,
        print_label=t("report.print", lang),
        kpis_title=t("report.kpis", lang),
        map_title=t("report.map", lang),
        map_summary=t("report.map_note", lang, n=format_indian(report.facilities),
                      spokes=format_indian(report.kpi_row["spokes_total"])),
        map_failed=t("report.map_failed", lang),
        report=report,
        sections=[table_of(s, lang) for s in report.sections],
        static_url=static_url,
        figures_json=figures_json({"map": report.map_figure}),
    )
