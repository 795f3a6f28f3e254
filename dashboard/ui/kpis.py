"""The KPI card row shared by the overview and district pages."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc

from dashboard.i18n import format_indian, format_pct, format_short, t
from dashboard.ui.widgets import kpi_card


def kpi_cards(row: dict[str, Any], days: int, lang: str) -> dbc.Row:
    change = row.get("change_pct")
    if change is None or change != change:
        change_text = t("kpi.change_none", lang, days=format_indian(days))
    else:
        change_text = t("kpi.change", lang, sign="+" if change >= 0 else "", pct=format_pct(change), days=days)
    wait = row.get("median_wait")
    cards = [
        kpi_card(t("kpi.consultations", lang), format_short(row["consultations"], lang), change_text,
                 "overview-kpi-consultations"),
        kpi_card(t("kpi.active_spokes", lang), format_pct(row.get("active_spoke_pct")),
                 t("kpi.active_spokes_sub", lang, active=format_indian(row["spokes_active"]),
                   total=format_indian(row["spokes_total"])), "overview-kpi-spokes"),
        kpi_card(t("kpi.hubs", lang), format_short(row["hubs_serving"], lang), t("kpi.hubs_sub", lang),
                 "overview-kpi-hubs"),
        kpi_card(t("kpi.chos", lang), format_short(row["chos_active"], lang),
                 t("kpi.chos_sub", lang, active=format_indian(row["chos_active"]),
                   total=format_indian(row["chos_total"])), "overview-kpi-chos"),
        kpi_card(t("kpi.wait", lang), t("kpi.na", lang) if wait is None or wait != wait else
                 f"{format_indian(wait, 1)} {t('unit.minutes', lang)}", t("kpi.wait_sub", lang), "overview-kpi-wait"),
    ]
    return dbc.Row([dbc.Col(card, xs=6, md=4, xl=True) for card in cards], className="g-2")
