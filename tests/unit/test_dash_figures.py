"""Figure builders are pure: DataFrame in, figure dict out, checked against hand-made frames."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
from dash import Patch

from dashboard.figures import choropleth
from dashboard.figures.common import indian_axis, nice_ticks
from dashboard.figures.compare import measure_panels
from dashboard.figures.facility_map import facility_map, fit_view, link_lines
from dashboard.figures.trend import district_lines, sparkline_values, trend_figure

GEO = "/geo/bihar_districts.geojson"


def metrics_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "district_lgd": [203, 200, 188],
        "name_en": ["KISHANGANJ", "KAIMUR (BHABUA)", "ARARIA"],
        # A deliberately different spelling: the join must use the code, never the name.
        "name_hi": ["किशनगंज", "कैमूर", "अररिया"],
        "consultations": [5, 3, 0],
        "median_wait": [5.0, 27.5, float("nan")],
    })


def test_dash041_choropleth_geometry_is_a_url():  # type: ignore[no-untyped-def]
    figure = choropleth.base_figure(GEO, [203, 200, 188])
    assert all(trace["geojson"] == GEO for trace in figure["data"])
    assert figure["layout"]["map"]["style"] == "white-bg"
    assert "coordinates" not in json.dumps(figure)


def test_dash042_choropleth_joins_by_code_and_skips_missing():  # type: ignore[no-untyped-def]
    values = choropleth.values(metrics_frame(), "median_wait", "hi")
    assert values["locations"] == ["203", "200"] and values["z"] == [5.0, 27.5]
    assert "किशनगंज" in values["text"][0] and "5.0 min" in values["text"][0]
    assert values["colorscale"] is choropleth.SEQUENTIAL_BAD  # lower waits are better
    full = choropleth.full_figure(GEO, metrics_frame(), "consultations", "en")
    assert full["data"][1]["z"] == [5.0, 3.0, 0.0] and full["data"][0]["locations"] == ["203", "200", "188"]


def test_dash043_choropleth_patch_touches_only_values():  # type: ignore[no-untyped-def]
    patch = choropleth.apply_values(Patch(), choropleth.values(metrics_frame(), "consultations", "en"))
    operations = patch.to_plotly_json()["operations"]
    touched = {tuple(op["location"][:2]) for op in operations}
    assert touched == {("data", 1)}
    assert len(json.dumps(patch.to_plotly_json())) < 2000


def test_dash044_trend_stacks_modes_with_indian_ticks():  # type: ignore[no-untyped-def]
    frame = pd.DataFrame({"period": [date(2025, 8, 1)] * 2 + [date(2025, 8, 2)] * 2, "mode": ["ABHWC", "OPD"] * 2,
                          "consultations": [120000, 30000, 0, 5]})
    figure = trend_figure(frame, "day", "en")
    assert [trace["name"] for trace in figure["data"]] == ["eSanjeevani AB-HWC", "eSanjeevani OPD"]
    assert figure["layout"]["barmode"] == "stack"
    assert "1,50,000" in figure["layout"]["yaxis"]["ticktext"]


def test_dash045_nice_ticks():  # type: ignore[no-untyped-def]
    assert nice_ticks(9) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(0) == [0, 1]
    assert indian_axis(1234567)["ticktext"][-1] == "12,50,000"  # steps of 2,50,000


def test_dash046_sparklines_and_lines():  # type: ignore[no-untyped-def]
    frame = pd.DataFrame({"district_lgd": [203, 203, 200, 200], "bucket": [date(2025, 8, 1), date(2025, 8, 2)] * 2,
                          "consultations": [1, 2, 0, 4]})
    assert sparkline_values(frame) == {200: [0, 4], 203: [1, 2]}
    lines = district_lines(frame, {203: "KISHANGANJ", 200: "KAIMUR"}, "en")
    assert [trace["name"] for trace in lines["data"]] == ["KISHANGANJ", "KAIMUR"]


def test_dash047_facility_map():  # type: ignore[no-untyped-def]
    facilities = pd.DataFrame({
        "facility_id": ["H1", "S1", "S2"], "name": ["PHC", "HSC one", "HSC two"], "facility_type": ["PHC", "SC", "SC"],
        "role": ["hub", "spoke", "spoke"], "lat": [26.0, 26.2, 26.4], "lon": [87.0, 87.2, 87.4],
        "consultations": [3, 3, 0], "last_consultation": [date(2025, 8, 31), date(2025, 8, 31), None],
    })
    links = pd.DataFrame({"spoke_id": ["S1"], "hub_id": ["H1"], "consultations": [3], "spoke_lat": [26.2],
                          "spoke_lon": [87.2], "hub_lat": [26.0], "hub_lon": [87.0]})
    figure = facility_map(facilities, links, GEO, 203, "en", show_links=True)
    names = [trace.get("name") for trace in figure["data"]]
    assert "Spoke, no consultation in period" in names and "Hub" in names
    idle = next(t for t in figure["data"] if t.get("name") == "Spoke, no consultation in period")
    assert idle["customdata"] == ["S2"]
    assert figure["data"][1]["lat"] == [26.0, 26.2, None]
    hidden = facility_map(facilities, links, None, 203, "en", show_links=False)
    assert hidden["data"][1]["lat"] == [] and not hidden["data"][1]["visible"]
    view = fit_view([26.0, 26.4], [87.0, 87.4])
    assert view["center"] == {"lat": 26.2, "lon": 87.2} and 8 < view["zoom"] <= 12
    assert link_lines(pd.DataFrame()) == ([], [])


def test_dash048_compare_panels_share_order_and_colours():  # type: ignore[no-untyped-def]
    table = pd.DataFrame({"measure": ["consultations", "median_wait"], "label": ["Consultations", "Median wait"],
                          "of": [38, 30], "A": [5.0, 4.0], "A · Rank": [1, 2], "B": [3.0, None], "B · Rank": [2, None]})
    figure = measure_panels(table, ["A", "B"], {"consultations": "Consultations"})
    bars = figure["data"]
    assert [b["x"][0] for b in bars] == ["A", "B", "A", "B"]
    assert bars[0]["marker"] == bars[2]["marker"] and bars[3]["y"] == [None]
    assert figure["layout"]["xaxis"]["categoryarray"] == figure["layout"]["xaxis2"]["categoryarray"]
