"""Issue 4's browser check: the hubs, CHO and scheme pages show the demo's numbers. Each count on screen (idle
spokes for 7 and 30 days, spokes assigned to a hub in another district, silent CHOs, centres lagging on a scheme
target) must equal the count computed here with plain SQL over the demo's warehouse (``ground_truth``), and the
cross-district spokes also the generator's own list of them (``demo_truth.json``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser import ground_truth as truth
from tests.browser.conftest import END_DATE, LiveApp
from tests.browser.matrix import DESKTOP, PAGES, Sessions, number_in

pytestmark = pytest.mark.browser

END = date.fromisoformat(END_DATE)
START = END - timedelta(days=6)  # the pages are opened with period=last7
BY_NAME = {p.name: p for p in PAGES}


@pytest.fixture(scope="module")
def viewer(browser, live_app: LiveApp) -> Iterator[Sessions]:  # type: ignore[no-untyped-def]
    with Sessions(browser, live_app.url, live_app.app, role="state") as opened:
        yield opened


def test_br030_hubs_page_counts_idle_and_cross_district_spokes(viewer: Sessions, live_app: LiveApp, warehouse: Path,
                                                               demo_dir: Path, artifacts: Path) -> None:
    visit = viewer.visit(DESKTOP, "en")
    visit.open(live_app.url, BY_NAME["hubs"], "en", artifacts / "30-hubs.png")
    page = visit.page
    shown = {key: number_in(page.locator(f"#hubs-sum-{key}").inner_text())
             for key in ("idle7", "idle30", "cross")}
    expected = {"idle7": truth.idle_spokes(warehouse, END, 7), "idle30": truth.idle_spokes(warehouse, END, 30),
                "cross": truth.cross_district_spokes(warehouse)}
    assert shown == expected
    generated = json.loads((demo_dir / "demo_truth.json").read_text(encoding="utf-8"))
    assert shown["cross"] == len(generated["facilities"]["cross_district_spokes"]) > 0
    assert expected["idle7"] > 0 and expected["idle30"] > 0  # the demo has idle spokes, so the check can fail
    assert visit.console_errors == [], visit.console_errors


def test_br031_chos_page_counts_silent_chos(viewer: Sessions, live_app: LiveApp, warehouse: Path,
                                            artifacts: Path) -> None:
    visit = viewer.visit(DESKTOP, "en")
    visit.open(live_app.url, BY_NAME["chos"], "en", artifacts / "31-chos.png")
    shown = number_in(visit.page.locator("#chos-kpi-silent .kpi-value").inner_text())
    assert shown == truth.silent_chos(warehouse, END) > 0
    assert visit.console_errors == [], visit.console_errors


def test_br032_schemes_page_counts_lagging_centres(viewer: Sessions, live_app: LiveApp, warehouse: Path,
                                                   artifacts: Path) -> None:
    visit = viewer.visit(DESKTOP, "en")
    visit.open(live_app.url, BY_NAME["schemes"], "en", artifacts / "32-schemes.png")
    text = visit.page.locator("#schemes-laggards-count").inner_text()
    lagging, with_target = truth.lagging_centres(warehouse, START, END, "ABHA_CREATED")
    assert (number_in(text), number_in(text, r"of ([\d,]+) centres")) == (lagging, with_target)
    assert 0 < lagging < with_target
    assert visit.console_errors == [], visit.console_errors
