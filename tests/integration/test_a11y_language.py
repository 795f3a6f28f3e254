"""The language switch is remembered (cookie for every browser, ``app_user.language`` for a signed-in user), the
sign-in page and the page shell follow it, and each page's Hindi layout has no English left in it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from dashboard.app_factory import create_app
from dashboard.auth import users
from dashboard.auth.language import COOKIE
from dashboard.i18n import t
from tests.auth_helpers import auth_engine, form_token, logged_in_client, login, make_user, post_login
from tests.fixtures.warehouse_factory import build_warehouse, reader_engine
from tests.integration.test_dash_callbacks import AUGUST, call, texts


@pytest.fixture(scope="module")
def app(tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path_factory.mktemp("a11y"))
    dash_app = create_app(wh.settings, engine=reader_engine(wh), auth_engine=wh.engine)
    yield dash_app
    dash_app.server.extensions["arogya"].data.engine.dispose()
    wh.drop()


def cookie_of(response: Any) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{COOKIE}="):
            return header
    return None


def test_i18n001_switch_sets_cookie_and_user_record(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    name = login(client, app, fresh=True)
    assert users.get_user(auth_engine(app), username=name).language == "en"
    response = client.get("/lang/hi?next=/district/203%3Fperiod%3Dlast7")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/district/203?period=last7&lang=hi")
    header = cookie_of(response)
    assert header is not None and header.startswith(f"{COOKIE}=hi;") and "Max-Age=" in header
    assert users.get_user(auth_engine(app), username=name).language == "hi"
    # And back: English drops ?lang= from the target and is stored too.
    back = client.get("/lang/en?next=/compare%3Flang%3Dhi")
    assert back.headers["Location"].endswith("/compare")
    assert cookie_of(back).startswith(f"{COOKIE}=en;")
    assert users.get_user(auth_engine(app), username=name).language == "en"


def test_i18n002_remembered_language_applies_without_lang_in_the_url(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    english = texts(call(app, client, "overview-kpis.children", [AUGUST])["overview-kpis"]["children"])
    assert "Consultations" in english
    client.get("/lang/hi?next=/")
    shell = client.get("/").get_data(as_text=True)
    assert '<html lang="hi">' in shell
    hindi = texts(call(app, client, "overview-kpis.children", [AUGUST])["overview-kpis"]["children"])
    assert "परामर्श" in hindi and "Consultations" not in hindi
    # An explicit ?lang= in a shared link still wins over the cookie.
    client.get("/lang/en?next=/")
    assert '<html lang="hi">' in client.get("/?lang=hi").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_i18n003_sign_in_page_honours_the_cookie(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
    switched = client.get("/login?lang=hi")  # the sign-in page's switch link
    assert switched.status_code == 200 and cookie_of(switched).startswith(f"{COOKIE}=hi;")
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="hi">' in page and "साइन इन" in page
    assert re.search(r'href="/login\?lang=en"', page)
    missing = client.get("/assets/no-such-file.css")  # a public route's error page follows the cookie too
    assert missing.status_code == 404 and '<html lang="hi">' in missing.get_data(as_text=True)
    assert client.get("/lang/hi?next=/").status_code == 302  # the switch route itself needs a session


def test_i18n004_the_users_stored_language_wins_at_sign_in(app):  # type: ignore[no-untyped-def]
    name, password = make_user(app)
    users.set_language(auth_engine(app), name, "hi")
    client = app.server.test_client()
    client.get("/login?lang=en")  # this browser last chose English
    response = post_login(client, name, password)
    assert response.status_code == 302 and "lang=hi" in response.headers["Location"]
    assert client.get_cookie(COOKIE).value == "en"
    assert '<html lang="hi">' in client.get("/").get_data(as_text=True)
    # Signed out, the browser's own choice applies again.
    token = form_token(client, "/logout")
    client.post("/logout", data={"csrf_token": token})
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_i18n005_switch_refuses_bad_input(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login(client, app, fresh=True)  # its own account: the switch below changes the account's language
    assert client.get("/lang/fr?next=/").status_code == 400
    away = client.get("/lang/hi?next=//evil.example/x")
    assert away.status_code == 303 and away.headers["Location"].endswith("/?lang=hi")
    with pytest.raises(users.UserError):
        users.set_language(auth_engine(app), "nobody-" + "x" * 8, "hi")
    name, _ = make_user(app)
    with pytest.raises(users.UserError):
        users.set_language(auth_engine(app), name, "fr")


def test_i18n006_navbar_switch_and_sign_out_keep_the_language(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app)
    token = form_token(client, "/logout")
    assert token
    layout = page_layout(app, client, "/compare", "?lang=hi")
    nav_lang = find(layout, "nav-lang")
    assert nav_lang["props"]["href"].startswith("/lang/en?next=")
    assert nav_lang["props"]["children"] == "English"


# ------------------------------------------------------------------ every page's Hindi layout

PAGES = ("/", "/compare", "/district", "/district/203", "/district/203/blocks", "/hubs", "/chos", "/schemes",
         "/live", "/live/203", "/admin/audit", "/nowhere")
# Words that stay in Latin letters in the Hindi interface: names of programmes, codes and units people use as is.
LATIN_OK = {"eSanjeevani", "AB", "HWC", "OPD", "CSV", "LGD", "CHO", "CHOs", "SC", "PHC", "UPHC", "CHC", "SDH", "DH",
            "MC", "ABHA", "NCD", "ID", "Arogya", "PDF", "PNG", "API", "HMAC", "KPI", "Bhavya", "BHAVYA", "IST", "Excel",
            "English", "GeoJSON", "FeatureCollection", "MB", "POST",
 "NQAS", "TB", "HbA1c", "BP", "ANC", "PM", "JAY", "CBAC", "ASHA", "IFA", "LLIN"}
TEXT_PROPS = ("children", "headerName", "placeholder", "title", "label", "aria-label", "alt", "summary")


def page_layout(app, client, path: str, search: str) -> Any:  # type: ignore[no-untyped-def]
    """The page as Dash's router renders it (the layout callback), serialised."""
    key = next(k for k in app.callback_map if k.startswith("..") and "_pages_content.children" in k)
    spec = app.callback_map[key]
    inputs = []
    for dep in spec["inputs"]:
        value = {"pathname": path, "search": search}.get(dep["property"])
        inputs.append({"id": dep["id"], "property": dep["property"], "value": value})
    body = {"output": key, "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]}
                                       for o in key[2:-2].split("...")],
            "inputs": inputs, "state": [], "changedPropIds": ["_pages_location.pathname"]}
    reply = client.post("/_dash-update-component", json=body)
    assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
    return reply.get_json()["response"]["_pages_content"]["children"]


def find(tree: Any, id_: str) -> dict[str, Any]:
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == id_:
            return tree
        for value in tree.get("props", {}).values():
            hit = find(value, id_)
            if hit:
                return hit
    elif isinstance(tree, list):
        for item in tree:
            hit = find(item, id_)
            if hit:
                return hit
    return {}


def visible_strings(tree: Any, out: list[str]) -> list[str]:
    """Every string a person can see or hear in a serialised layout: text, labels, headers, options, titles."""
    if isinstance(tree, str):
        out.append(tree)
    elif isinstance(tree, list):
        for item in tree:
            visible_strings(item, out)
    elif isinstance(tree, dict):
        props = tree.get("props") if "props" in tree and "type" in tree else None
        if props is None:
            for key in TEXT_PROPS:
                if key in tree:
                    visible_strings(tree[key], out)
            for key in ("options", "columnDefs", "children"):
                if isinstance(tree.get(key), list):
                    visible_strings(tree[key], out)
            return out
        for key, value in props.items():
            if key in TEXT_PROPS or key in ("options", "columnDefs"):
                visible_strings(value, out)
            elif key == "dashGridOptions" and isinstance(value, dict):
                visible_strings(list((value.get("localeText") or {}).values()), out)
            elif isinstance(value, (dict, list)) and key not in ("figure", "data", "rowData", "style", "id"):
                visible_strings(value, out)
    return out


def english_words(strings: list[str]) -> list[str]:
    words = []
    for s in strings:
        if s.startswith(("/", "#", "http")):
            continue
        # File-format field names and URL paths (block_lgd, /api/blocks/geojson) are typed as they are.
        tokens = [tok for tok in s.split() if "_" not in tok and "/" not in tok]
        words += [w for tok in tokens for w in re.findall(r"[A-Za-z][A-Za-z]+", tok) if w not in LATIN_OK]
    return words


@pytest.mark.parametrize("path", PAGES)
def test_i18n007_hindi_layout_has_no_english(app, path):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    username = login(client, app, role="admin")
    layout = page_layout(app, client, path, "?lang=hi")
    assert find(layout, "navbar"), json.dumps(layout)[:300]
    strings = visible_strings(layout, [])
    assert any(re.search("[\u0900-\u097f]", s) for s in strings)
    # User names (the signed-in user's, the audit page's user list) are shown as they are.
    own_name = {w for u in users.list_users(auth_engine(app)) for w in re.findall(r"[A-Za-z]+", u.username)}
    assert username in {u.username for u in users.list_users(auth_engine(app))}
    assert [w for w in english_words(strings) if w not in own_name] == [], path


@pytest.mark.parametrize("path", PAGES)
def test_a11y001_every_page_has_skip_link_main_and_language(app, path):  # type: ignore[no-untyped-def]
    client = logged_in_client(app, role="admin")
    for lang in ("en", "hi"):
        layout = page_layout(app, client, path, f"?lang={lang}")
        assert layout["props"].get("lang") == lang, path
        assert find(layout, "skip-link")["props"]["href"] == "#main"
        assert find(layout, "main")
        assert find(layout, "nav-lang")
        toggle = find(layout, "nav-toggle")
        assert toggle["props"].get("aria-label") and toggle["props"].get("aria-controls") == "nav-collapse"


def components(tree: Any, out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(tree, dict):
        if "type" in tree and "props" in tree:
            out.append(tree)
        for value in (tree.get("props") or {}).values():
            components(value, out)
    elif isinstance(tree, list):
        for item in tree:
            components(item, out)
    return out


@pytest.mark.parametrize("path", PAGES)
def test_a11y002_every_chart_has_a_table_view(app, path):  # type: ignore[no-untyped-def]
    client = logged_in_client(app, role="admin")
    for lang in ("en", "hi"):
        found = components(page_layout(app, client, path, f"?lang={lang}"), [])
        graphs = [c["props"]["id"] for c in found if c["type"] == "Graph" and isinstance(c["props"].get("id"), str)]
        views = {c["props"].get("data-graph"): c for c in found if c["type"] == "Details"}
        for graph in graphs:
            assert graph in views, (path, graph)
            summary = views[graph]["props"]["children"][0]["props"]["children"]
            assert summary == ("इस चार्ट को तालिका के रूप में देखें" if lang == "hi" else "Show this chart as a table")
            assert views[graph]["props"]["data-value"] in ("Value", "मान")


def test_a11y003_grid_link_cells_open_by_keyboard(app):  # type: ignore[no-untyped-def]
    """The overview's district cell and the district page's facility cell are links (OpenLink renderer: Enter on
    the focused cell clicks it), and a cell click does what a map click does."""
    client = logged_in_client(app)
    overview = components(page_layout(app, client, "/", ""), [])
    cols = next(c for c in overview if c["props"].get("id") == "overview-grid")["props"]["columnDefs"]
    district = next(c for c in cols if c["field"] == "district")
    assert district["cellRenderer"] == "OpenLink" and district["cellRendererParams"]["href"] == "/district/{id}"
    assert all(c.get("headerTooltip") == c["headerName"] for c in cols if c["field"] != "trend")
    page = components(page_layout(app, client, "/district/203", ""), [])
    cols = next(c for c in page if c["props"].get("id") == "district-facilities")["props"]["columnDefs"]
    assert next(c for c in cols if c["field"] == "facility")["cellRenderer"] == "OpenLink"
    key = next(k for k, v in app.callback_map.items()
               if k.startswith("district-detail.children") and v["inputs"][0]["id"] == "district-facilities")
    body = call(app, client, key, [{"colId": "facility", "rowId": "H2", "value": "DH Kishanganj"}],
                state=[AUGUST, "/district/203"], changed=["district-facilities.cellClicked"])
    assert "DH Kishanganj" in texts(body["district-detail"]["children"])
    assert call(app, client, key, [{"colId": "block", "rowId": "H2"}], state=[AUGUST, "/district/203"],
                changed=["district-facilities.cellClicked"]) == {}


def test_i18n008_browser_tab_title_follows_the_language(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    login(client, app, fresh=True)
    key = next(k for k in app.callback_map if k.startswith("..") and "_pages_content.children" in k)
    spec = app.callback_map[key]

    def title(path: str, search: str) -> str:
        inputs = [{"id": d["id"], "property": d["property"],
                   "value": {"pathname": path, "search": search}.get(d["property"])} for d in spec["inputs"]]
        body = {"output": key, "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]}
                                           for o in key[2:-2].split("...")],
                "inputs": inputs, "state": [], "changedPropIds": ["_pages_location.pathname"]}
        return client.post("/_dash-update-component", json=body).get_json()["response"]["_pages_store"]["data"][
            "title"]

    assert title("/compare", "") == "Arogya – Compare districts"
    assert title("/compare", "?lang=hi") == f"{t('app.title', 'hi')} – जिलों की तुलना"
    client.get("/lang/hi?next=/")
    assert title("/hubs", "") == f"{t('app.title', 'hi')} – हब और स्पोक"
