"""``dashboard.ui.memo.to_json_bytes``: each output of a callback written as plotly writes it, once parsed
(components, grid rows, figures, missing values, dates, characters plotly escapes)."""

from __future__ import annotations

from datetime import date

import dash_bootstrap_components as dbc
import orjson
import pytest
from dash import Patch, html, no_update
from plotly.io.json import to_json_plotly

from dashboard.ui.memo import to_json_bytes

ROWS = [{"cho_id": "C1", "cho": "Anil </script>", "last_active": None, "days_silent": 7, "per_cho": 1.25},
        {"cho_id": "C2", "cho": "सीएचओ", "last_active": "2025-08-31", "days_silent": None, "per_cho": float("nan")}]
FIGURE = {"data": [{"type": "bar", "x": ["0–9", "10–19"], "y": [3, 4]}], "layout": {"height": 300}}


@pytest.mark.parametrize("output", [
    (dbc.Row([dbc.Col(html.Div("KPI"))]), "period", ROWS, html.Div([None, html.Small("capped")]), ROWS[:1], FIGURE,
     FIGURE, []),
    (no_update, [], None),
    (date(2025, 8, 31), {"a": html.P("b")}, ()),
    (),
    ROWS,
    html.Div(ROWS[0]["cho"]),
])
def test_dash346_each_output_is_written_as_plotly_writes_it(output) -> None:  # type: ignore[no-untyped-def]
    for item in output if isinstance(output, tuple) else (output,):
        assert orjson.loads(to_json_bytes(item)) == orjson.loads(to_json_plotly(item)), item


def test_dash347_a_patch_among_outputs() -> None:
    patch = Patch()
    patch["layout"]["height"] = 200
    for item in (patch, ROWS):
        assert orjson.loads(to_json_bytes(item)) == orjson.loads(to_json_plotly(item))
