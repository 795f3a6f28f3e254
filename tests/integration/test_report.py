"""The district review report over HTTP, signed in as a real user: the print view, the PDF and the PNG printed by
headless Chromium (skipped, with the reason, when /usr/bin/chromium is missing), refusals (signed out, another
district, a bad month, no Chromium), the audit entry, and the control on the district page."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from dashboard import audit
from dashboard.app_factory import create_app
from tests.auth_helpers import auth_engine, logged_in_client
from tests.fixtures.pages4 import build_pages4_warehouse
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, reader_engine
from tests.integration.test_dash_callbacks import AUGUST, BACKENDS, PG_URL, call, texts

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.is_file(),
                                    reason=f"{CHROMIUM} is missing (apt-get install chromium): PDF/PNG not tested")
REPORT = f"/report/district/{KISHANGANJ}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", params=BACKENDS)
def app(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_pages4_warehouse(tmp_path_factory.mktemp(f"report-http-{request.param}"),
                                PG_URL if request.param == "postgres" else None)
    # A loaded test machine prints slowly: a generous deadline keeps the test about correctness, not speed.
    settings = wh.settings.with_(report_timeout_s=240)
    dash_app = create_app(settings, engine=reader_engine(wh), auth_engine=wh.engine)
    yield dash_app
    dash_app.server.extensions["arogya"].data.engine.dispose()
    wh.drop()


@pytest.fixture()
def surgeon(app):  # type: ignore[no-untyped-def]
    """Kishanganj's Civil Surgeon: a district user (view only, no export right) who sees one district."""
    return logged_in_client(app, role="district", districts=[KISHANGANJ])


def _audit(app, fmt: str) -> list[dict]:  # type: ignore[no-untyped-def]
    rows = audit.read(auth_engine(app), action="export" if fmt != "html" else "page_view", limit=50)
    return [r for r in rows.to_dict("records") if (r["detail"] or {}).get("table") == "district-report"
            and r["detail"].get("format") == fmt]


def test_rep101_print_view_in_both_languages(app, surgeon):  # type: ignore[no-untyped-def]
    english = surgeon.get(REPORT + "?month=2025-08")
    assert english.status_code == 200 and english.mimetype == "text/html"
    html = english.get_data(as_text=True)
    assert "KISHANGANJ district · August 2025 (so far)" in html and "ABHA numbers created" in html
    assert english.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in english.headers["Content-Security-Policy"]
    hindi = surgeon.get(REPORT + "?month=2025-07&lang=hi").get_data(as_text=True)
    assert "जिला किशनगंज · जुलाई 2025" in hindi and "(अब तक)" not in hindi.split("</h1>")[0]
    for static in ("report.css", "report.js", "plotly.min.js"):
        assert surgeon.get(f"/report/static/{static}").status_code == 200, static
    assert surgeon.get("/report/static/page.py").status_code == 404  # only the three files it names
    entry = _audit(app, "html")[0]
    assert entry["detail"]["district"] == KISHANGANJ and entry["detail"]["month"] == "2025-07"


def test_rep106_language_chosen_earlier_applies_without_lang(app):  # type: ignore[no-untyped-def]
    client = logged_in_client(app, role="district", districts=[KISHANGANJ], username="report-lang-hi")
    assert client.get("/lang/hi?next=/").status_code in (302, 303)  # the switch: remembered for the user
    assert "जिला किशनगंज · अगस्त 2025" in client.get(REPORT + "?month=2025-08").get_data(as_text=True)
    assert "KISHANGANJ district" in client.get(REPORT + "?month=2025-08&lang=en").get_data(as_text=True)


def test_rep102_signed_out_and_other_districts(app, surgeon):  # type: ignore[no-untyped-def]
    anonymous = app.server.test_client()
    assert anonymous.get(REPORT + ".pdf?month=2025-08").status_code in (302, 401)
    assert anonymous.get("/report/static/report.js").status_code in (302, 401)
    for path in (f"/report/district/{KAIMUR}?month=2025-08", f"/report/district/{KAIMUR}.pdf?month=2025-08",
                 "/report/district/999.png?month=2025-08"):
        response = surgeon.get(path)
        assert response.status_code == 404, path
        body = response.get_data(as_text=True)
        assert "not known or not in your scope" in body and "KAIMUR" not in body.upper().replace(str(KAIMUR), "")
    assert surgeon.get(REPORT + ".gif?month=2025-08").status_code == 404


@pytest.mark.parametrize(("query", "message"), [
    ("", "month must be a calendar month written YYYY-MM"),
    ("?month=2025-8", "(got 2025-8)"),
    ("?month=2025-13&lang=hi", "YYYY-MM के रूप में"),
    ("?month=2025-09", "2025-09 has not started yet"),
])
def test_rep103_malformed_or_future_month_is_400(surgeon, query, message):  # type: ignore[no-untyped-def]
    response = surgeon.get(REPORT + ".pdf" + query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    as_json = surgeon.get(REPORT + query, headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and as_json.get_json()["code"].startswith("report.error.")


def test_rep104_no_chromium_is_503_with_a_message(app, surgeon, tmp_path):  # type: ignore[no-untyped-def]
    from dashboard.api.report import EXTENSION
    from dashboard.report.chromium import Renderer

    saved = app.server.extensions.get(EXTENSION)
    app.server.extensions[EXTENSION] = Renderer(str(tmp_path / "chromium"), timeout_s=5)
    try:
        response = surgeon.get(REPORT + ".png?month=2025-08&lang=hi")
    finally:
        app.server.extensions[EXTENSION] = saved
    assert response.status_code == 503
    assert "क्रोमियम" in response.get_data(as_text=True) and str(tmp_path / "chromium") in response.get_data(
        as_text=True)
    entry = _audit(app, "png")[0]
    assert entry["detail"]["complete"] is False and entry["detail"]["error"] == "report.error.chromium"


def test_rep105_district_page_has_the_control(app, surgeon):  # type: ignore[no-untyped-def]
    page = call(app, surgeon, "_pages_content.children", [f"/district/{KISHANGANJ}", AUGUST + "&lang=hi"])
    raw = json.dumps(page, ensure_ascii=False)
    for id_ in ("district-report", "district-report-month", "district-report-pdf", "district-report-png",
                "district-report-view"):
        assert f'"id": "{id_}"' in raw, id_
    assert f"/report/district/{KISHANGANJ}.pdf?month=2025-07&lang=hi" in raw  # last complete month of the period
    assert "समीक्षा रिपोर्ट" in texts(page["_pages_content"]["children"])
    links = call(app, surgeon, "district-report-pdf.href", ["2025-08"], state=[KISHANGANJ, AUGUST])
    assert links["district-report-pdf"]["href"] == f"/report/district/{KISHANGANJ}.pdf?month=2025-08&lang=en"
    assert links["district-report-png"]["href"] == f"/report/district/{KISHANGANJ}.png?month=2025-08&lang=en"
    assert links["district-report-view"]["href"] == f"/report/district/{KISHANGANJ}?month=2025-08&lang=en"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@needs_chromium
@pytest.mark.slow
def test_rep110_pdf_and_png_are_printed_by_chromium(app, surgeon):  # type: ignore[no-untyped-def]
    if not app.server.extensions["arogya"].settings.is_sqlite:
        pytest.skip("printing does not depend on the database: the SQLite run prints (the PostgreSQL run checks the"
                    " numbers and refusals)")
    pdf = surgeon.get(REPORT + ".pdf?month=2025-08&lang=hi")
    assert pdf.status_code == 200, pdf.get_data(as_text=True)[:500]
    data = pdf.get_data()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2  # A4: KPIs and map, then the tables
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="arogya_district-report_d{KISHANGANJ}_2025-08_hi.pdf"')
    entry = _audit(app, "pdf")[0]
    assert entry["action"] == "export" and entry["detail"]["complete"] is True
    assert entry["detail"]["bytes"] == len(data) and entry["detail"]["lang"] == "hi"
    assert entry["scope"] == str(KISHANGANJ) and entry["detail"]["cached"] is False
    again = surgeon.get(REPORT + ".pdf?month=2025-08&lang=hi")  # the same report again: from the cache, audited
    assert again.status_code == 200 and again.get_data() == data
    assert _audit(app, "pdf")[0]["detail"]["cached"] is True and len(_audit(app, "pdf")) == 2

    png = surgeon.get(REPORT + ".png?month=2025-08")
    assert png.status_code == 200 and png.mimetype == "image/png"
    width, height = _png_size(png.get_data())
    assert width == 1191  # the A4 sheet (794 CSS px) at 1.5 device pixels per px
    assert 1.2 * width < height < 6 * width  # one long page: header, KPIs, map, four tables


@needs_chromium
@pytest.mark.slow
def test_rep120_print_view_in_a_browser_under_the_apps_csp(app, tmp_path):  # type: ignore[no-untyped-def]
    """A signed-in browser opens the print view from a live server: the map is drawn with the app's own plotly.js,
    under the app's Content Security Policy, with no request to another host and no console error."""
    if not app.server.extensions["arogya"].settings.is_sqlite:
        pytest.skip("the browser does not depend on the database: the SQLite run opens it")
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from dashboard.report.chromium import READY_SELECTOR
    from tests.auth_helpers import browser_login, make_user

    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    username, password = make_user(app, role="district", districts=[KISHANGANJ])
    problems: list[str] = []
    hosts: set[str] = set()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                         args=["--headless", "--no-sandbox", "--disable-gpu",
                                               "--disable-background-networking"])
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: hosts.add(r.url.split("/")[2]) if r.url.startswith("http") else None)
            browser_login(page, base, username, password, next_=REPORT + "?month=2025-08&lang=hi")
            page.wait_for_selector(READY_SELECTOR, state="attached", timeout=180_000)
            assert page.locator("#report-heading").inner_text() == "जिला किशनगंज · अगस्त 2025 (अब तक)"
            assert page.locator("#report-map img.frozen-canvas").count() >= 1  # the map was drawn and kept
            assert page.get_attribute("html", "data-report-failed") is None
            browser.close()
    finally:
        server.shutdown()
    assert hosts == {f"127.0.0.1:{server.server_port}"}
    assert problems == []
