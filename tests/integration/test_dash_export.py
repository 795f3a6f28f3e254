"""CSV exports and the health check over HTTP: the download has the rows of the table on screen."""

from __future__ import annotations

import os
import tracemalloc

import pytest
from sqlalchemy import text

from dashboard.api.csvstream import BOM, read_back
from dashboard.app_factory import create_app
from dashboard.data.filters import Scope
from tests.auth_helpers import logged_in_client
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, TODAY, build_warehouse, reader_engine
from tests.integration.test_dash_callbacks import AUGUST, BACKENDS, PG_URL, call


@pytest.fixture(scope="module", params=BACKENDS)
def wh_app(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path_factory.mktemp(f"export-{request.param}"),
                         PG_URL if request.param == "postgres" else None)
    dash_app = create_app(wh.settings, engine=reader_engine(wh), auth_engine=wh.engine)
    yield wh, dash_app
    dash_app.server.extensions["arogya"].data.engine.dispose()
    wh.drop()


@pytest.fixture()
def app(wh_app):  # type: ignore[no-untyped-def]
    return wh_app[1]


@pytest.fixture()
def client(app):  # type: ignore[no-untyped-def]
    return logged_in_client(app)  # an analyst (export rights) who sees every district


def download(client, url: str) -> tuple[list[list[str]], object]:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    raw = response.get_data()
    assert raw.startswith(BOM.encode("utf-8"))
    return read_back(raw.decode("utf-8")), response


def test_dash201_ranking_csv_matches_grid(app, client):  # type: ignore[no-untyped-def]
    rows, response = download(client, "/api/export/overview-districts.csv" + AUGUST)
    grid = call(app, client, "overview-grid.rowData", [AUGUST])["overview-grid"]["rowData"]
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Rank", "District LGD code", "District"]
    assert [int(r[1]) for r in body] == [g["district_lgd"] for g in grid]
    assert [int(r[3]) for r in body] == [g["consultations"] for g in grid]
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "overview-districts" in disposition
    assert "2025-08-02_to_2025-08-31" in disposition and f"on_{TODAY.isoformat()}" in disposition
    assert response.headers["Content-Type"].startswith("text/csv")


def test_dash202_hindi_headers_and_names(client):  # type: ignore[no-untyped-def]
    rows, _ = download(client, "/api/export/overview-districts.csv" + AUGUST + "&lang=hi")
    assert rows[0][2] == "जिला"
    assert rows[1][2] == "किशनगंज"


def test_dash203_district_tables_match_page(app, client):  # type: ignore[no-untyped-def]
    page = call(app, client, "district-blocks.rowData", [AUGUST], state=["/district/203"])
    for table, output, key in (("district-blocks", "district-blocks", "block_lgd"),
                               ("district-idle-spokes", "district-idle", "facility_id"),
                               ("district-silent-chos", "district-silent", "cho_id"),
                               ("district-facilities", "district-facilities", "facility_id")):
        rows, _ = download(client, f"/api/export/{table}.csv{AUGUST}&lgd={KISHANGANJ}")
        grid_ids = [str(r[key]) for r in page[output]["rowData"]]
        assert [r[0] for r in rows[1:]] == grid_ids, table
    blocks, _ = download(client, f"/api/export/district-blocks.csv{AUGUST}&lgd={KISHANGANJ}")
    assert blocks[1] == ["20301", "Bahadurganj", "2", "2", "3", "2", "met"]


def test_dash204_district_table_needs_district(client):  # type: ignore[no-untyped-def]
    assert client.get("/api/export/district-blocks.csv" + AUGUST).status_code == 400
    assert client.get("/api/export/no-such-table.csv").status_code == 404


def test_dash205_linelist_under_filters(client):  # type: ignore[no-untyped-def]
    rows, response = download(client, "/api/export/linelist.csv" + AUGUST + f"&district={KISHANGANJ}&mode=ABHWC")
    header = rows[0]
    assert "patient_token" in header and not any("name" in h or "phone" in h or "abha" in h for h in header)
    ids = [r[0] for r in rows[1:]]
    assert ids == ["K5", "K1", "K2", "K3"]  # ABHWC in Kishanganj, oldest first
    assert f"d{KISHANGANJ}" in response.headers["Content-Disposition"]
    everything, _ = download(client, "/api/export/linelist.csv" + AUGUST)
    assert len(everything) - 1 == 9


def test_dash206_compare_csv(client):  # type: ignore[no-untyped-def]
    rows, _ = download(client, f"/api/export/compare-districts.csv{AUGUST}&cmp={KISHANGANJ},{KAIMUR}")
    assert rows[0][:3] == ["Measure code", "Measure", "Districts ranked"]
    assert rows[0][3:] == ["KISHANGANJ", "KISHANGANJ · Rank", "KAIMUR (BHABUA)", "KAIMUR (BHABUA) · Rank"]
    consultations = next(r for r in rows if r[0] == "consultations")
    assert consultations[3:] == ["5", "1", "3", "2"]


def test_dash207_dictionary(client):  # type: ignore[no-untyped-def]
    rows, _ = download(client, "/api/export/dictionary/overview-districts.csv")
    assert rows[0] == ["Column", "Label", "Description"]
    assert rows[1][0] == "rank"
    rows, _ = download(client, "/api/export/dictionary/linelist.csv")
    assert any(r[0] == "patient_token" for r in rows)


def test_dash208_healthz(client):  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_dash209_scope_applies_to_exports(app, client, monkeypatch):  # type: ignore[no-untyped-def]
    import dashboard.api.routes as routes

    monkeypatch.setattr(routes, "current_scope", lambda: Scope.districts([KAIMUR]))
    rows, _ = download(client, "/api/export/linelist.csv" + AUGUST)
    assert {r[6] for r in rows[1:]} == {str(KAIMUR)}
    rows, _ = download(client, "/api/export/overview-districts.csv" + AUGUST + f"&district={KISHANGANJ}")
    assert rows[1:] == []
    monkeypatch.setattr(routes, "current_scope", lambda: Scope())
    rows, _ = download(client, "/api/export/linelist.csv" + AUGUST)
    assert rows[1:] == []


def _count_lines(response) -> int:  # type: ignore[no-untyped-def]
    lines = 0
    for chunk in response.response:
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    return lines


@pytest.mark.slow
def test_dash210_million_row_linelist_streams_in_constant_memory(tmp_path):  # type: ignore[no-untyped-def]
    if os.environ.get("AROGYA_SKIP_SLOW"):
        pytest.skip("AROGYA_SKIP_SLOW set")
    wh = build_warehouse(tmp_path)
    n = 1_000_000
    with wh.engine.begin() as conn:
        # Generated inside SQLite: a million copies of one consultation with distinct ids, the last 100,000 of them
        # on 31 August (so memory can be traced on a slice without slowing down the whole million).
        conn.execute(text("""
            WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < :last)
            INSERT INTO fact_consultation
            SELECT printf('M%08d', i), started_at, ended_at, CASE WHEN i >= :split THEN '2025-08-31' ELSE day END,
                   hour, spoke_id, hub_id, district_lgd, block_lgd, hub_district_lgd, cho_id, doctor_token,
                   specialty_code, mode, channel, outcome, wait_minutes, duration_minutes, 'tok-' || i, age, sex,
                   outside_hours, run_id
            FROM seq, fact_consultation WHERE consultation_id = 'K1'"""), {"last": n - 1, "split": n - 100_000})
    app = create_app(wh.settings, engine=reader_engine(wh), auth_engine=wh.engine)
    client = logged_in_client(app)
    window = "/api/export/linelist.csv?period=custom&from=2025-08-{0}&to=2025-08-{1}&district=203"
    everything = client.get(window.format(30, 31), buffered=False)
    assert _count_lines(everything) == 1 + n + 3  # header, the million copies, K1, K2 and K3
    tracemalloc.start()
    slice_ = client.get(window.format(31, 31), buffered=False)
    assert _count_lines(slice_) == 1 + 100_000 + 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # 100,000 rows are about 16 MB of CSV text and well over 100 MB as Python rows; the stream holds one batch of
    # 5,000 rows at a time (about 13 MB traced).
    assert peak < 24 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
