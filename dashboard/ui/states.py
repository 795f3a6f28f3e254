"""Loading, empty and error states, the same on every page."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.i18n import format_indian, t

log = logging.getLogger("dashboard")


def loading(children: Any, **kwargs: Any) -> dcc.Loading:
    return dcc.Loading(children, type="circle", delay_show=200, **kwargs)


def empty(lang: str, key: str = "state.empty") -> html.Div:
    return html.Div(t(key, lang), className="empty-state text-muted")


def error_text(lang: str, exc: BaseException | None = None, where: str = "") -> str:
    """A readable error message; the traceback goes to the log under the short reference the message quotes."""
    ref = uuid.uuid4().hex[:8]
    log.error("error in %s (ref %s)", where or "callback", ref, exc_info=exc)
    return t("state.error", lang, ref=ref)


def error_alert(message: str) -> dbc.Alert:
    return dbc.Alert(message, color="danger", className="error-state mb-0")


def error(lang: str, exc: BaseException | None = None, where: str = "") -> dbc.Alert:
    """``error_text`` as an alert. A callback that also has a chart to blank shows the same message (one reference)
    on it: ``message_figure(text)`` beside ``error_alert(text)``."""
    return error_alert(error_text(lang, exc, where))


def capped_note(shown: int, total: int, lang: str) -> html.Small:
    """Under a grid that shows only its first ``shown`` of ``total`` rows (the CSV export has every row)."""
    return html.Small(t("grid.capped", lang, shown=format_indian(shown), total=format_indian(total)),
                      className="text-muted d-block mt-1 grid-capped")


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
