"""The hubs, CHO and scheme pages through Dash's HTTP endpoint (`/_dash-update-component`) and their CSV exports, on
SQLite and, when AROGYA_TEST_DATABASE_URL is set, on PostgreSQL. Expected numbers: tests/unit/test_dash_hubs.py,
test_dash_chos.py and test_dash_schemes.py work them out from tests/fixtures/pages4.py."""

from __future__ import annotations

import json
import sys

import pytest

from dashboard.api.csvstream import read_back
from dashboard.app_factory import create_app
from tests.auth_helpers import logged_in_client
from tests.fixtures.pages4 import build_pages4_warehouse
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, reader_engine
from tests.integration.test_dash_callbacks import AUGUST, BACKENDS, PG_URL, call, texts

EMPTY = "?period=custom&from=2024-01-01&to=2024-01-31"


@pytest.fixture(scope="module", params=BACKENDS)
def app(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_pages4_warehouse(tmp_path_factory.mktemp(f"pages4-{request.param}"),
                                PG_URL if request.param == "postgres" else None)
    dash_app = create_app(wh.settings, engine=reader_engine(wh), auth_engine=wh.engine)
    yield dash_app
    dash_app.server.extensions["arogya"].data.engine.dispose()
    wh.drop()


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return logged_in_client(app)  # an analyst who sees every district


def csv_rows(client, url: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return read_back(response.get_data().decode("utf-8"))


def test_dash581_pages_render(client):  # type: ignore[no-untyped-def]
    for path in ("/hubs", "/chos", "/schemes", "/hubs?lang=hi"):
        assert client.get(path).status_code == 200
    layout = json.dumps(client.get("/_dash-layout").get_json())
    assert "url" in layout


def test_dash582_hub_load_and_kpis(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "hubs-kpis.children", [AUGUST])
    rows = body["hubs-grid"]["rowData"]
    assert [r["facility_id"] for r in rows] == ["H3", "H2", "H1", "H4"]
    h1 = next(r for r in rows if r["facility_id"] == "H1")
    assert h1["wait_p50"] == pytest.approx(3.5) and h1["per_serving_hour"] == pytest.approx(1 / 14)
    # 1 abandoned of H3's 4 is a small cell (k=5): the rate is withheld on screen and in exports.
    assert rows[0]["load_rank"] == 1 and rows[0]["abandoned_pct"] is None
    assert rows[3]["load_rank"] is None  # H4 did not serve: no load to rank
    kpis = texts(body["hubs-kpis"]["children"])
    # 3 of 4 hubs served; 6 consultations inside the hours over 36 serving hours; pooled waits p50 12.5, p90 46.5.
    assert "of 4 hubs answered" in kpis and "0.2" in kpis and "12.5 min" in kpis and "p90 46.5 min" in kpis
    assert "109" in kpis
    assert "4 consultations outside hours (40.0%)" in kpis
    assert body["hubs-period"]["children"] == "02-08-2025 to 31-08-2025 (30 days)"
    capacity = body["hubs-capacity"]["figure"]["data"][0]
    assert [c[0] for c in capacity["customdata"]] == ["H3", "H2", "H1"] and capacity["x"] == [3, 2, 2]
    channel = body["hubs-channel"]["figure"]["data"][0]
    assert channel["values"] == [8, 1, 1]
    service = {r["facility_id"]: r for r in body["hubs-service"]["rowData"]}
    assert service["H2"]["missed_days"] == 23 and service["H1"]["n_outside_hours"] == 2


def test_dash583_spokes_idle_and_cross_district(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "hubs-spokes.rowData", [AUGUST])
    summary = texts(body["hubs-spokes-summary"]["children"])
    assert "9 spokes, 7 active" in summary and "4 idle 7 days" in summary and "2 idle 30 days" in summary
    assert "1 assigned to a hub in another district" in summary
    assert [r["facility_id"] for r in body["hubs-idle"]["rowData"]] == ["S8", "S4", "S9", "S7"]
    assert [r["facility_id"] for r in body["hubs-cross"]["rowData"]] == ["S8"]
    s1 = next(r for r in body["hubs-spokes"]["rowData"] if r["facility_id"] == "S1")
    assert (s1["consultations"], s1["active_days"], s1["last_consultation"], s1["days_since"]) == (
        2, 1, "2025-08-30", 1)
    thirty = call(app, client, "hubs-spokes.rowData", [AUGUST + "&idle=30"])
    assert [r["facility_id"] for r in thirty["hubs-idle"]["rowData"]] == ["S8", "S4"]
    assert thirty["hubs-idle"]["rowData"][1]["cho"] == "Sunita Kumari"


def test_dash584_network_needs_a_district(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "hubs-network-map.figure", [AUGUST])
    assert "Choose a district" in texts(body["hubs-network-status"]["children"])
    assert body["hubs-network"]["rowData"] == []
    body = call(app, client, "hubs-network-map.figure", [AUGUST + f"&district={KISHANGANJ}"])
    figure = body["hubs-network-map"]["figure"]
    assert figure["data"][0]["locations"] == [str(KISHANGANJ)]
    assigned, other = figure["data"][1], figure["data"][2]
    assert assigned["lat"].count(None) == 3 and other["lat"].count(None) == 1  # S9–H2 is not S9's assigned hub
    rows = body["hubs-network"]["rowData"]
    assert {(r["hub_id"], r["spoke_id"], r["consultations"], r["assigned"]) for r in rows} == {
        ("H1", "S1", 2, "yes"), ("H1", "S2", 1, "yes"), ("H2", "S3", 2, "yes"), ("H2", "S9", 1, "no")}
    assert "2 hubs, 4 hub–spoke pairs" in texts(body["hubs-network-status"]["children"])


def test_dash585_mix_and_heatmap(app, client):  # type: ignore[no-untyped-def]
    spec = call(app, client, "hubs-specialty.figure", [AUGUST])["hubs-specialty"]["figure"]["data"][0]
    assert spec["y"][-1] == "General Medicine" and spec["x"][-1] == 6 and sum(spec["x"]) == 10
    heat = call(app, client, "hubs-heatmap.figure", [AUGUST])["hubs-heatmap"]["figure"]
    z = heat["data"][0]["z"]
    assert sum(map(sum, z)) == 10 and z[6][10] == 2 and heat["data"][0]["y"][0] == "Monday"
    assert heat["layout"]["shapes"][0]["x0"] == pytest.approx(8.5)  # 09:00–16:00, the most common window
    empty = call(app, client, "hubs-heatmap.figure", [EMPTY])["hubs-heatmap"]["figure"]
    assert empty["data"] == [] and "No consultations" in empty["layout"]["annotations"][0]["text"]


def test_dash586_cho_page(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "chos-kpis.children", [AUGUST])
    lists = call(app, client, "chos-roster.rowData", [AUGUST])
    assert lists["chos-roster-error"]["children"] is None and lists["chos-silent-error"]["children"] is None
    roster = {r["cho_id"]: r for r in lists["chos-roster"]["rowData"]}
    assert sorted(roster) == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    assert roster["C3"]["laptop"] == "not yet" and roster["C1"]["laptop"] == "2024-05-01"
    assert (roster["C1"]["active_days"], roster["C1"]["consultations"], roster["C1"]["training_modules"]) == (1, 2, 18)
    assert [r["cho_id"] for r in lists["chos-silent"]["rowData"]] == ["C4", "C7", "C6"]
    assert body["chos-roster-status"]["children"] is None and body["chos-silent-status"]["children"] is None
    kpis = texts(body["chos-kpis"]["children"])
    assert "6 of 7 CHOs had a consultation" in kpis and "4 of 7 CHOs" in kpis and "57.1%" in kpis
    compare = {r["key"]: r for r in body["chos-compare"]["rowData"]}
    assert compare[KISHANGANJ]["per_cho"] == 1.25 and compare[KISHANGANJ]["chos_silent"] == 1
    dist = body["chos-dist"]["figure"]["data"][0]
    assert dist["x"] == ["0", "1", "2"] and dist["y"] == [1, 4, 2]
    blocks = call(app, client, "chos-kpis.children", [AUGUST + f"&district={KISHANGANJ}"])
    assert sorted(r["key"] for r in blocks["chos-compare"]["rowData"]) == [20301, 20302, 20303]


def test_dash350_cho_grids_capped(app, client, monkeypatch):  # type: ignore[no-untyped-def]
    """Past MAX_GRID_ROWS the roster and the silent grid show their first rows, each with a note of the total."""
    page = next(m for name, m in sys.modules.items() if name.endswith("chos") and hasattr(m, "update_chos"))
    monkeypatch.setattr(page, "MAX_GRID_ROWS", 2)  # the module as Dash loaded it (the pages folder's name)
    body = call(app, client, "chos-kpis.children", [AUGUST + "&by=district"])  # a search no other test memoised
    lists = call(app, client, "chos-roster.rowData", [AUGUST + "&by=district"])
    assert len(lists["chos-roster"]["rowData"]) == 2
    assert "first 2 of 7 rows" in texts(body["chos-roster-status"]["children"])
    assert [r["cho_id"] for r in lists["chos-silent"]["rowData"]] == ["C4", "C7"]
    assert "first 2 of 3 rows" in texts(body["chos-silent-status"]["children"])


def test_dash587_cho_coverage_map_is_a_patch(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "chos-map.figure", [AUGUST])
    patch = body["chos-map"]["figure"]
    assert patch["__dash_patch_update"] == "__dash_patch_update" and "coordinates" not in json.dumps(patch)
    ops = {tuple(op["location"]): op["params"]["value"] for op in patch["operations"]}
    z = dict(zip(ops[("data", 1, "locations")], ops[("data", 1, "z")], strict=True))
    assert z == {str(KAIMUR): 50.0, str(KISHANGANJ): 50.0, "212": 100.0}
    training = call(app, client, "chos-map.figure", [AUGUST + "&cov=training_pct"])["chos-map"]["figure"]
    ops = {tuple(op["location"]): op["params"]["value"] for op in training["operations"]}
    z = dict(zip(ops[("data", 1, "locations")], ops[("data", 1, "z")], strict=True))
    assert z[str(KISHANGANJ)] == 75.0 and z[str(KAIMUR)] == 25.0
    rows = {r["district_lgd"]: r for r in body["chos-coverage"]["rowData"]}
    assert rows[KISHANGANJ]["laptops"] == 2 and rows[KISHANGANJ]["fully_trained_pct"] == 50.0


def test_dash588_schemes_page(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "schemes-kpis.children", [AUGUST])
    catalogue = {r["indicator_code"]: r for r in body["schemes-catalogue"]["rowData"]}
    assert catalogue["ABHA_CREATED"]["achieved_pct"] == pytest.approx(236 / 3) and len(catalogue) == 21
    kpis = texts(body["schemes-kpis"]["children"])
    assert "78.7%" in kpis and "236 of a target of 300" in kpis
    assert body["schemes-period"]["children"] == "Months 08-2025 to 08-2025"
    ach = call(app, client, "schemes-achievement.rowData", [AUGUST + "&by=block"])
    assert [r["key"] for r in ach["schemes-achievement"]["rowData"]] == ["21201", "20302", "20001", "20301"]
    lag = call(app, client, "schemes-laggards.rowData", [AUGUST + "&by=block"])
    assert [r["key"] for r in lag["schemes-laggards"]["rowData"]] == ["S2", "S1"]
    assert "2 of 5 centres are below 50%" in texts(lag["schemes-laggards-summary"]["children"])
    assert "by block" in texts(ach["schemes-achievement-title"]["children"])
    hidden = {c["field"]: c.get("hide") for c in ach["schemes-achievement"]["columnDefs"]}
    assert hidden["block"] and not hidden["district"]
    patch = call(app, client, "schemes-map.figure", [AUGUST])["schemes-map"]["figure"]
    ops = {tuple(op["location"]): op["params"]["value"] for op in patch["operations"]}
    z = dict(zip(ops[("data", 1, "locations")], ops[("data", 1, "z")], strict=True))
    assert z["212"] == 150.0 and z[str(KAIMUR)] == 75.0
    trend = call(app, client, "schemes-trend.figure", [AUGUST])["schemes-trend"]["figure"]
    assert trend["data"][0]["y"][-3:] == [20.0, 90.0, 236.0]
    packages = call(app, client, "schemes-packages.rowData", [AUGUST])
    assert packages["schemes-packages-error"]["children"] is None
    chart = call(app, client, "schemes-packages-figure.figure", [AUGUST])
    assert chart["schemes-packages-figure"]["figure"]["data"][0]["x"][-1] == 100.0  # package 1, at the top
    assert chart["schemes-packages-status"]["children"] is None
    assert sorted((r["facility_id"], r["offered"]) for r in packages["schemes-packages"]["rowData"]) == [
        ("S1", 6), ("S3", 1), ("S5", 11)]
    htn = call(app, client, "schemes-kpis.children", [AUGUST + "&ind=NCD_HTN"])
    assert "66.7%" in texts(htn["schemes-kpis"]["children"])


def test_dash589_exports_match_the_grids(app, client):  # type: ignore[no-untyped-def]
    hubs_body = call(app, client, "hubs-kpis.children", [AUGUST])
    rows = csv_rows(client, "/api/export/hubs-load.csv" + AUGUST)
    assert rows[0][:3] == ["Load rank", "Hub ID", "Hub"]
    assert [r[1] for r in rows[1:]] == [r["facility_id"] for r in hubs_body["hubs-grid"]["rowData"]]
    spokes = call(app, client, "hubs-spokes.rowData", [AUGUST + "&idle=30"])
    idle = csv_rows(client, "/api/export/hubs-idle-spokes.csv" + AUGUST + "&idle=30")
    assert [r[0] for r in idle[1:]] == [r["facility_id"] for r in spokes["hubs-idle"]["rowData"]]
    network = csv_rows(client, "/api/export/hubs-network.csv" + AUGUST + f"&district={KISHANGANJ}")
    assert len(network) == 5
    chos_body = call(app, client, "chos-roster.rowData", [AUGUST])
    roster = csv_rows(client, "/api/export/chos-roster.csv" + AUGUST)
    assert [r[0] for r in roster[1:]] == [r["cho_id"] for r in chos_body["chos-roster"]["rowData"]]
    c3 = next(r for r in roster if r[0] == "C3")
    assert c3[11] == "not yet" and c3[12] == "6"
    laggards = csv_rows(client, "/api/export/schemes-laggards.csv" + AUGUST)
    assert [r[0] for r in laggards[1:]] == ["S2", "S1"]
    packages = csv_rows(client, "/api/export/schemes-packages.csv" + AUGUST)
    assert packages[0][5:8] == ["P1", "P2", "P3"] and len(packages) == 4
    for name in ("hubs-service", "hubs-spokes", "hubs-cross-district", "hubs-specialties", "hubs-channels",
                 "hubs-hour-weekday", "chos-silent", "chos-compare", "chos-coverage", "chos-distribution",
                 "schemes-catalogue", "schemes-achievement", "schemes-districts", "schemes-trend",
                 "schemes-package-coverage"):
        assert len(csv_rows(client, f"/api/export/{name}.csv{AUGUST}")) > 1, name
    dictionary = csv_rows(client, "/api/export/dictionary/hubs-load.csv")
    assert any(r[0] == "per_serving_hour" and "serving hour" in r[2] for r in dictionary)
    links = call(app, client, "hubs-load-export.href", [AUGUST])
    assert links["hubs-load-export"]["href"] == "/api/export/hubs-load.csv" + AUGUST


def test_dash590_district_user_sees_only_their_district(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app, role="district", districts=[KAIMUR])
    hubs_body = call(app, client, "hubs-kpis.children", [AUGUST])
    assert [r["facility_id"] for r in hubs_body["hubs-grid"]["rowData"]] == ["H3"]
    spokes = call(app, client, "hubs-spokes.rowData", [AUGUST])
    assert sorted(r["facility_id"] for r in spokes["hubs-spokes"]["rowData"]) == ["S5", "S6", "S7", "S8"]
    network = call(app, client, "hubs-network-map.figure", [AUGUST + f"&district={KISHANGANJ}"])
    assert network["hubs-network"]["rowData"] == []
    chos_body = call(app, client, "chos-roster.rowData", [AUGUST])
    assert sorted(r["cho_id"] for r in chos_body["chos-roster"]["rowData"]) == ["C5", "C6"]
    assert [r["cho_id"] for r in chos_body["chos-silent"]["rowData"]] == ["C6"]
    summary = call(app, client, "chos-kpis.children", [AUGUST])  # the sums too: Kaimur's CHOs only
    assert "2 of 2 CHOs had a consultation" in texts(summary["chos-kpis"]["children"])
    assert [r["key"] for r in summary["chos-compare"]["rowData"]] == [KAIMUR]
    ach = call(app, client, "schemes-achievement.rowData", [AUGUST + "&by=facility"])
    assert [r["key"] for r in ach["schemes-achievement"]["rowData"]] == ["S5"]
    analyst = logged_in_client(app, role="analyst", districts=[KAIMUR])  # the district role has no export right
    roster = csv_rows(analyst, "/api/export/chos-roster.csv" + AUGUST)
    assert sorted(r[0] for r in roster[1:]) == ["C5", "C6"]
    assert [r[1] for r in csv_rows(analyst, "/api/export/hubs-load.csv" + AUGUST)[1:]] == ["H3"]


def test_dash591_hindi_and_empty_states(app, client):  # type: ignore[no-untyped-def]
    body = call(app, client, "chos-roster.rowData", [AUGUST + "&lang=hi"])
    roster = {r["cho_id"]: r for r in body["chos-roster"]["rowData"]}
    assert roster["C2"]["laptop"] == "अभी नहीं"
    summary = call(app, client, "chos-kpis.children", [AUGUST + "&lang=hi"])
    assert "7 में से 6 सीएचओ ने परामर्श किया" in texts(summary["chos-kpis"]["children"])
    rows = csv_rows(client, "/api/export/chos-roster.csv" + AUGUST + "&lang=hi")
    assert rows[0][1] == "सीएचओ"
    hubs_empty = call(app, client, "hubs-kpis.children", [EMPTY])
    assert "No consultations in this period." in texts(hubs_empty["hubs-kpis"]["children"])
    chos_empty = call(app, client, "chos-kpis.children", [EMPTY])
    assert "No CHO activity in this period." in texts(chos_empty["chos-roster-status"]["children"])
    schemes_empty = call(app, client, "schemes-kpis.children", [EMPTY])
    assert "No scheme data for this period." in texts(schemes_empty["schemes-kpis"]["children"])
    laggards_empty = call(app, client, "schemes-laggards.rowData", [EMPTY])
    assert "No scheme data for this period." in texts(laggards_empty["schemes-laggards-summary"]["children"])
    packages = call(app, client, "schemes-packages.rowData", [EMPTY])
    assert packages["schemes-packages"]["rowData"] == []
    chart = call(app, client, "schemes-packages-figure.figure", [EMPTY])
    assert "No centre has reported its service packages." in texts(chart["schemes-packages-status"]["children"])


def test_dash592_error_state(app, client, monkeypatch):  # type: ignore[no-untyped-def]
    from dashboard.data import hubs

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    monkeypatch.setattr(hubs, "hub_load", broken)
    app.server.extensions["arogya"].data.cache.clear()  # memoised outputs of earlier tests
    body = call(app, client, "hubs-kpis.children", [AUGUST])
    assert "could not be loaded" in texts(body["hubs-kpis"]["children"])
    assert body["hubs-grid"]["rowData"] == []
    # The blanked charts say the same, with the one reference the traceback is logged under.
    assert body["hubs-capacity"]["figure"]["layout"]["annotations"][0]["text"] == texts(body["hubs-kpis"]["children"])
    from dashboard.data import chos

    monkeypatch.setattr(chos, "silent_grid", broken)  # the CHO lists have their own callback and their own error
    lists = call(app, client, "chos-roster.rowData", [AUGUST])
    assert "could not be loaded" in texts(lists["chos-roster-error"]["children"])
    assert texts(lists["chos-silent-error"]["children"]) == texts(lists["chos-roster-error"]["children"])
    assert lists["chos-roster"]["rowData"] == [] and lists["chos-silent"]["rowData"] == []
    from dashboard.data import schemes

    monkeypatch.setattr(schemes, "laggards_grid", broken)  # likewise the laggards, beside the achievement
    lag = call(app, client, "schemes-laggards.rowData", [AUGUST])
    assert "could not be loaded" in texts(lag["schemes-laggards-summary"]["children"])
    assert lag["schemes-laggards"]["rowData"] == []
    ach = call(app, client, "schemes-achievement.rowData", [AUGUST])
    assert ach["schemes-achievement"]["rowData"] and "could not" not in json.dumps(ach)
    monkeypatch.setattr(schemes, "packages_grid", broken)  # the centres' package grid, beside its chart
    centres = call(app, client, "schemes-packages.rowData", [AUGUST])
    assert "could not be loaded" in texts(centres["schemes-packages-error"]["children"])
    chart = call(app, client, "schemes-packages-figure.figure", [AUGUST])
    assert chart["schemes-packages-figure"]["figure"]["data"] and chart["schemes-packages-status"]["children"] is None
    monkeypatch.setattr(schemes, "achievement", broken)
    app.server.extensions["arogya"].data.cache.clear()
    ach = call(app, client, "schemes-achievement.rowData", [AUGUST])
    assert "could not be loaded" in ach["schemes-achievement-figure"]["figure"]["layout"]["annotations"][0]["text"]


def test_dash593_large_grids_are_capped_with_a_note(app, client, monkeypatch):  # type: ignore[no-untyped-def]
    from dashboard.data import hubs

    monkeypatch.setattr(hubs, "MAX_GRID_ROWS", 3)
    app.server.extensions["arogya"].data.cache.clear()  # memoised outputs of earlier tests
    body = call(app, client, "hubs-spokes.rowData", [AUGUST])
    assert len(body["hubs-spokes"]["rowData"]) == 3
    assert "Showing the first 3 of 9 rows" in texts(body["hubs-spokes-summary"]["children"])
    assert len(csv_rows(client, "/api/export/hubs-spokes.csv" + AUGUST)) == 1 + 9  # the CSV has every row
