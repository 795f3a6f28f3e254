"""The main interactions in a real browser, each checked against the data rather than against the page itself:
a period preset changes the URL and the consultations KPI (and the back button undoes it), a table's CSV export
holds exactly the rows the grid shows, the language switch turns the page Hindi and is remembered (reload, a link
without ``?lang=``, a new sign-in), and the district page's review report downloads as a real PDF and PNG.
The map click and the block-table export are in ``test_browser_dashboard``."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from dashboard.data.hubs import CROSS_COLUMNS
from dashboard.i18n import format_indian, t
from tests.browser import ground_truth as truth
from tests.browser.conftest import END_DATE, LiveApp
from tests.browser.matrix import DESKTOP, DEVANAGARI, KISHANGANJ, PAGES, Sessions, watch
from tests.browser.pages import as_shown, grid_table, sign_in_as, wait_idle

pytestmark = pytest.mark.browser

END = date.fromisoformat(END_DATE)
OVERVIEW = next(p for p in PAGES if p.name == "overview")
HUBS = next(p for p in PAGES if p.name == "hubs")
DISTRICT = next(p for p in PAGES if p.name == "district")


@pytest.fixture(scope="module")
def analyst(browser, live_app: LiveApp) -> Iterator[Sessions]:  # type: ignore[no-untyped-def]
    with Sessions(browser, live_app.url, live_app.app, role="analyst") as opened:  # analysts may export
        yield opened


def test_br020_period_preset_changes_the_url_and_the_kpi(analyst: Sessions, live_app: LiveApp, warehouse: Path,
                                                         artifacts: Path) -> None:
    visit = analyst.visit(DESKTOP, "en")
    visit.open(live_app.url, OVERVIEW, "en", artifacts / "20-overview-last7.png")
    page = visit.page
    kpi = page.locator("#overview-kpi-consultations .kpi-value")
    week = format_indian(truth.consultations(warehouse, END - timedelta(days=6), END))
    assert kpi.inner_text() == week

    page.locator(".filter-period .dash-dropdown").click()
    page.locator(".dash-dropdown-options [role=option]:has(input[value='today'])").click()
    page.wait_for_function("() => /[?&]period=today(&|$)/.test(location.search)")
    today = format_indian(truth.consultations(warehouse, END, END))
    page.wait_for_function("([sel, text]) => document.querySelector(sel)?.innerText === text",
                           arg=["#overview-kpi-consultations .kpi-value", today])
    wait_idle(page)
    assert today != week
    assert page.locator("#overview-period").inner_text().endswith("(1 days)") or "(1 day" in \
        page.locator("#overview-period").inner_text()
    page.screenshot(path=str(artifacts / "20-overview-today.png"))

    page.go_back()  # the previous filter is one step back in the history
    page.wait_for_function("() => /[?&]period=last7(&|$)/.test(location.search)")
    page.wait_for_function("([sel, text]) => document.querySelector(sel)?.innerText === text",
                           arg=["#overview-kpi-consultations .kpi-value", week])
    wait_idle(page)
    assert visit.console_errors == [], visit.console_errors


def test_br021_table_export_has_the_rows_of_the_grid(analyst: Sessions, live_app: LiveApp, warehouse: Path,
                                                    artifacts: Path) -> None:
    visit = analyst.visit(DESKTOP, "en")
    visit.open(live_app.url, HUBS, "en", artifacts / "21-hubs.png")
    page = visit.page
    page.wait_for_selector("#hubs-cross .ag-row", state="attached")
    header, shown = grid_table(page, "hubs-cross")
    assert len(shown) == truth.cross_district_spokes(warehouse) > 0

    with page.expect_download() as download_info:
        page.locator("#hubs-cross-export").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename.startswith("arogya_hubs-cross")
    saved = artifacts / download.suggested_filename
    download.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [label for _, label in header]
    kinds = {c.key: c.kind for c in CROSS_COLUMNS}
    assert [[as_shown(value, kinds[col]) for value, (col, _) in zip(row, header, strict=True)] for row in rows[1:]] \
        == shown
    assert visit.console_errors == [], visit.console_errors


def _labels_are(page, lang: str) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("#nav-overview").inner_text() == t("nav.overview", lang)
    assert page.locator("h1").first.inner_text() == t("hubs.title", lang)
    assert page.locator(".filter-period label").inner_text() == t("filter.period", lang)


def test_br022_language_switch_is_remembered(browser, live_app: LiveApp, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
    # Its own account: the switch stores the language on the user, which must not leak into other tests.
    sessions = Sessions(browser, live_app.url, live_app.app, role="district")
    try:
        visit = sessions.visit(DESKTOP, "en")
        visit.open(live_app.url, HUBS, "en", artifacts / "22-hubs-en.png")
        page = visit.page
        _labels_are(page, "en")

        page.locator("#nav-lang").click()
        page.wait_for_function("(text) => document.querySelector('#nav-overview')?.innerText === text",
                               arg=t("nav.overview", "hi"))
        page.wait_for_selector(HUBS.ready, state="attached")
        wait_idle(page)
        _labels_are(page, "hi")
        assert DEVANAGARI.search(page.locator("#hubs-sum-idle7").inner_text())
        page.screenshot(path=str(artifacts / "22-hubs-hi.png"))

        page.reload()
        page.wait_for_selector(HUBS.ready, state="attached")
        _labels_are(page, "hi")

        # A link without ?lang= (a colleague's, a bookmark) opens in the remembered language.
        visit.open(live_app.url, HUBS, "en", artifacts / "22-hubs-remembered.png")
        _labels_are(page, "hi")
        assert visit.console_errors == [], visit.console_errors

        # ... and so does a new browser, once the same person signs in.
        fresh = sessions.new_context(DESKTOP, signed_in=False)
        other = watch(fresh.new_page())
        sign_in_as(other.page, live_app.url, HUBS.path, sessions.account)
        other.page.wait_for_selector(HUBS.ready, state="attached")
        _labels_are(other.page, "hi")

        # Back to English the same way.
        page.locator("#nav-lang").click()
        page.wait_for_function("(text) => document.querySelector('#nav-overview')?.innerText === text",
                               arg=t("nav.overview", "en"))
        page.wait_for_selector(HUBS.ready, state="attached")
        _labels_are(page, "en")
    finally:
        sessions.close()


@pytest.mark.parametrize(("kind", "magic"), [("pdf", b"%PDF-"), ("png", b"\x89PNG\r\n\x1a\n")])
def test_br023_district_review_report_downloads(analyst: Sessions, live_app: LiveApp, artifacts: Path, kind: str,
                                                magic: bytes) -> None:
    visit = analyst.visit(DESKTOP, "en")
    page = visit.page
    if f"/district/{KISHANGANJ}" not in page.url:
        visit.open(live_app.url, DISTRICT, "en", artifacts / "23-district.png")
    link = page.locator(f"#district-report-{kind}")
    assert re.search(rf"/report/district/{KISHANGANJ}\.{kind}\?month=\d{{4}}-\d{{2}}", link.get_attribute("href"))
    with page.expect_download(timeout=90_000) as download_info:
        link.click()
    download = download_info.value
    assert download.failure() is None
    saved = artifacts / download.suggested_filename
    download.save_as(saved)
    assert saved.suffix == f".{kind}"
    body = saved.read_bytes()
    assert body.startswith(magic), body[:40]
    assert len(body) > 10_000  # a real page, not an error message
    assert visit.console_errors == [], visit.console_errors
