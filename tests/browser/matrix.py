"""The pages a browser test visits, the screen sizes and languages it visits them in, and one signed-in browser
context per (size, language) that every test of a module shares: signing in costs a password hash, opening a
context a fresh cache, so both happen once per combination instead of once per page."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.auth_helpers import make_user
from tests.browser.conftest import TIMEOUT_MS, foreign_host
from tests.browser.pages import sign_in_as, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

KISHANGANJ = 203
PERIOD = "period=last7"
DEVANAGARI = re.compile(r"[\u0900-\u097F]")
# Generous: on a shared 2-core machine a cold page can take half a minute. A healthy run never waits this long.
WAIT_MS = 90_000


@dataclass(frozen=True)
class Screen:
    name: str
    width: int
    height: int


DESKTOP = Screen("desktop", 1280, 800)
PHONE = Screen("phone", 390, 844)
SCREENS = (DESKTOP, PHONE)
LANGS = ("en", "hi")


@dataclass(frozen=True)
class AppPage:
    """A page: its path (query string without the language) and the element that shows its data has arrived."""

    name: str
    path: str
    ready: str
    signed_in: bool = True
    opens: str | None = None  # a disclosure to open before looking (the district page's block-boundary panel)

    def url(self, base: str, lang: str) -> str:
        sep = "&" if "?" in self.path else "?"
        return f"{base}{self.path}{sep}lang=hi" if lang == "hi" else f"{base}{self.path}"


PAGES: tuple[AppPage, ...] = (
    AppPage("overview", f"/?{PERIOD}", "#overview-grid .ag-row"),
    AppPage("compare", f"/compare?{PERIOD}&cmp=203,204,205", "#compare-grid .ag-row"),
    AppPage("district-index", f"/district?{PERIOD}", "#district-choose"),
    AppPage("district", f"/district/{KISHANGANJ}?{PERIOD}&links=1", "#district-blocks .ag-row",
            opens="#district-boundary summary"),
    AppPage("hubs", f"/hubs?{PERIOD}", "#hubs-sum-idle7"),
    AppPage("chos", f"/chos?{PERIOD}", "#chos-kpi-silent"),
    AppPage("schemes", f"/schemes?{PERIOD}", "#schemes-laggards-count"),
    AppPage("live", f"/live/{KISHANGANJ}", "#live-table .ag-row"),
    AppPage("live-index", "/live", "#live-districts table, #live-districts .ag-row"),
    AppPage("admin-audit", "/admin/audit", "#admin-audit-grid .ag-row"),
    AppPage("sign-in", "/login", "#login-form", signed_in=False),
)
MAIN_PAGES = tuple(p for p in PAGES if p.name in ("overview", "compare", "district", "hubs", "chos", "schemes",
                                                   "live", "sign-in"))

# Everything wider than the viewport, outermost first, for a readable failure.
OVERFLOW_JS = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      const scrolls = ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX);
      if (scrolls && p.getBoundingClientRect().right <= width + 1) {
        clipped = true; break;
      }
    }
    if (clipped || wide.some((w) => w.el.contains(el))) continue;
    wide.push({el, text: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')}`
      + ` right=${Math.round(box.right)}`});
  }
  return {scrollWidth: document.scrollingElement.scrollWidth, width, wide: wide.slice(0, 8).map((w) => w.text)};
}"""


@dataclass
class Visit:
    """A browser tab in one (screen, language) context, with what it logged and requested since the last reset."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.console_errors.clear()
        self.requests.clear()

    def open(self, base: str, target: AppPage, lang: str, shot: Path) -> None:
        """Load ``target`` and wait until its data is on screen and nothing is loading any more; then a full-page
        screenshot to ``shot`` (also when the wait fails, to show how far the page got)."""
        self.reset()
        try:
            self.page.goto(target.url(base, lang), wait_until="domcontentloaded")
            self.page.wait_for_selector(target.ready, state="attached")
            wait_idle(self.page)
            if target.opens and self.page.locator(target.opens).count():  # only some roles have it
                self.page.locator(target.opens).click()
        finally:
            self.page.screenshot(path=str(shot), full_page=True)

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if foreign_host(url)]

    def overflow(self) -> dict[str, Any]:
        return self.page.evaluate(OVERFLOW_JS)


def watch(page: Page) -> Visit:
    visit = Visit(page=page)
    page.on("console", lambda message: visit.console_errors.append(message.text) if message.type == "error"
            else None)
    page.on("pageerror", lambda exc: visit.console_errors.append(f"uncaught: {exc}"))
    page.on("request", lambda request: visit.requests.append(request.url))
    return visit


class Sessions:
    """Browser contexts of one module, keyed by (screen, language, signed in), opened on first use. The account
    signs in once; every other context starts from its cookies."""

    def __init__(self, browser: Browser, base: str, app: Any, role: str) -> None:
        self.browser, self.base, self.app, self.role = browser, base, app, role
        self._state: dict[str, Any] | None = None
        self.account: tuple[str, str] = ("", "")
        self._visits: dict[tuple[str, str, bool], Visit] = {}
        self._contexts: list[BrowserContext] = []

    def new_context(self, screen: Screen, *, signed_in: bool = True, lang: str = "en") -> BrowserContext:
        state = self._signed_in_state() if signed_in else None
        context = self.browser.new_context(viewport={"width": screen.width, "height": screen.height},
                                           accept_downloads=True, service_workers="block", storage_state=state,
                                           locale="hi-IN" if lang == "hi" else "en-IN")
        context.set_default_timeout(WAIT_MS)
        self._contexts.append(context)
        return context

    def visit(self, screen: Screen, lang: str, signed_in: bool = True) -> Visit:
        key = (screen.name, lang, signed_in)
        if key not in self._visits:
            self._visits[key] = watch(self.new_context(screen, signed_in=signed_in, lang=lang).new_page())
        return self._visits[key]

    def _signed_in_state(self) -> dict[str, Any]:
        if self._state is None:
            context = self.browser.new_context(service_workers="block")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            self.account = make_user(self.app, role=self.role)
            sign_in_as(page, self.base, "/", self.account)
            self._state = context.storage_state()
            context.close()
        return self._state

    def close(self) -> None:
        for context in self._contexts:
            context.close()

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def number_in(text: str, pattern: str = r"([\d,]+)") -> int:
    """The first number in ``text`` (Indian or international grouping)."""
    match = re.search(pattern, text)
    assert match, f"no number in {text!r}"
    return int(match.group(1).replace(",", ""))
