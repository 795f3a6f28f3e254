"""Any unknown address."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.i18n import t
from dashboard.runtime import get_runtime
from dashboard.ui.frame import frame, page_layout, page_title, search_from_kwargs

dash.register_page(__name__, path="/404", title=page_title())


@page_layout
def layout(**kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    view = get_runtime().view(search)
    lang = view.lang
    body = [dbc.Alert([html.H1(t("notfound.title", lang), className="h5"), html.P(t("notfound.body", lang)),
                       dcc.Link(t("notfound.home", lang), href=dash.get_relative_path("/") + search)],
                      color="warning", className="mt-3")]
    return frame(view, "", "/404", search, body)
