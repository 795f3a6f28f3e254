"""The district review report: ``GET /report/district/<lgd>?month=YYYY-MM&lang=en|hi`` is the print view (HTML);
``/report/district/<lgd>.pdf`` and ``.png`` the same page printed by headless Chromium, as a download.

Any signed-in user who may view the dashboard may take the report of a district in her scope (the scope comes from
the server, never from the request); another district answers 404, a malformed or future month 400, a server without
Chromium 503. Every PDF and PNG is recorded in the audit log as an export, the print view as a page view."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from urllib.parse import urlencode

import dash
import plotly
from flask import Blueprint, Response, abort, current_app, jsonify, request, send_file
from markupsafe import escape

from dashboard import audit
from dashboard.auth.roles import VIEW
from dashboard.auth.session import get_auth, require
from dashboard.data.filters import ist_today
from dashboard.i18n import t
from dashboard.report.chromium import KINDS, Renderer, RenderError, StaticFiles
from dashboard.report.content import DistrictNotFound, DistrictReport, assemble
from dashboard.report.month import MonthError, ReportMonth, parse_month
from dashboard.report.page import HERE as REPORT_DIR
from dashboard.report.page import render_html
from dashboard.runtime import current_scope, get_runtime
from etl.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

blueprint = Blueprint("arogya_report", __name__)
EXTENSION = "arogya_report"
STATIC_PREFIX = "/report/static/"
# The report page's own files: its stylesheet and script, and the plotly.js that Dash serves to every page.
STATIC_FILES: dict[str, Path] = {
    "report.css": REPORT_DIR / "static" / "report.css",
    "report.js": REPORT_DIR / "static" / "report.js",
    "plotly.min.js": Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js",
}
MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png"}
_lock = threading.Lock()


def renderer() -> Renderer:
    """This app's renderer (one per app: its render slots are shared by the app's threads)."""
    with _lock:
        found = current_app.extensions.get(EXTENSION)
        if found is None:
            settings = get_runtime().settings
            found = current_app.extensions[EXTENSION] = Renderer(
                settings.report_chromium, settings.report_timeout_s, settings.report_max_renders)
        return found


def chromium_files() -> StaticFiles:
    """What Chromium may load while printing: the report's files, the fonts and the boundary files."""
    return StaticFiles(files={STATIC_PREFIX + name: path for name, path in STATIC_FILES.items()},
                       folders={"/assets/fonts/": PROJECT_ROOT / "assets" / "fonts",
                                "/geo/": get_runtime().settings.geo_dir})


def refuse(status: int, key: str, lang: str, **params: object) -> Response:
    """A readable refusal: JSON for a client that asks for it, else a short page."""
    message = t(key, lang, **params)
    if request.accept_mimetypes.best == "application/json":
        response = jsonify(error=message, code=key, status=status)
    else:
        response = Response(f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
                            f'<title>{status}</title></head><body><h1>{status} · {escape(t("report.title", lang))}'
                            f'</h1><p id="report-error">{escape(message)}</p></body></html>', mimetype="text/html")
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def filename(lgd: int, month: ReportMonth, lang: str, kind: str) -> str:
    return f"arogya_district-report_d{lgd}_{month.code}_{lang}.{kind}"


def _record(action: str, report: DistrictReport, kind: str, **detail: object) -> None:
    principal = require(VIEW)
    audit.record(get_auth().engine, action, username=principal.username, scope=principal.scope,
                 detail={"table": "district-report", "format": kind, "district": report.district_lgd,
                         "month": report.month.code, "lang": report.lang, "path": request.path, **detail})


@blueprint.get(STATIC_PREFIX + "<name>")
def report_static(name: str) -> Response:
    path = STATIC_FILES.get(name)
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, max_age=3600)


@blueprint.get("/report/district/<int:lgd>")
@blueprint.get("/report/district/<int:lgd>.<kind>")
def district_report(lgd: int, kind: str = "html") -> Response:
    require(VIEW)
    if kind != "html" and kind not in KINDS:
        abort(404)
    rt = get_runtime()
    # The language as every page picks it: ?lang=, else the one the user chose last, else English.
    lang = rt.view("?" + urlencode({"lang": request.args.get("lang") or ""})).lang
    today = rt.today()
    try:
        month = parse_month(request.args.get("month"), today)
    except MonthError as exc:
        return refuse(400, exc.key, lang, **exc.params)
    in_browser = kind == "html"
    try:
        report = assemble(rt.data, current_scope(), lgd, month, lang, today=today, geo_dir=rt.settings.geo_dir,
                          geo_prefix=dash.get_relative_path("/geo/") if in_browser else "/geo/")
    except DistrictNotFound:
        return refuse(404, "report.error.district", lang, lgd=lgd)
    generated_on = ist_today()
    if in_browser:
        html = render_html(report, dash.get_relative_path(STATIC_PREFIX), generated_on)
        _record("page_view", report, kind)
        return Response(html, mimetype="text/html")
    name = filename(lgd, month, lang, kind)
    rendered: list[bool] = []

    def render() -> tuple[bytes, bool]:
        rendered.append(True)
        html = render_html(report, STATIC_PREFIX, generated_on)
        return renderer().render(html, kind, chromium_files(),  # type: ignore[arg-type]
                                 footer=f"Arogya - district {lgd} - {month.code}"), True

    try:
        # Kept under the data version (and the scope, the day and the language): the meeting's second download
        # of the same report is a cache read, and concurrent requests for it wait for one render.
        data = rt.data.memoise("district-report", (current_scope(), lgd, month.code, lang, kind, today,
                                                   generated_on), render)
    except RenderError as exc:
        _record("export", report, kind, file=name, complete=False, error=exc.key)
        return refuse(exc.status, exc.key, lang, **exc.params)
    _record("export", report, kind, file=name, complete=True, bytes=len(data), cached=not rendered)
    response = Response(data, mimetype=MEDIA_TYPES[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
