"""Export and health routes. Exports take the page's query string, so the same filter gives the same rows as the
table on screen; the scope comes from the server (never from the request) and applies to every export."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pandas as pd
from flask import Blueprint, Response, abort, jsonify, request, stream_with_context

from dashboard import audit
from dashboard.api.csvstream import export_filename, stream_csv, stream_rows
from dashboard.auth.roles import EXPORT, EXPORT_LINELIST
from dashboard.auth.session import require
from dashboard.data import chos as chos_tables
from dashboard.data import hubs as hub_tables
from dashboard.data import schemes as scheme_tables
from dashboard.data.linelist import LINELIST_COLUMNS, linelist_batches
from dashboard.data.tables import TABLES as CORE_TABLES
from dashboard.data.tables import district_lgd_param
from dashboard.i18n import t
from dashboard.runtime import current_scope, get_runtime

# Every table a page can export: the core pages' and the hubs, CHO and scheme pages' (issue 4).
TABLES = {**CORE_TABLES, **hub_tables.TABLES, **chos_tables.TABLES, **scheme_tables.TABLES}

log = logging.getLogger(__name__)

blueprint = Blueprint("arogya_api", __name__)


def _csv_response(chunks, filename: str) -> Response:  # type: ignore[no-untyped-def]
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{filename}"; filename*=UTF-8\'\'{quote(filename)}')
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _view():  # type: ignore[no-untyped-def]
    return get_runtime().view("?" + request.query_string.decode("utf-8", "replace"))


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        version = get_runtime().data.data_version()
    except Exception:  # noqa: BLE001
        log.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok", data_version=version), 200


@blueprint.get("/api/export/<name>.csv")
def export_table(name: str) -> Response:
    require(EXPORT)  # the role's export right, checked on the server
    spec = TABLES.get(name)
    if spec is None:
        abort(404)
    view = _view()
    params = dict(view.params)
    if spec.needs_district and district_lgd_param(params) is None:
        abort(400, description="lgd (district LGD code) is required for this table")
    rt = get_runtime()
    frame = spec.build(rt.data, view.filter, current_scope(), params, view.lang)
    named = view.filter.with_(district_lgds=(int(params["lgd"]),)) if spec.needs_district else view.filter
    filename = export_filename(name, named, rt.today())
    audit.export_recorder(name, view.filter, params, filename)(len(frame), True)
    return _csv_response(stream_csv(spec.labels(view.lang, frame), [frame]), filename)


@blueprint.get("/api/export/dictionary/<name>.csv")
def export_dictionary(name: str) -> Response:
    view = _view()
    lang = view.lang
    header = [t("dict.column", lang), t("dict.label", lang), t("dict.description", lang)]
    if name == "linelist":
        rows = pd.DataFrame([(key, key, text) for key, text in LINELIST_COLUMNS])
    elif name in TABLES:
        rows = pd.DataFrame([(c.key, t(c.label, lang), c.description) for c in TABLES[name].columns])
    else:
        abort(404)
    return _csv_response(stream_csv(header, [rows]), f"arogya_{name}_data-dictionary.csv")


@blueprint.get("/api/export/linelist.csv")
def export_linelist() -> Response:
    require(EXPORT_LINELIST)  # one row per consultation: a right of its own (analysts)
    view = _view()
    rt = get_runtime()
    filename = export_filename("consultations", view.filter, rt.today())
    batches = audit.counted(linelist_batches(rt.data, view.filter, current_scope()), len,
                            audit.export_recorder("linelist", view.filter, dict(view.params), filename))
    return _csv_response(stream_rows([name for name, _ in LINELIST_COLUMNS], batches), filename)
