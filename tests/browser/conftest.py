"""Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright for Python) against the real app on
127.0.0.1, over a warehouse built by the real demo.

The demo (``arogya demo --scale small --days 7``, see ``demo_build``) is built once per session, in the background
from the end of collection on. The app runs in a werkzeug server thread on a free port; its geo folder is a temporary
copy of ``data/geo`` (an upload never touches the repository). Playwright never downloads a browser: it launches the
system one. Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from etl.settings import PROJECT_ROOT, Settings
from tests.browser.demo_build import END_DATE, DemoBuild

CHROMIUM = Path(os.environ.get("AROGYA_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HOST = "127.0.0.1"
ARTIFACTS = Path(os.environ.get("AROGYA_TEST_ARTIFACTS", PROJECT_ROOT / "test-artifacts")) / "browser"
TIMEOUT_MS = 30_000

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None  # type: ignore[assignment]


_BUILD: DemoBuild | None = None
HERE = Path(__file__).resolve().parent


def _missing() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed (pip install -e '.[test]' with PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1)"
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)"
    return None


def _is_browser_test(item: pytest.Item) -> bool:
    return HERE in item.path.resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every test of this folder, with the reason, when the browser or its driver is missing."""
    reason = _missing()
    if reason:
        for item in items:
            if _is_browser_test(item):
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the demo build now when a browser test will run: it overlaps the tests that run before them."""
    global _BUILD
    if _BUILD is not None or session.config.option.collectonly or os.environ.get("AROGYA_TEST_DEMO_DIR"):
        return
    if _missing() is None and any(_is_browser_test(item) for item in session.items):
        _BUILD = DemoBuild.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _BUILD is not None:
        _BUILD.cleanup()


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    """The demo's data folder (the build started at the end of collection). Set ``AROGYA_TEST_DEMO_DIR`` to a data
    folder built by the same command to skip the build while working on a test."""
    reuse = os.environ.get("AROGYA_TEST_DEMO_DIR")
    if reuse:
        return Path(reuse)
    global _BUILD
    if _BUILD is None:
        _BUILD = DemoBuild.start()
    folder = _BUILD.wait()
    print(f"\n[browser] demo ready {_BUILD.seconds():.1f} s after its build started")
    return folder


@dataclass
class LiveApp:
    url: str
    app: Any
    geo_dir: Path


@pytest.fixture(scope="session")
def warehouse(demo_dir: Path) -> Path:
    """The demo's SQLite warehouse, for tests that compute expected numbers with their own SQL."""
    return demo_dir / "arogya.sqlite"


@pytest.fixture(scope="session")
def live_app(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    from werkzeug.serving import make_server

    from dashboard.app_factory import create_app

    geo_dir = tmp_path_factory.mktemp("browser-geo")
    for path in (PROJECT_ROOT / "data" / "geo").iterdir():
        if path.is_file() and not path.name.startswith("blocks_"):
            shutil.copy(path, geo_dir / path.name)
    settings = Settings(data_dir=demo_dir, database_url=f"sqlite:///{demo_dir / 'arogya.sqlite'}",
                        landing_dir=demo_dir / "landing", geo_dir=geo_dir, today=END_DATE, cache_url="",
                        secret_key="browser-test-" + "k" * 40, quiet=True)
    app = create_app(settings)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns a failure's report
    server = make_server(HOST, 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield LiveApp(url=f"http://{HOST}:{server.server_port}", app=app, geo_dir=geo_dir)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: Playwright's sync API runs an event loop while it is open, and other test modules that start
    # their own Playwright (e.g. the CSP check) cannot while this one is still running.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def foreign_host(url: str) -> str | None:
    """The host a request goes to when it is not 127.0.0.1 (``blob:`` URLs carry their origin inside)."""
    if url.startswith(("data:", "about:")):
        return None
    parts = urlsplit(url[5:] if url.startswith("blob:") else url)
    return None if parts.hostname == HOST else (parts.hostname or url[:80])


@dataclass
class Watched:
    """A page with everything it logged and requested, to check after each step."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if foreign_host(url)]

    def check_clean(self, step: str) -> None:
        assert self.console_errors == [], f"console errors on {step}: {self.console_errors}"
        assert self.foreign_requests() == [], f"requests to other hosts on {step}: {self.foreign_requests()}"


@pytest.fixture()
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True,
                                  service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    result = Watched(page=page)
    page.on("console", lambda message: result.console_errors.append(message.text) if message.type == "error"
            else None)
    page.on("pageerror", lambda exc: result.console_errors.append(f"uncaught: {exc}"))
    page.on("request", lambda request: result.requests.append(request.url))
    try:
        yield result
    finally:
        context.close()
