"""The Content Security Policy in a real browser: the sign-in page and the overview render in headless Chromium with
no CSP violation (and no page error), so the policy needs neither 'unsafe-inline' nor 'unsafe-eval' for scripts.
A control run with the inline-script hashes removed shows that violations are caught. Skipped without Chromium or
Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from dashboard.app_factory import create_app
from tests.auth_helpers import make_user
from tests.fixtures.warehouse_factory import build_warehouse, reader_engine
from tests.integration.test_dash_callbacks import AUGUST

CHROMIUM = Path(os.environ.get("AROGYA_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.skipif(sync_playwright is None or not CHROMIUM.is_file(),
                                reason="needs Playwright and Chromium at /usr/bin/chromium")

REPORT = """document.addEventListener('securitypolicyviolation', e => console.error(
    'CSP-VIOLATION ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));"""


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, Any]]:  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path_factory.mktemp("sec-browser"))
    app = create_app(wh.settings, engine=reader_engine(wh), auth_engine=wh.engine)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()
    wh.drop()


def visit(base: str, app: Any, paths: list[str]) -> tuple[list[str], list[str]]:
    """Sign in through the form, open ``paths``; returns (console errors, page errors)."""
    name, password = make_user(app, role="analyst")
    errors: list[str] = []
    crashes: list[str] = []
    with sync_playwright() as p:  # type: ignore[misc]
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: crashes.append(str(e)))
            page.add_init_script(REPORT)
            page.goto(base + "/")
            page.wait_for_selector("#login-form")
            page.fill("#username", name)
            page.fill("#password", password)
            page.click("#login-submit")
            page.wait_for_selector("#navbar", timeout=30_000)
            for path in paths:
                page.goto(base + path)
                page.wait_for_selector("#navbar", timeout=30_000)
                page.wait_for_selector("#overview-grid .ag-row", timeout=30_000)
                page.wait_for_timeout(1500)
        finally:
            browser.close()
    return errors, crashes


def test_sec401_login_and_overview_render_without_csp_violations(served):  # type: ignore[no-untyped-def]
    base, app = served
    errors, crashes = visit(base, app, ["/" + AUGUST])
    assert not [e for e in errors if "CSP-VIOLATION" in e or "Content Security Policy" in e], errors
    assert not crashes, crashes


def test_sec402_violations_would_be_seen(served, monkeypatch):  # type: ignore[no-untyped-def]
    """Control: without the hashes of Dash's inline scripts the same visit reports violations."""
    import dashboard.security as security

    original = security.content_security_policy
    monkeypatch.setattr(security, "content_security_policy",
                        lambda hashes, production: original([], production=production))
    base, app = served
    name, password = make_user(app)
    errors: list[str] = []
    with sync_playwright() as p:  # type: ignore[misc]
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.add_init_script(REPORT)
            page.goto(base + "/login")
            page.fill("#username", name)
            page.fill("#password", password)
            page.click("#login-submit")
            page.wait_for_timeout(2000)
        finally:
            browser.close()
    assert any("CSP-VIOLATION script-src" in e for e in errors), errors
