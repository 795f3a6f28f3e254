"""The main callbacks through Dash's HTTP endpoint (`/_dash-update-component`), on SQLite and, when
AROGYA_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from dashboard.app_factory import create_app
from tests.auth_helpers import logged_in_client
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, build_warehouse, reader_engine

PG_URL = os.environ.get("AROGYA_TEST_DATABASE_URL", "")
BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres,
                         pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL not set")])]
AUGUST = "?period=custom&from=2025-08-02&to=2025-08-31"


@pytest.fixture(scope="module", params=BACKENDS)
def app(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path_factory.mktemp(request.param), PG_URL if request.param == "postgres" else None)
    dash_app = create_app(wh.settings, engine=reader_engine(wh), auth_engine=wh.engine)
    yield dash_app
    dash_app.server.extensions["arogya"].data.engine.dispose()
    wh.drop()


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return logged_in_client(app)  # an analyst who sees every district


def split_outputs(key: str) -> list[dict[str, str]]:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    out = []
    for part in parts:
        component, prop = part.rsplit(".", 1)
        out.append({"id": json.loads(component) if component.startswith("{") else component, "property": prop})
    return out


def call(app, client, output: str, inputs: list[Any], state: list[Any] | None = None,  # type: ignore[no-untyped-def]
         changed: list[str] | None = None, outputs: Any = None) -> dict[str, Any]:
    """POST one callback the way the browser does; ``inputs``/``state`` are values in declaration order (or a list
    of {"id", "property", "value"} dicts for a pattern-matching input). Returns the ``response`` part."""
    key = next(k for k in app.callback_map if output in k)
    spec = app.callback_map[key]

    def entries(declared: list[dict[str, str]], values: list[Any]) -> list[Any]:
        values = list(values) + [None] * (len(declared) - len(values))  # e.g. the page's "ready" store
        result = []
        for dep, value in zip(declared, values, strict=True):
            if isinstance(value, list) and value and isinstance(value[0], dict) and "property" in value[0]:
                result.append(value)
            else:
                result.append({"id": dep["id"], "property": dep["property"], "value": value})
        return result

    declared_outputs = split_outputs(key)
    first = spec["inputs"][0]
    body = {
        "output": key,
        "outputs": outputs if outputs is not None else (declared_outputs if key.startswith("..")
                                                        else declared_outputs[0]),
        "inputs": entries(spec["inputs"], inputs),
        "state": entries(spec["state"], state or []),
        "changedPropIds": changed if changed is not None else [f"{first['id']}.{first['property']}"],
    }
    reply = client.post("/_dash-update-component", json=body)
    if reply.status_code == 204:
        return {}
    assert reply.status_code == 200, reply.get_data(as_text=True)[:2000]
    return reply.get_json()["response"]


def texts(component: Any) -> str:
    """All text inside a serialised component tree."""
    if isinstance(component, str):
        return component
    if isinstance(component, (int, float)):
        return str(component)
    if isinstance(component, list):
        return " ".join(texts(c) for c in component)
    if isinstance(component, dict):
        return texts(component.get("props", {}).get("children")) if "props" in component else ""
    return ""


def test_dash101_pages_render(client):  # type: ignore[no-untyped-def]
    for path in ("/", "/compare", "/district/203", "/district", "/nowhere"):
        assert client.get(path).status_code == 200
    layout = client.get("/_dash-layout").get_json()
    assert "url" in json.dumps(layout)


def test_dash102_overview_kpis(app, client):  # type: ignore[no-untyped-def]
    response = call(app, client, "overview-kpis.children", [AUGUST])
    text = texts(response["overview-kpis"]["children"])
    assert "9" in text and "+350.0%" in text and "7 of 9 spokes" in text and "6 of 7 CHOs" in text
    assert "10.0 min" in text
    assert response["overview-period"]["children"] == "02-08-2025 to 31-08-2025 (30 days)"


def test_dash103_overview_kpis_hindi_and_empty(app, client):  # type: ignore[no-untyped-def]
    response = call(app, client, "overview-kpis.children", ["?period=custom&from=2024-01-01&to=2024-01-31&lang=hi"])
    text = texts(response["overview-kpis"]["children"])
    assert "इस अवधि में कोई परामर्श नहीं।" in text


def test_dash104_map_update_is_a_small_patch(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "overview-map.figure", [AUGUST + "&metric=median_wait"])
    patch = body["overview-map"]["figure"]
    assert patch["__dash_patch_update"] == "__dash_patch_update"
    raw = json.dumps(patch)
    assert "coordinates" not in raw and len(raw) < 20_000
    ops = {tuple(op["location"]): op["params"]["value"] for op in patch["operations"]}
    locations = ops[("data", 1, "locations")]
    z = dict(zip(locations, ops[("data", 1, "z")], strict=True))
    assert z[str(KISHANGANJ)] == pytest.approx(5.0)  # waits 1, 3, 7, 12 → histogram median 5
    assert z[str(KAIMUR)] == pytest.approx(27.5)


def test_dash105_grid_rows_and_sparklines(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "overview-grid.rowData", [AUGUST])
    rows = body["overview-grid"]["rowData"]
    first = rows[0]
    assert first["district_lgd"] == KISHANGANJ and first["rank"] == 1 and first["consultations"] == 5
    assert first["blocks_breaching"] == 2
    assert len(first["trend"]) == 30 and sum(first["trend"]) == 5


def test_dash106_district_filter_narrows_everything(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "overview-grid.rowData", [AUGUST + f"&district={KAIMUR}"])
    rows = body["overview-grid"]["rowData"]
    assert [r["district_lgd"] for r in rows] == [KAIMUR]
    kpis = texts(call(app, client, "overview-kpis.children", [AUGUST + f"&district={KAIMUR}"])
                 ["overview-kpis"]["children"])
    assert "3 of 4 spokes" in kpis


def test_dash107_map_click_opens_district(app, client):  # type: ignore[no-untyped-def]
    key = next(k for k, v in app.callback_map.items()
               if k.startswith("url.pathname") and v["inputs"][0]["id"] == "overview-map")
    body = call(app, client, key, [{"points": [{"location": "203"}]}, None], changed=["overview-map.clickData"])
    assert body["url"]["pathname"] == "/district/203"


def test_dash108_trend_by_week(app, client):  # type: ignore[no-untyped-def]
    figure = call(app, client, "overview-trend.figure", [AUGUST + "&grain=week"])["overview-trend"]["figure"]
    total = sum(sum(trace["y"]) for trace in figure["data"])
    assert total == 9
    assert figure["data"][0]["x"][0] == "2025-07-28"  # Monday of the week holding 2 August


def test_dash109_url_sync_control_to_url(app, client):  # type: ignore[no-untyped-def]
    controls = [
        {"id": {"type": "urlparam", "key": "period"}, "property": "value", "value": "last7"},
        {"id": {"type": "urlparam", "key": "district"}, "property": "value", "value": [203]},
        {"id": {"type": "urlparam", "key": "block"}, "property": "value", "value": [20301]},
    ]
    dates = [{"id": {"type": "urldate", "key": "from"}, "property": "date", "value": "2025-08-25"},
             {"id": {"type": "urldate", "key": "to"}, "property": "date", "value": "2025-08-31"}]
    outputs = [{"id": "url", "property": "search"},
               [{"id": c["id"], "property": "value"} for c in controls],
               [{"id": d["id"], "property": "date"} for d in dates]]
    changed = ['{"key":"district","type":"urlparam"}.value']
    body = call(app, client, "urlparam", ["?period=last7&district=200&block=20001", controls, dates],
                changed=changed, outputs=outputs)
    # Choosing another district clears the block below it.
    assert body["url"]["search"] == "?period=last7&district=203"


def test_dash110_url_sync_url_to_controls(app, client):  # type: ignore[no-untyped-def]
    controls = [
        {"id": {"type": "urlparam", "key": "period"}, "property": "value", "value": "last30"},
        {"id": {"type": "urlparam", "key": "mode"}, "property": "value", "value": []},
    ]
    dates = [{"id": {"type": "urldate", "key": "from"}, "property": "date", "value": None},
             {"id": {"type": "urldate", "key": "to"}, "property": "date", "value": None}]
    outputs = [{"id": "url", "property": "search"},
               [{"id": c["id"], "property": "value"} for c in controls],
               [{"id": d["id"], "property": "date"} for d in dates]]
    body = call(app, client, "urlparam", ["?period=last_month&mode=OPD", controls, dates],
                changed=["url.search"], outputs=outputs)
    values = {json.dumps(k): v for k, v in body.items()}
    assert body['{"key":"period","type":"urlparam"}']["value"] == "last_month"
    assert body['{"key":"mode","type":"urlparam"}']["value"] == ["OPD"]
    assert body['{"key":"from","type":"urldate"}']["date"] == "2025-07-01"
    assert body['{"key":"to","type":"urldate"}']["date"] == "2025-07-31"
    assert values


def test_dash111_district_page_tables(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "district-blocks.rowData", [AUGUST], state=["/district/203"])
    blocks = {r["block_lgd"]: r for r in body["district-blocks"]["rowData"]}
    assert blocks[20301]["spokes"] == 2 and blocks[20301]["consultations"] == 3 and not blocks[20301]["breach"]
    assert blocks[20302]["breach"] and blocks[20303]["breach"] and blocks[20303]["rule"] == "BREACH"
    assert [r["facility_id"] for r in body["district-idle"]["rowData"]] == ["S4"]
    assert [r["cho_id"] for r in body["district-silent"]["rowData"]] == ["C4"]
    facilities = body["district-facilities"]["rowData"]
    assert len(facilities) == 6 and sum(r["consultations"] for r in facilities if r["role"] == "Spoke") == 5


def test_dash112_district_page_from_query_string(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "district-blocks.rowData", [AUGUST + f"&district={KAIMUR}"], state=["/district"])
    assert [r["facility_id"] for r in body["district-idle"]["rowData"]] == ["S7", "S8"][::-1]
    assert [r["cho_id"] for r in body["district-silent"]["rowData"]] == ["C6"]


def test_dash113_district_map(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "district-map.figure", [AUGUST + "&links=1"], state=["/district/203"])
    figure = body["district-map"]["figure"]
    assert figure["data"][0]["geojson"].endswith("/geo/bihar_districts.geojson")
    assert figure["data"][0]["locations"] == ["203"]
    links = figure["data"][1]
    assert links["visible"] and links["lat"].count(None) == 4  # S1–H1, S2–H1, S3–H2 and Patna's S9–H2
    ids = [fid for trace in figure["data"][2:] for fid in trace.get("customdata", [])]
    assert sorted(set(ids)) == ["H1", "H2", "S1", "S2", "S3", "S4"]
    assert "6" in texts(body["district-summary"]["children"])


def test_dash114_facility_detail(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "district-detail.children", [{"points": [{"customdata": "H1"}]}],
                state=[AUGUST, "/district/203"], changed=["district-map.clickData"])
    text = texts(body["district-detail"]["children"])
    assert "PHC Bahadurganj" in text and "3 consultations" in text
    assert "HSC Dighalbank (S1): 2" in text and "HSC Lohagara (S2): 1" in text
    detail = json.dumps(body["district-detail"]["children"])
    assert '"district-detail-daily-table-view"' in detail  # the daily chart's text alternative


def test_dash115_unknown_district(client):  # type: ignore[no-untyped-def]
    assert client.get("/district/99999").status_code == 200
