"""Print the report page with headless Chromium (Debian's ``chromium``, driven by Playwright; never a downloaded
browser).

Chromium gets no session and no network: the page is loaded from an address that exists only inside the browser
context (``ORIGIN``), whose every request is answered here: the page itself from memory, its stylesheet, script,
plotly.js, fonts and boundary files from disk (``StaticFiles``, a fixed list of files and folders), and anything else
refused. So a report never widens what a signed-in user could already see, and rendering needs no second login.

Each render runs in its own thread (Playwright's sync API must not share a thread with an event loop) with a
deadline; at most ``max_renders`` run at once in a process, later ones wait for a free slot until the deadline.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

Kind = Literal["pdf", "png"]
KINDS: tuple[str, ...] = ("pdf", "png")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ORIGIN = "http://arogya-report.invalid"
DOCUMENT_PATH = "/report/district"
A4_VIEWPORT = {"width": 794, "height": 1123}  # 210 x 297 mm at 96 dpi
PNG_SCALE = 1.5
KILL_GRACE_S = 10.0  # after the deadline, before a hung Chromium is killed
PDF_SCALE = 2  # the map is a picture of a canvas in the PDF: two device pixels per CSS pixel keep it sharp on paper
# Set by the page's script once every figure is drawn and the fonts are loaded (a selector: no eval, so it also
# works under the app's Content Security Policy).
READY_SELECTOR = "html[data-report-ready='1']"
CONTENT_TYPES = {".css": "text/css", ".js": "text/javascript", ".woff2": "font/woff2", ".woff": "font/woff",
                 ".ttf": "font/ttf", ".geojson": "application/geo+json", ".json": "application/json",
                 ".png": "image/png", ".svg": "image/svg+xml"}


class RenderError(Exception):
    """A report that could not be rendered; ``key``/``params`` give the translated message."""

    status = 503

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class ChromiumMissing(RenderError):
    pass


class RenderBusy(RenderError):
    pass


class RenderTimeout(RenderError):
    pass


class RenderFailed(RenderError):
    status = 500


@dataclass(frozen=True)
class StaticFiles:
    """What the page may load, by URL path: single files, and folders under a prefix (no path outside them)."""

    files: Mapping[str, Path]
    folders: Mapping[str, Path] = field(default_factory=dict)

    def resolve(self, path: str) -> Path | None:
        path = unquote(path)
        if path in self.files:
            found = self.files[path]
            return found if found.is_file() else None
        for prefix, folder in self.folders.items():
            if not path.startswith(prefix):
                continue
            base = folder.resolve()
            target = (base / path[len(prefix):]).resolve()
            if target.is_relative_to(base) and target.is_file():
                return target
        return None


def footer_template(text: str) -> str:
    """PDF footer: ``text`` and "page / pages". Chromium draws it outside the page, with system fonts only, so the
    caller passes ASCII text."""
    return ('<div style="font-size:7.5px;width:100%;margin:0 12mm;color:#5c636a;display:flex;'
            'justify-content:space-between;font-family:sans-serif">'
            f'<span>{escape(text)}</span><span><span class="pageNumber"></span> / <span class="totalPages"></span>'
            '</span></div>')


@dataclass
class Renderer:
    executable: str
    timeout_s: int = 45
    max_renders: int = 2
    _slots: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(max(1, self.max_renders))

    def missing(self) -> str | None:
        """Why nothing can be rendered here (no Chromium, or no Playwright), or None."""
        path = Path(self.executable)
        if not path.is_file() or not os.access(path, os.X_OK):
            return f"no Chromium executable at {self.executable}"
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            return "the playwright package is not installed"
        return None

    def render(self, html: str, kind: Kind, static: StaticFiles, footer: str = "") -> bytes:
        """``html`` printed as a PDF (A4) or a full-page PNG. Raises a ``RenderError``."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        problem = self.missing()
        if problem:
            log.warning("district report: %s", problem)
            raise ChromiumMissing("report.error.chromium", path=self.executable)
        deadline = time.monotonic() + self.timeout_s
        if not self._slots.acquire(timeout=self.timeout_s):
            raise RenderBusy("report.error.busy")
        result: dict[str, object] = {}

        def work() -> None:
            try:
                result["data"] = _render(self.executable, html, kind, static, footer, deadline)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
                result["error"] = exc
            finally:
                self._slots.release()

        worker = threading.Thread(target=work, name=f"report-{kind}", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()) + 5.0)
        if worker.is_alive() or _is_timeout(result.get("error")):
            raise RenderTimeout("report.error.timeout", seconds=self.timeout_s)
        if "error" in result:
            log.error("district report: rendering failed", exc_info=result["error"])  # type: ignore[arg-type]
            raise RenderFailed("report.error.failed")
        return result["data"]  # type: ignore[return-value]


def _is_timeout(exc: object) -> bool:
    return exc is not None and type(exc).__name__ == "TimeoutError" and "playwright" in type(exc).__module__


def _remaining_ms(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


def _render(executable: str, html: str, kind: Kind, static: StaticFiles, footer: str, deadline: float) -> bytes:
    from playwright.sync_api import Route, sync_playwright

    body = html.encode("utf-8")

    def answer(route: Route) -> None:
        url = urlsplit(route.request.url)
        if f"{url.scheme}://{url.netloc}" != ORIGIN:
            route.abort("blockedbyclient")
        elif url.path == DOCUMENT_PATH:
            route.fulfill(status=200, body=body, content_type="text/html; charset=utf-8")
        else:
            path = static.resolve(url.path)
            if path is None:
                log.warning("district report: the page asked for %s, which is not served", url.path)
                route.fulfill(status=404, body=b"", content_type="text/plain")
            else:
                route.fulfill(status=200, body=path.read_bytes(),
                              content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"))

    # ignore_cleanup_errors: when the deadline cuts a launch short, the browser may still be writing its profile as
    # the folder is removed; that must not turn the timeout into a different error (the leftovers go below).
    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="arogya-report-",
                                                              ignore_cleanup_errors=True) as profile:
        # A profile folder of its own marks this render's Chromium processes: if the browser hangs past the deadline
        # in a call without a timeout (printing), the watchdog kills exactly those, and the calls here fail.
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()) + KILL_GRACE_S, kill_marked, (profile,))
        watchdog.daemon = True
        watchdog.start()
        context = None
        try:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=executable, args=ARGS, headless=True, timeout=_remaining_ms(deadline),
                viewport=A4_VIEWPORT, device_scale_factor=PNG_SCALE if kind == "png" else PDF_SCALE,
                service_workers="block")
            context.route("**/*", answer)
            page = context.new_page()
            page.set_default_timeout(_remaining_ms(deadline))
            page.goto(ORIGIN + DOCUMENT_PATH, wait_until="load")
            page.wait_for_selector(READY_SELECTOR, state="attached", timeout=_remaining_ms(deadline))
            page.add_style_tag(content=".no-print { display: none !important; }")  # the print view's button
            failed = page.evaluate("() => document.documentElement.getAttribute('data-report-failed')")
            if failed:
                log.warning("district report: %s figure(s) could not be drawn", failed)
            if kind == "pdf":
                page.emulate_media(media="print")
                return page.pdf(format="A4", print_background=True, prefer_css_page_size=True,
                                display_header_footer=True, header_template="<span></span>",
                                footer_template=footer_template(footer))
            return page.screenshot(full_page=True, type="png", timeout=_remaining_ms(deadline))
        finally:
            watchdog.cancel()
            if context is not None:
                context.close()
            else:  # the launch failed or ran out of time: nothing it started outlives the render
                kill_marked(profile)


def kill_marked(profile: str, wait_s: float = 5.0) -> int:
    """Kill the processes started with ``--user-data-dir=<profile>`` (a render's own profile folder, so only the
    Chromium this module started for that render) and wait up to ``wait_s`` until they are dead (so that nothing
    writes into the profile once this returns); returns how many. Linux (/proc)."""
    killed = _marked(profile)
    for pid in killed:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if killed:
        log.error("district report: Chromium hung past the deadline; killed %d process(es)", len(killed))
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and set(_marked(profile)) & set(killed):
            time.sleep(0.02)
    return len(killed)


def _marked(profile: str) -> list[int]:
    """Live processes with ``--user-data-dir=<profile>`` among their arguments (a dead one's are empty)."""
    marker = f"--user-data-dir={profile}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in args:
            found.append(int(entry.name))
    return found
