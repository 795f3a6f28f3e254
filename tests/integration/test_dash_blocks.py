"""Block polygon upload over HTTP and through the district page: a valid file is stored beside the district
boundaries and drawn on the district map; a bad file is refused with a clear message; nothing else changes."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard import audit
from dashboard.app_factory import create_app
from etl.warehouse.schema import data_version, dim_block, dim_facility, rollup_facility_day
from tests.auth_helpers import auth_engine, logged_in_client
from tests.fixtures.block_geojson import district_outline, encode, strips
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, build_warehouse, reader_engine
from tests.integration.test_dash_callbacks import AUGUST, BACKENDS, PG_URL, call, texts

URL = "/api/blocks/geojson"
GEOJSON = {"Content-Type": "application/geo+json"}
CODES = (20301, 20302, 20303)


@pytest.fixture(scope="module", params=BACKENDS)
def wh_app(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path_factory.mktemp(f"blocks-{request.param}"),
                         PG_URL if request.param == "postgres" else None)
    dash_app = create_app(wh.settings, engine=reader_engine(wh))
    yield wh, dash_app
    dash_app.server.extensions["arogya"].data.engine.dispose()
    wh.drop()


@pytest.fixture()
def wh(wh_app):  # type: ignore[no-untyped-def]
    yield wh_app[0]
    (wh_app[0].settings.geo_dir / "blocks_203.geojson").unlink(missing_ok=True)


@pytest.fixture()
def app(wh_app):  # type: ignore[no-untyped-def]
    return wh_app[1]


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    """An administrator (all districts): the only role that may upload block boundaries."""
    return logged_in_client(app, role="admin")


def kishanganj_blocks(wh, codes=CODES, prop: str = "block_lgd") -> dict:  # type: ignore[no-untyped-def]
    return strips(district_outline(wh.settings.geo_dir / "bihar_districts.geojson", KISHANGANJ), codes, prop,
                  densify=0.001)


def block_traces(figure: dict) -> list[dict]:
    return [trace for trace in figure["data"] if trace.get("name") == "Block boundaries"]


def map_figure(app, client, lgd: int = KISHANGANJ) -> dict:  # type: ignore[no-untyped-def]
    return call(app, client, "district-map.figure", [AUGUST], state=[f"/district/{lgd}"])["district-map"]["figure"]


def render_district(app, client) -> object:  # type: ignore[no-untyped-def]
    """The district page's layout as Dash's page router sends it to the browser."""
    body = call(app, client, "_pages_content.children", [f"/district/{KISHANGANJ}", AUGUST],
                changed=["_pages_location.pathname"])
    return body["_pages_content"]["children"]


def texts_and_ids(component: object) -> str:
    return json.dumps(component, ensure_ascii=False)


def snapshot(wh) -> dict:  # type: ignore[no-untyped-def]
    """What an upload must leave alone: the warehouse and every file in the geo folder but the block file."""
    with wh.engine.connect() as conn:
        counts = {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                  for t in (dim_block, dim_facility, rollup_facility_day)}
        version = conn.execute(select(data_version.c.version)).scalar()
        blocks = conn.execute(select(dim_block).order_by(dim_block.c.block_lgd)).all()
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in Path(wh.settings.geo_dir).iterdir()
             if not p.name.startswith("blocks_")}
    return {"counts": counts, "version": version, "blocks": blocks, "files": files}


def test_dash421_valid_upload_is_drawn_on_the_district_map(wh, app, client):  # type: ignore[no-untyped-def]
    assert block_traces(map_figure(app, client)) == []
    reply = client.post(f"{URL}?district={KISHANGANJ}", data=encode(kishanganj_blocks(wh)), headers=GEOJSON)
    assert reply.status_code == 201, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["blocks"] == list(CODES) and body["missing"] == []
    assert body["vertices_out"] < body["vertices_in"]
    stored = json.loads((wh.settings.geo_dir / "blocks_203.geojson").read_text(encoding="utf-8"))
    assert [f["id"] for f in stored["features"]] == ["20301", "20302", "20303"]
    assert stored["features"][0]["properties"]["name_en"] == "Bahadurganj"

    figure = map_figure(app, client)
    (blocks,) = block_traces(figure)
    assert blocks["locations"] == ["20301", "20302", "20303"] and blocks["featureidkey"] == "id"
    assert blocks["geojson"] == body["url"] and blocks["geojson"].startswith("/geo/blocks_203.geojson?v=")
    names = [trace.get("name") for trace in figure["data"]]
    assert names.index("Block boundaries") < names.index("Hub")  # beneath the facilities
    served = client.get(blocks["geojson"])
    assert served.status_code == 200 and served.get_json() == stored
    assert block_traces(map_figure(app, client, KAIMUR)) == []  # only the district it belongs to
    entries = audit.read(auth_engine(app), action="blocks_upload")
    assert entries.iloc[0]["username"].startswith("admin-") and "20301" in str(entries.iloc[0]["detail"])


def test_dash422_partial_upload_in_hindi_names_the_missing_blocks(wh, client):  # type: ignore[no-untyped-def]
    document = kishanganj_blocks(wh, (20301, 20302), prop="LGD_CODE")
    reply = client.post(f"{URL}?district={KISHANGANJ}&lang=hi", data=encode(document),
                        headers={"Content-Type": "application/json"})
    assert reply.status_code == 201 and reply.get_json()["missing"] == [20303]


@pytest.mark.parametrize(("query", "payload", "headers", "status", "words"), [
    ("", b"{}", GEOJSON, 400, "district's LGD code"),
    (f"?district={KISHANGANJ}", b"x", {"Content-Type": "text/plain"}, 415, "Content-Type application/geo+json"),
    (f"?district={KISHANGANJ}", b"{oops", GEOJSON, 400, "not valid JSON"),
    (f"?district={KISHANGANJ}", b'{"type": "Feature"}', GEOJSON, 400, "FeatureCollection"),
    ("?district=99999", b"{}", GEOJSON, 404, "District 99999 is not known"),
])
def test_dash423_bad_requests_are_refused_clearly(wh, client, query, payload, headers, status,
                                                  words):  # type: ignore[no-untyped-def]
    reply = client.post(URL + query, data=payload, headers=headers)
    assert reply.status_code == status and words in reply.get_json()["error"], reply.get_json()


def test_dash424_bad_files_are_refused_and_nothing_changes(wh, app, client):  # type: ignore[no-untyped-def]
    good = kishanganj_blocks(wh)
    assert client.post(f"{URL}?district={KISHANGANJ}", data=encode(good), headers=GEOJSON).status_code == 201
    before = snapshot(wh)
    stored = (wh.settings.geo_dir / "blocks_203.geojson").read_bytes()
    no_code = kishanganj_blocks(wh, prop="name_of_block")
    other_district = kishanganj_blocks(wh, (20301, 20001))
    bowtie = kishanganj_blocks(wh)
    bowtie["features"][1]["geometry"] = {"type": "Polygon", "coordinates": [[[87.4, 26.1], [87.6, 26.3],
                                                                             [87.6, 26.1], [87.4, 26.3],
                                                                             [87.4, 26.1]]]}
    swapped = kishanganj_blocks(wh)
    for feature in swapped["features"]:
        feature["geometry"]["coordinates"] = [[[y, x] for x, y in ring] for ring in
                                              feature["geometry"]["coordinates"]]
    cases = [(no_code, "has no block LGD code"), (other_district, "not blocks of KISHANGANJ (203)"),
             (bowtie, "Feature 2 (block 20302): invalid geometry: Self-intersection"),
             (swapped, "lies outside KISHANGANJ (203)")]
    for document, words in cases:
        reply = client.post(f"{URL}?district={KISHANGANJ}", data=encode(document), headers=GEOJSON)
        assert reply.status_code == 422 and words in reply.get_json()["error"], reply.get_json()
    assert (wh.settings.geo_dir / "blocks_203.geojson").read_bytes() == stored  # the last good file stays
    assert snapshot(wh) == before
    grid = call(app, client, "overview-grid.rowData", [AUGUST])["overview-grid"]["rowData"]
    assert sum(r["consultations"] for r in grid) == 9


def test_dash425_upload_from_the_district_page(wh, app, client):  # type: ignore[no-untyped-def]
    page = client.get(f"/district/{KISHANGANJ}")
    assert page.status_code == 200
    layout = texts_and_ids(render_district(app, client))
    assert "district-boundary-upload" in layout and "No block boundaries uploaded for this district." in layout
    analyst = texts_and_ids(render_district(app, logged_in_client(app, role="analyst")))
    assert "district-boundary-version" in analyst and "district-boundary-upload" not in analyst
    contents = "data:application/geo+json;base64," + base64.b64encode(encode(kishanganj_blocks(wh))).decode()
    body = call(app, client, "district-boundary-status.children", [contents], state=["k.geojson", KISHANGANJ, AUGUST])
    assert "Saved k.geojson: 3 blocks are now drawn on the map." in texts(body["district-boundary-status"]["children"])
    version = body["district-boundary-version"]["data"]
    assert version and block_traces(map_figure(app, client))[0]["geojson"].endswith(f"?v={version}")

    bad = "data:application/geo+json;base64," + base64.b64encode(b'{"type": "FeatureCollection"}').decode()
    body = call(app, client, "district-boundary-status.children", [bad],
                state=["bad.json", KISHANGANJ, AUGUST + "&lang=hi"])
    alert = body["district-boundary-status"]["children"]
    assert alert["props"]["color"] == "danger" and "FeatureCollection" in texts(alert)
    assert "district-boundary-version" not in body  # the map keeps the stored file


def test_dash426_delete_scope_and_role(wh, app, client):  # type: ignore[no-untyped-def]
    raw = encode(kishanganj_blocks(wh))
    assert client.post(f"{URL}?district={KISHANGANJ}", data=raw, headers=GEOJSON).status_code == 201
    kaimur_admin = logged_in_client(app, role="admin", districts=[KAIMUR])
    assert kaimur_admin.post(f"{URL}?district={KISHANGANJ}", data=raw, headers=GEOJSON).status_code == 404
    assert kaimur_admin.delete(f"{URL}?district={KISHANGANJ}").status_code == 404
    for role in ("analyst", "district", "state"):
        other = logged_in_client(app, role=role)
        reply = other.post(f"{URL}?district={KISHANGANJ}", data=raw, headers=GEOJSON)
        assert reply.status_code == 403 and "Only an administrator" in reply.get_json()["error"]
        assert other.delete(f"{URL}?district={KISHANGANJ}").status_code == 403
        contents = "data:application/geo+json;base64," + base64.b64encode(raw).decode()
        body = call(app, other, "district-boundary-status.children", [contents],
                    state=["k.geojson", KISHANGANJ, AUGUST])
        assert "Only an administrator" in texts(body["district-boundary-status"]["children"])
    assert app.server.test_client().post(f"{URL}?district={KISHANGANJ}", data=raw,
                                         headers=GEOJSON).status_code == 401  # signed out
    assert client.delete(f"{URL}?district={KISHANGANJ}").status_code == 200
    assert not (wh.settings.geo_dir / "blocks_203.geojson").exists()
    assert block_traces(map_figure(app, client)) == []
    reply = client.delete(f"{URL}?district={KISHANGANJ}")
    assert reply.status_code == 404 and "No block boundaries" in reply.get_json()["error"]
    assert len(audit.read(auth_engine(app), action="blocks_remove")) == 1
