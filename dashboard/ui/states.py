"""Loading, empty and error states, the same on every page."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.i18n import t

log = logging.getLogger("dashboard")


def loading(children: Any, **kwargs: Any) -> dcc.Loading:
    return dcc.Loading(children, type="circle", delay_show=200, **kwargs)


def empty(lang: str, key: str = "state.empty") -> html.Div:
    return html.Div(t(key, lang), className="empty-state text-muted")


def error(lang: str, exc: BaseException | None = None, where: str = "") -> dbc.Alert:
    """A readable error; the traceback goes to the log under a short reference the user can quote."""
    ref = uuid.uuid4().hex[:8]
    log.error("error in %s (ref %s)", where or "callback", ref, exc_info=exc)
    return dbc.Alert(t("state.error", lang, ref=ref), color="danger", className="error-state mb-0")


def message_figure(message: str) -> dict[str, Any]:
    """An empty chart that says why it is empty."""
    return {
        "data": [],
        "layout": {
            "xaxis": {"visible": False}, "yaxis": {"visible": False},
            "annotations": [{"text": message, "showarrow": False, "xref": "paper", "yref": "paper",
                             "x": 0.5, "y": 0.5, "font": {"size": 14, "color": "#6c757d"}}],
            "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)", "height": 300,
        },
    }
