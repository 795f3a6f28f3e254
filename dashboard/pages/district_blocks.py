"""The district page's block boundaries: the upload panel under the map, its callback, and the layer the map draws
(block codes present both in the uploaded file and in ``dim_block``). Imported by the district page, which registers
the callback."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.boundaries import CODE_PROPERTIES, BlockGeoError, stored_blocks, upload_blocks
from dashboard.boundaries.access import audit_change, may_manage_boundaries
from dashboard.data import reference
from dashboard.i18n import format_indian, t
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.geo import geojson_url
from dashboard.ui.states import error

# The upload travels base64-encoded inside a callback request, which the app caps at 2 MB.
MAX_PAGE_UPLOAD_BYTES = 1_500_000


def block_layer(lgd: int) -> tuple[str | None, list[int]]:
    """(URL of the district's uploaded block file with its version, block codes to draw), or (None, [])."""
    rt = get_runtime()
    stored = stored_blocks(rt.settings.geo_dir, lgd)
    if stored is None:
        return None, []
    known = set(reference.blocks(rt.data, current_scope(), (int(lgd),))["block_lgd"].astype(int))
    codes = [code for code in stored.codes if code in known]
    return (geojson_url(stored.name) + f"?v={stored.version}", codes) if codes else (None, [])


def _current(lang: str, lgd: int) -> str:
    _, codes = block_layer(lgd)
    return t("blocks.current", lang, n=format_indian(len(codes))) if codes else t("blocks.none", lang)


def boundary_panel(lang: str, lgd: int) -> html.Div | html.Details:
    """The store the map listens to, and for administrators the upload (collapsed: most visits never upload)."""
    store = dcc.Store(id="district-boundary-version")
    if not may_manage_boundaries():
        return html.Div(store)
    return html.Details([
        html.Summary(t("blocks.title", lang), className="small"),
        dcc.Upload(id="district-boundary-upload", children=html.Div(t("blocks.upload", lang)),
                   accept=".geojson,.json,application/geo+json,application/json", max_size=MAX_PAGE_UPLOAD_BYTES,
                   className="boundary-upload border border-secondary-subtle rounded p-2 my-1 small text-center",
                   style={"cursor": "pointer", "borderStyle": "dashed"}),
        html.Small(t("blocks.hint", lang, names=", ".join(CODE_PROPERTIES)), className="text-muted d-block"),
        html.Div(html.Small(_current(lang, lgd), className="text-muted"), id="district-boundary-status",
                 className="mt-1"),
        store,
    ], id="district-boundary", className="mt-2")


def decode_upload(contents: str) -> bytes:
    """The file from a ``dcc.Upload`` data URL (``data:<type>;base64,<data>``)."""
    _, _, encoded = contents.partition(",")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BlockGeoError("blocks.error.file", 400) from exc


def upload(contents: str | None, filename: str | None, lgd: int | None, search: str | None) -> tuple[Any, Any]:
    """Store the dropped file for the page's district; the new version makes the map redraw."""
    rt = get_runtime()
    view = rt.view(search)
    if not contents or lgd is None:
        return no_update, no_update
    lang = view.lang
    if not may_manage_boundaries():
        return dbc.Alert(t("blocks.error.forbidden", lang), color="danger", className="small mb-0 py-2"), no_update
    try:
        result = upload_blocks(decode_upload(contents), lgd, data=rt.data, scope=current_scope(),
                               geo_dir=rt.settings.geo_dir)
    except BlockGeoError as exc:
        return dbc.Alert(exc.message(lang), color="danger", className="small mb-0 py-2"), no_update
    except Exception as exc:  # noqa: BLE001
        return error(lang, exc, "district.boundary_upload"), no_update
    audit_change("blocks_upload", lgd, blocks=list(result.blocks), via="page")
    lines = [html.Div(t("blocks.uploaded", lang, file=filename or result.path.name,
                        n=format_indian(len(result.blocks))))]
    if result.missing:
        lines.append(html.Div(t("blocks.missing", lang, n=format_indian(len(result.missing)),
                                codes=", ".join(str(c) for c in result.missing))))
    return dbc.Alert(lines, color="success", className="small mb-0 py-2"), result.version


def register_callbacks() -> None:
    """Called by the district page module, which Dash executes once per app (this module is imported only once per
    process, so a decorator here would give the callback to the first app alone)."""
    callback(Output("district-boundary-status", "children"), Output("district-boundary-version", "data"),
             Input("district-boundary-upload", "contents"), State("district-boundary-upload", "filename"),
             State("district-ready", "data"), State("url", "search"), prevent_initial_call=True)(upload)
