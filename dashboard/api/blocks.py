"""Block polygon upload: ``POST /api/blocks/geojson?district=<LGD>`` with the GeoJSON as the request body
(Content-Type ``application/geo+json`` or ``application/json``); ``DELETE`` with the same query removes the file.

Answers JSON: 201 with the stored blocks, or a 4xx with ``error`` (a readable message, ``lang`` picks English or
Hindi) and ``code`` (the message key). A JSON body cannot be posted by a plain cross-site form, and the district must
be in the caller's scope (from the server, never from the request). Administrators only."""

from __future__ import annotations

from flask import Response, jsonify, request

from dashboard.api.routes import blueprint
from dashboard.boundaries import BlockGeoError, remove_blocks, upload_blocks
from dashboard.boundaries.access import audit_change, may_manage_boundaries
from dashboard.i18n import normalise_lang, t
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.geo import geojson_url

JSON_TYPES = ("application/geo+json", "application/json")
# Larger than the app-wide request limit: a district's block file at full resolution can run to megabytes.
MAX_UPLOAD_BYTES = 16 * 1024 * 1024


def _lang() -> str:
    return normalise_lang(request.args.get("lang"))


def _refuse(key: str, status: int, **params: object) -> tuple[Response, int]:
    return jsonify(error=t(key, _lang(), **params), code=key), status


def _district() -> int | None:
    raw = (request.args.get("district") or request.args.get("lgd") or "").strip()
    return int(raw) if raw.isdigit() else None


@blueprint.post("/api/blocks/geojson")
def upload_block_geojson() -> tuple[Response, int]:
    if not may_manage_boundaries():
        return _refuse("blocks.error.forbidden", 403)
    district = _district()
    if district is None:
        return _refuse("blocks.error.no_district", 400)
    if request.mimetype not in JSON_TYPES:
        return _refuse("blocks.error.content_type", 415)
    request.max_content_length = MAX_UPLOAD_BYTES
    rt = get_runtime()
    try:
        result = upload_blocks(request.get_data(cache=False), district, data=rt.data, scope=current_scope(),
                               geo_dir=rt.settings.geo_dir)
    except BlockGeoError as exc:
        return jsonify(error=exc.message(_lang()), code=exc.key), exc.status
    audit_change("blocks_upload", district, blocks=list(result.blocks), via="api")
    return jsonify(status="ok", district=result.district_lgd, blocks=list(result.blocks),
                   missing=list(result.missing), vertices_in=result.vertices_in, vertices_out=result.vertices_out,
                   url=geojson_url(result.path.name) + f"?v={result.version}"), 201


@blueprint.delete("/api/blocks/geojson")
def delete_block_geojson() -> tuple[Response, int]:
    if not may_manage_boundaries():
        return _refuse("blocks.error.forbidden", 403)
    district = _district()
    if district is None:
        return _refuse("blocks.error.no_district", 400)
    if not current_scope().allows(district):
        return _refuse("blocks.error.district", 404, lgd=district)
    if not remove_blocks(get_runtime().settings.geo_dir, district):
        return _refuse("blocks.error.none", 404, lgd=district)
    audit_change("blocks_remove", district, via="api")
    return jsonify(status="removed", district=district), 200
