"""Memoised callback outputs (``dashboard.ui.memo``) through Dash's HTTP endpoint: a warm call reads no rollup and
sends the same bytes, a load (data version) or another scope computes afresh, an error is not kept."""

from __future__ import annotations

import pytest
from cachelib import SimpleCache
from sqlalchemy import event

from dashboard.app_factory import create_app
from dashboard.data import hubs
from dashboard.data.context import DataContext
from tests.auth_helpers import logged_in_client
from tests.fixtures.warehouse_factory import KISHANGANJ, build_warehouse, bump_version, reader_engine
from tests.integration.test_dash_callbacks import AUGUST, call


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    warehouse = build_warehouse(tmp_path_factory.mktemp("memo"))
    yield warehouse
    warehouse.drop()


@pytest.fixture()
def app(wh):  # type: ignore[no-untyped-def]
    dash_app = create_app(wh.settings, engine=reader_engine(wh), auth_engine=wh.engine)
    dash_app.server.extensions["arogya"].data.version_ttl_s = 0  # every call reads the data version
    yield dash_app
    dash_app.server.extensions["arogya"].data.engine.dispose()


def _rollup_reads(engine) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if any(name in statement for name in ("rollup_", "fact_", "cumulative_")):
            seen.append(statement)

    return seen


def test_dash340_warm_call_reads_no_rollup_and_sends_the_same(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    reads = _rollup_reads(app.server.extensions["arogya"].data.engine)
    for output in ("hubs-kpis.children", "overview-grid.rowData", "schemes-map.figure", "chos-roster.rowData"):
        first = call(app, client, output, [AUGUST])
        cold_reads = len(reads)
        assert cold_reads > 0, output
        second = call(app, client, output, [AUGUST])
        assert second == first, output
        assert len(reads) == cold_reads, f"{output} read the warehouse on a warm call"
        reads.clear()


def test_dash341_a_load_or_another_view_computes_afresh(app, wh):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    reads = _rollup_reads(app.server.extensions["arogya"].data.engine)
    english = call(app, client, "hubs-specialty.figure", [AUGUST])
    hindi = call(app, client, "hubs-specialty.figure", [AUGUST + "&lang=hi"])  # another language: another entry
    assert hindi != english
    reads.clear()
    bump_version(wh.engine)  # what a finished load does
    call(app, client, "hubs-specialty.figure", [AUGUST])
    assert reads


def test_dash342_scopes_do_not_share_outputs(app):  # type: ignore[no-untyped-def]
    everyone = call(app, logged_in_client(app), "overview-grid.rowData", [AUGUST])
    one = call(app, logged_in_client(app, role="district", districts=[KISHANGANJ]), "overview-grid.rowData",
               [AUGUST])
    assert {r["district_lgd"] for r in one["overview-grid"]["rowData"]} == {KISHANGANJ}
    assert len(everyone["overview-grid"]["rowData"]) > len(one["overview-grid"]["rowData"])


def test_dash343_an_error_output_is_not_kept(app, monkeypatch):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    real = hubs.specialty_mix

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(hubs, "specialty_mix", broken)
    failed = call(app, client, "hubs-specialty.figure", [AUGUST])
    assert failed["hubs-specialty"]["figure"]["data"] == []
    monkeypatch.setattr(hubs, "specialty_mix", real)
    fixed = call(app, client, "hubs-specialty.figure", [AUGUST])
    assert fixed["hubs-specialty"]["figure"]["data"], "the error figure was kept"


def test_dash344_memoise_keeps_only_what_compute_wants_kept(wh):  # type: ignore[no-untyped-def]
    ctx = DataContext(reader_engine(wh), SimpleCache())
    runs: list[str] = []

    def compute(value: str, keep: bool):  # type: ignore[no-untyped-def]
        def run() -> tuple[str, bool]:
            runs.append(value)
            return value, keep
        return run

    assert ctx.memoise("t", ("a",), compute("error", False)) == "error"
    assert ctx.memoise("t", ("a",), compute("fine", True)) == "fine"
    assert ctx.memoise("t", ("a",), compute("other", True)) == "fine"
    assert runs == ["error", "fine"]
    ctx.engine.dispose()


def test_dash325_outputs_are_written_as_plotly_writes_them():  # type: ignore[no-untyped-def]
    """The memo's JSON writer gives what plotly's does, once parsed, for what callbacks return: components with
    children, figures, a Patch, grid rows with None and NaN, numpy and pandas values, dates."""
    from datetime import date, datetime

    import dash_bootstrap_components as dbc
    import numpy as np
    import orjson
    import pandas as pd
    import plotly.graph_objects as go
    from dash import Patch, html
    from plotly.io.json import to_json_plotly

    from dashboard.ui.memo import to_json_bytes

    patch = Patch()
    patch["data"][0]["z"] = [1.5, None]
    outputs = [
        (html.Div([dbc.Badge("12", color="danger", id="b"), html.Small("x < y & z", className="a")]),
         "period text", None),
        go.Figure(go.Bar(x=np.array(["a", "b"], dtype=object), y=np.array([1.0, np.nan]))).to_dict(),
        go.Figure(go.Scatter(x=pd.Series([date(2025, 8, 1), date(2025, 8, 2)]), y=np.arange(2))),
        patch,
        [{"id": "S1", "n": np.int64(3), "p": np.float64(1.25), "missing": None, "nan": float("nan"),
          "na": pd.NA, "nat": pd.NaT, "day": date(2025, 8, 2), "at": datetime(2025, 8, 2, 9, 30),
          "ts": pd.Timestamp("2025-08-02"), "flag": np.bool_(True), "text": "</script>"}],
        {"z": np.array([[1, 2], [3, 4]]), "s": pd.Series([1, 2]), 1: "non-text key"},
    ]
    for value in outputs:
        assert orjson.loads(to_json_bytes(value)) == orjson.loads(to_json_plotly(value)), value


def test_dash327_memoised_outputs_keep_no_update_and_single_values(app):  # type: ignore[no-untyped-def]
    """A memoised callback's ``no_update`` output stays unsent, cold and warm; a single output that is a list (grid
    rows) is one value, not several outputs."""
    from dash import Input, Output, no_update

    from dashboard.ui.memo import memoised

    computed: list[str] = []

    @app.callback(Output("memo-test-a", "children"), Output("memo-test-b", "children"), Input("memo-test-in", "data"))
    @memoised
    def pair(value):  # type: ignore[no-untyped-def]
        computed.append("pair")
        return no_update, [{"x": value, "y": None}]

    @app.callback(Output("memo-test-rows", "rowData"), Input("memo-test-in2", "data"))
    @memoised
    def rows(value):  # type: ignore[no-untyped-def]
        computed.append("rows")
        return [{"x": value}, {"x": value + 1}]

    client = logged_in_client(app)
    for _ in range(2):
        assert call(app, client, "memo-test-a.children", [7]) == {"memo-test-b": {"children": [{"x": 7, "y": None}]}}
        assert call(app, client, "memo-test-rows.rowData", [7]) == {"memo-test-rows": {"rowData": [{"x": 7},
                                                                                                 {"x": 8}]}}
    assert computed == ["pair", "rows"]


def test_dash328_kept_layout_parts_render_as_components_in_the_page(app):  # type: ignore[no-untyped-def]
    """The filter bar and the freshness line are kept in the result cache while the page renders inside Dash's
    two-output router callback: the page holds each as one component, cold and warm (a callback memo there wrapped
    the filter bar in a list, and the browser's renderer then failed on every page: React error #31)."""
    from tests.integration.test_a11y_language import find, page_layout

    client = logged_in_client(app)
    for _ in range(2):
        page = page_layout(app, client, "/", "?period=custom&from=2025-08-01&to=2025-08-31")
        _skip, _navbar, bar, main = page["props"]["children"]
        assert isinstance(bar, dict) and bar["props"]["id"] == "filter-bar", type(bar)
        assert find(main, "freshness")["type"] == "Div"


def test_dash529_a_view_switch_reads_the_cho_lists_from_the_cache(app):  # type: ignore[no-untyped-def]
    """The CHO lists do not depend on the comparison's grouping or the distribution's measure: switching either
    recomputes the summary but reads the lists' rows from the data cache."""
    client = logged_in_client(app)
    reads = _rollup_reads(app.server.extensions["arogya"].data.engine)
    first = call(app, client, "chos-roster.rowData", [AUGUST + "&by=district"])
    assert reads
    reads.clear()
    switched = call(app, client, "chos-roster.rowData", [AUGUST + "&by=block&dist=active_days"])
    assert switched == first and reads == []
    call(app, client, "chos-kpis.children", [AUGUST + "&by=block&dist=active_days"])
    assert reads  # the summary is computed for the new grouping
