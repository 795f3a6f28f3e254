"""Scope from the server session, never from the request: a Civil Surgeon of Kishanganj who forges callback inputs
or export queries naming Kaimur gets none of Kaimur's data; roles see only their menus; exports and page views are
audited; the admin's audit page and its CSV. On SQLite and, when AROGYA_TEST_DATABASE_URL is set, PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from dashboard import audit
from dashboard.api.csvstream import read_back
from dashboard.app_factory import create_app
from dashboard.i18n import t
from etl.warehouse.schema import audit_log
from tests.auth_helpers import logged_in_client, login
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, PATNA, build_warehouse, reader_engine
from tests.integration.test_dash_callbacks import AUGUST, BACKENDS, PG_URL, call, texts


@pytest.fixture(scope="module", params=BACKENDS)
def wh_app(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path_factory.mktemp(f"sec-scope-{request.param}"),
                         PG_URL if request.param == "postgres" else None)
    settings = wh.settings.with_(login_rate_per_minute=1000, auth_recheck_s=0)
    dash_app = create_app(settings, engine=reader_engine(wh), auth_engine=wh.engine)
    yield wh, dash_app
    dash_app.server.extensions["arogya"].data.engine.dispose()
    wh.drop()


@pytest.fixture()
def app(wh_app):  # type: ignore[no-untyped-def]
    return wh_app[1]


@pytest.fixture()
def engine(wh_app):  # type: ignore[no-untyped-def]
    return wh_app[0].engine


@pytest.fixture()
def surgeon(app):  # type: ignore[no-untyped-def]
    """The Civil Surgeon of Kishanganj (role district)."""
    return logged_in_client(app, role="district", districts=[KISHANGANJ])


@pytest.fixture()
def kishanganj_analyst(app):  # type: ignore[no-untyped-def]
    return logged_in_client(app, role="analyst", districts=[KISHANGANJ])


def test_sec201_forged_overview_callbacks_show_only_the_users_district(app, surgeon):  # type: ignore[no-untyped-def]
    rows = call(app, surgeon, "overview-grid.rowData", [AUGUST + f"&district={KAIMUR}"])["overview-grid"]["rowData"]
    assert rows == []
    rows = call(app, surgeon, "overview-grid.rowData", [AUGUST])["overview-grid"]["rowData"]
    assert [r["district_lgd"] for r in rows] == [KISHANGANJ]
    kpis = texts(call(app, surgeon, "overview-kpis.children", [AUGUST + f"&district={KAIMUR},{PATNA}"])
                 ["overview-kpis"]["children"])
    assert "No consultations in this period." in kpis
    # The map's values: Kishanganj only, whatever the query asks for.
    patch = call(app, surgeon, "overview-map.figure", [AUGUST + f"&district={KAIMUR}"])["overview-map"]["figure"]
    assert str(KAIMUR) not in json.dumps(patch)


def test_sec202_forged_district_page_callbacks(app, surgeon):  # type: ignore[no-untyped-def]
    kaimur = f"/district/{KAIMUR}"
    body = call(app, surgeon, "district-kpis.children", [AUGUST], state=[kaimur])
    assert "No consultations in this period." in texts(body["district-kpis"]["children"])
    own = call(app, surgeon, "district-kpis.children", [AUGUST], state=[f"/district/{KISHANGANJ}"])
    assert "No consultations in this period." not in texts(own["district-kpis"]["children"])
    tables = call(app, surgeon, "district-blocks.rowData", [AUGUST], state=[kaimur])
    assert all(rows == [] for rows in (tables["district-blocks"]["rowData"], tables["district-idle"]["rowData"],
                                        tables["district-silent"]["rowData"], tables["district-facilities"]["rowData"]))
    # A click on a Kaimur facility forged into the map's clickData.
    detail = call(app, surgeon, "district-detail.children", [{"points": [{"customdata": "S5"}]}],
                  state=[AUGUST, kaimur], changed=["district-map.clickData"])
    assert "HSC Akhini" not in json.dumps(detail)
    # The page itself: the unknown-district notice, and a chooser listing only Kishanganj.
    page = call(app, surgeon, "_pages_content.children", [kaimur, AUGUST])
    raw = json.dumps(page, ensure_ascii=False)
    assert "KAIMUR" not in raw.upper() and "Bhabua" not in raw and "HSC Akhini" not in raw
    assert f"District {KAIMUR} is not known or not in your scope." in texts(page["_pages_content"]["children"])
    chooser = [o["value"] for o in _find(page, "district-choose")["props"]["options"]]
    assert chooser == [KISHANGANJ]


def _find(tree, id_):  # type: ignore[no-untyped-def]
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == id_:
            return tree
        for value in tree.values():
            found = _find(value, id_)
            if found is not None:
                return found
    if isinstance(tree, list):
        for value in tree:
            found = _find(value, id_)
            if found is not None:
                return found
    return None


def test_sec203_forged_filter_options(app, surgeon):  # type: ignore[no-untyped-def]
    page = call(app, surgeon, "_pages_content.children", ["/", AUGUST + f"&district={KAIMUR}&state=10"])
    districts = _find(page, {"type": "urlparam", "key": "district"})["props"]["options"]
    assert [o["value"] for o in districts] == [KISHANGANJ]


def test_sec204_exports_need_the_export_right(app, surgeon):  # type: ignore[no-untyped-def]
    assert surgeon.get("/api/export/overview-districts.csv" + AUGUST).status_code == 403
    assert surgeon.get("/api/export/linelist.csv" + AUGUST).status_code == 403
    assert surgeon.get(f"/api/export/district-blocks.csv{AUGUST}&lgd={KISHANGANJ}").status_code == 403


def test_sec205_forged_export_queries_get_none_of_another_district(app, kishanganj_analyst):  # type: ignore
    client = kishanganj_analyst
    for table in ("district-blocks", "district-facilities", "district-idle-spokes", "district-silent-chos"):
        response = client.get(f"/api/export/{table}.csv{AUGUST}&lgd={KAIMUR}")
        assert response.status_code == 200
        assert read_back(response.get_data(as_text=True))[1:] == [], table
    rows = read_back(client.get(f"/api/export/overview-districts.csv{AUGUST}&district={KAIMUR}").get_data(
        as_text=True))
    assert rows[1:] == []
    rows = read_back(client.get(f"/api/export/linelist.csv{AUGUST}&district={KAIMUR}").get_data(as_text=True))
    assert rows[1:] == []
    rows = read_back(client.get(f"/api/export/linelist.csv{AUGUST}").get_data(as_text=True))
    assert rows[1:] and {r[6] for r in rows[1:]} == {str(KISHANGANJ)}
    rows = read_back(client.get(f"/api/export/compare-districts.csv{AUGUST}&cmp={KISHANGANJ},{KAIMUR}").get_data(
        as_text=True))
    assert not any("KAIMUR" in cell.upper() for row in rows for cell in row)


def _entries(engine, action, username):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == action, audit_log.c.username == username)
                            .order_by(audit_log.c.audit_id)).all()
    return [r._mapping for r in rows]


def test_sec206_exports_are_audited_with_filters_and_row_count(app, engine):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    name = login(client, app, role="analyst", districts=[KISHANGANJ], fresh=True)
    body = client.get(f"/api/export/linelist.csv{AUGUST}&mode=ABHWC").get_data(as_text=True)
    lines = len(read_back(body)) - 1
    table = client.get(f"/api/export/district-blocks.csv{AUGUST}&lgd={KISHANGANJ}")
    blocks = len(read_back(table.get_data(as_text=True))) - 1
    entries = _entries(engine, "export", name)
    assert [e["detail"]["table"] for e in entries] == ["linelist", "district-blocks"]
    linelist, blocks_entry = entries
    assert linelist["detail"]["rows"] == lines == 4 and linelist["detail"]["complete"] is True
    assert linelist["detail"]["filters"]["modes"] == ["ABHWC"]
    assert linelist["detail"]["filters"]["start"] == "2025-08-02" and linelist["detail"]["filters"]["end"] == \
        "2025-08-31"
    assert linelist["scope"] == str(KISHANGANJ)
    assert blocks_entry["detail"]["rows"] == blocks == 3 and blocks_entry["detail"]["filters"]["params"]["lgd"] == \
        str(KISHANGANJ)


def test_sec207_sign_in_page_views_and_sign_out_are_audited(app, engine):  # type: ignore[no-untyped-def]
    from tests.auth_helpers import form_token

    client = app.server.test_client()
    name = login(client, app, role="state", states=["10"], fresh=True)
    call(app, client, "_pages_content.children", [f"/district/{KISHANGANJ}", AUGUST])
    client.post("/logout", data={"csrf_token": form_token(client, "/logout")})
    assert [e["action"] for e in _entries(engine, "login", name)] == ["login"]
    views = _entries(engine, "page_view", name)
    assert views and views[-1]["detail"]["path"] == f"/district/{KISHANGANJ}"
    assert views[-1]["detail"]["search"] == AUGUST and views[-1]["scope"]
    assert _entries(engine, "logout", name)


def test_sec208_menus_show_what_the_role_may_use(app):  # type: ignore[no-untyped-def]
    def page_for(**kwargs):  # type: ignore[no-untyped-def]
        client = logged_in_client(app, **kwargs)
        return client, call(app, client, "_pages_content.children", ["/", AUGUST])

    _, admin = page_for(role="admin")
    assert _find(admin, "nav-admin-audit") is not None
    assert _find(admin, "overview-export")["props"]["hidden"] is True
    _, analyst = page_for(role="analyst")
    assert _find(analyst, "nav-admin-audit") is None
    assert _find(analyst, "overview-export")["props"]["hidden"] is False
    assert _find(analyst, "overview-linelist")["props"]["hidden"] is False
    _, district = page_for(role="district", districts=[KISHANGANJ])
    assert _find(district, "nav-admin-audit") is None
    assert _find(district, "overview-export")["props"]["hidden"] is True
    assert _find(district, "overview-dictionary")["props"]["hidden"] is False
    assert _find(district, "nav-logout") is not None


def test_sec209_audit_page_and_csv_for_admins_only(app, engine):  # type: ignore[no-untyped-def]
    analyst = logged_in_client(app, role="analyst")
    assert analyst.get("/admin/audit").status_code == 403
    assert analyst.get("/admin/audit.csv").status_code == 403
    forbidden = call(app, analyst, "_pages_content.children", ["/admin/audit", ""])
    assert _find(forbidden, "forbidden") is not None
    rows = call(app, analyst, "admin-audit-grid.rowData", [None, None, None, None, "en"])
    assert rows["admin-audit-grid"]["rowData"] == []

    admin = app.server.test_client()
    admin_name = login(admin, app, role="admin", fresh=True)
    assert admin.get("/admin/audit").status_code == 200
    page = call(app, admin, "_pages_content.children", ["/admin/audit", ""])
    assert _find(page, "admin-audit-grid") is not None
    body = call(app, admin, "admin-audit-grid.rowData", [None, "login", None, None, "en"])
    logins = body["admin-audit-grid"]["rowData"]
    assert logins and all(r["action"] == "Sign-in" for r in logins)  # the action's label in the page's language
    assert body["admin-audit-export"]["href"] == "/admin/audit.csv?action=login"
    csv = admin.get("/admin/audit.csv?action=login")
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    rows = read_back(csv.get_data(as_text=True))
    assert rows[0] == ["audit_id", "at_utc", "at_ist", "username", "action", "scope", "detail"]
    assert {r[4] for r in rows[1:]} == {"login"} and admin_name in {r[3] for r in rows[1:]}
    exported = _entries(engine, "audit_export", admin_name)
    assert exported and exported[-1]["detail"]["rows"] == len(rows) - 1


def test_sec210_referral_rate_is_withheld_for_small_counts(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app, role="analyst")
    rows = call(app, client, "overview-grid.rowData", [AUGUST])["overview-grid"]["rowData"]
    # Kishanganj: 1 of 5 referred; Kaimur 1 of 3; Patna 0 of 1 (one not referred): all small splits at k = 5.
    assert {r["district_lgd"]: r["referral_rate"] for r in rows if r["consultations"]} == {
        KISHANGANJ: None, KAIMUR: None, PATNA: None}
    csv = read_back(client.get("/api/export/overview-districts.csv" + AUGUST).get_data(as_text=True))
    column = csv[0].index(t("col.referral_rate", "en"))
    assert [row[column] for row in csv[1:4]] == ["", "", ""]
    assert audit.count(app.server.extensions["arogya_auth"].engine) > 0
