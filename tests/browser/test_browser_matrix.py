"""Every page in a real browser at desktop (1280×800) and phone (390×844) width, in English and in Hindi: it loads
with no console error and no uncaught script error, asks no host but the app's own for anything, shows the chosen
language, and at phone width is no wider than the screen (tables scroll inside their own boxes). A screenshot of
every combination goes to ``test-artifacts/browser/matrix/``. One signed-in context per (width, language) serves
all pages, so the matrix costs page loads, not sign-ins. The eight main pages at desktop width in Hindi are loaded
once, by the first-visit test (br011, in a new browser), which makes every check of the matrix there too: loading
them a second time in a warm browser proved nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from dashboard.i18n import t
from tests.browser.conftest import LiveApp
from tests.browser.matrix import (
    DESKTOP,
    DEVANAGARI,
    LANGS,
    MAIN_PAGES,
    PAGES,
    PHONE,
    SCREENS,
    AppPage,
    Screen,
    Sessions,
    Visit,
    watch,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sessions(browser, live_app: LiveApp) -> Iterator[Sessions]:  # type: ignore[no-untyped-def]
    # An administrator sees every page, the audit log included.
    with Sessions(browser, live_app.url, live_app.app, role="admin") as opened:
        yield opened


@pytest.fixture(scope="module")
def shots(artifacts: Path) -> Path:
    folder = artifacts / "matrix"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _first_visit(screen: Screen, lang: str, target: AppPage) -> bool:
    """Whether br011 makes this combination's load (and every check of br010 on it)."""
    return screen == DESKTOP and lang == "hi" and target in MAIN_PAGES


MATRIX = [pytest.param(screen, lang, target, id=f"{screen.name}-{lang}-{target.name}")
          for screen in SCREENS for lang in LANGS for target in PAGES if not _first_visit(screen, lang, target)]


@pytest.mark.parametrize(("screen", "lang", "target"), MATRIX)
def test_br010_page_loads_cleanly(sessions: Sessions, live_app: LiveApp, shots: Path, screen: Screen, lang: str,
                                  target: AppPage) -> None:
    visit = sessions.visit(screen, lang, signed_in=target.signed_in)
    visit.open(live_app.url, target, lang, shots / f"{target.name}-{screen.name}-{lang}.png")
    check_page(visit, screen, lang, target)


def check_page(visit: Visit, screen: Screen, lang: str, target: AppPage) -> None:
    """No console error, no request to another host, the chosen language, and at phone width no wider than the
    screen."""
    page = visit.page
    assert visit.console_errors == [], f"console errors on {target.name}: {visit.console_errors}"
    assert visit.foreign_requests() == [], f"requests to other hosts: {visit.foreign_requests()}"
    assert page.locator("html").get_attribute("lang") == lang or page.locator(f"[lang='{lang}']").count() > 0
    heading = page.locator("h1").first.inner_text() if page.locator("h1").count() else page.title()
    if lang == "hi":
        assert DEVANAGARI.search(heading), f"the heading is not in Hindi: {heading!r}"
    else:
        assert not DEVANAGARI.search(heading), f"the heading is not in English: {heading!r}"
    if target.signed_in:
        assert page.locator("#nav-overview").inner_text() == t("nav.overview", lang)
    if screen == PHONE:
        overflow = visit.overflow()
        assert overflow["scrollWidth"] <= overflow["width"] + 1, \
            f"{target.name} is {overflow['scrollWidth']} px wide on a {overflow['width']} px screen: {overflow['wide']}"


# The sign-in page links only bootstrap's stylesheet (dashboard/auth/views.py), not assets/arogya.css with the
# @font-face rules, so in Hindi it falls back to whatever Devanagari font the machine has. To remove once it does.
FIRST_LOADS = [pytest.param(p, id=p.name) for p in MAIN_PAGES]


@pytest.mark.parametrize("target", FIRST_LOADS)
def test_br011_full_page_load_asks_only_the_app(sessions: Sessions, live_app: LiveApp, shots: Path,
                                                target: AppPage) -> None:
    """A first visit in a new browser (empty cache), in Hindi so that the Devanagari font is needed too: every
    script, stylesheet, font, map file and callback comes from 127.0.0.1 (``data:`` and ``blob:`` URLs allowed).
    It is also the matrix's desktop/Hindi load of these pages (br010's checks, its screenshot name)."""
    assert _first_visit(DESKTOP, "hi", target)
    visit = watch(sessions.new_context(DESKTOP, signed_in=target.signed_in, lang="hi").new_page())
    visit.open(live_app.url, target, "hi", shots / f"{target.name}-{DESKTOP.name}-hi.png")
    check_page(visit, DESKTOP, "hi", target)
    assert visit.foreign_requests() == [], f"{target.name} asked other hosts: {visit.foreign_requests()}"
    local = [urlsplit(url).path for url in visit.requests if url.startswith(live_app.url)]
    assert any(path.endswith(".css") for path in local)  # the page's own stylesheets were fetched
    if target.signed_in:
        assert any(path.startswith("/_dash-component-suites/") for path in local)  # and Dash's scripts
    assert any(path.startswith("/assets/fonts/") and path.endswith(".woff2") for path in local), \
        "the Devanagari font did not come from the app's own assets"
    assert visit.console_errors == [], visit.console_errors
