"""The OpenAPI 3 document of the status API, and the JSON-level checks the API runs with the very same schema.

The event schema is built from the status contract (``etl.contracts.catalog.STATUS``: field names, required fields,
descriptions, kinds) and from the warehouse columns (string lengths), so the document, the API's checks and the file
loader cannot drift apart. The API checks a request in two steps: first this schema (JSON types, lengths, required
and unknown properties), then the contract's rules shared with file loads (timestamps, the facility master, the
5-minute future limit, duplicates).
"""

from __future__ import annotations

import math
from typing import Any

from etl.contracts.base import Kind
from etl.contracts.catalog import STATUS
from etl.warehouse.schema import STATUS_KINDS, fact_status_event

API_VERSION = "1.0.0"
MAX_EVENTS = 1000
MAX_BODY_BYTES = 1_000_000
MAX_DOCTORS = 10_000
MAX_QUEUE = 100_000

_INT_LIMITS = {"doctors_online": MAX_DOCTORS, "queue_length": MAX_QUEUE}
_EXAMPLE = {
    "event_id": "HUB-0042-20250831T101500", "facility_id": "HUB-0042", "event_time": "2025-08-31T10:15:00+05:30",
    "kind": "heartbeat", "doctors_online": 3, "queue_length": 7, "connectivity": "4G",
}


def _max_length(name: str) -> int | None:
    column = fact_status_event.c.get(name)
    return getattr(column.type, "length", None) if column is not None else None


def event_schema() -> dict[str, Any]:
    """JSON Schema (OpenAPI 3.0 dialect) of one status event."""
    properties: dict[str, Any] = {}
    for f in STATUS.fields:
        prop: dict[str, Any]
        if f.kind is Kind.INT:
            prop = {"type": "integer", "minimum": 0, "maximum": _INT_LIMITS.get(f.name, 2**31 - 1)}
        elif f.kind is Kind.CHOICE:
            prop = {"type": "string", "enum": list(STATUS_KINDS)}
        else:
            prop = {"type": "string"}
            if f.required:
                prop["minLength"] = 1
            length = _max_length(f.name) if f.kind is not Kind.DATETIME else 40
            if length:
                prop["maxLength"] = length
        if not f.required:
            prop["nullable"] = True
        description = f.description
        if f.kind is Kind.DATETIME:
            description += (" ISO 8601, e.g. 2025-08-31T10:15:00+05:30; an offset is converted to IST, a time "
                            "without one is read as IST (dd-mm-yyyy HH:MM is accepted too).")
        prop["description"] = description.strip()
        properties[f.name] = prop
    return {
        "type": "object",
        "description": STATUS.description,
        "required": list(STATUS.required),
        "properties": properties,
        "additionalProperties": False,
        "example": _EXAMPLE,
    }


def _batch(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": "#/components/schemas/StatusEvent"}, "minItems": 1,
            "maxItems": MAX_EVENTS, "description": description}


def _error(description: str, example_code: str, example_message: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"},
        "example": {"error": example_code, "message": example_message}}}}


def document(server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.0.3 document served at ``/api/v1/openapi.json``."""
    batch_note = f"at most {MAX_EVENTS} events and {MAX_BODY_BYTES:,} bytes per request"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Arogya status API",
            "version": API_VERSION,
            "description": (
                "Hub and spoke software posts status events (heartbeats, session start and end, outages, "
                "recoveries) so the live board shows who is serving right now. Events follow the same contract as "
                "status files loaded by the ETL. Posting is idempotent by event_id: an event already stored is "
                "counted as a duplicate and changes nothing. A batch is all-or-nothing unless partial=true."),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/api/v1/status": {
                "post": {
                    "operationId": "postStatus",
                    "summary": "Post one status event or a batch",
                    "description": (
                        f"The body is one event, a JSON array of events, or {{\"events\": [...]}} ({batch_note}). "
                        "A token bound to a facility may post only that facility's events. Each token may make "
                        "rate_limit_per_minute requests a minute (default 600, with a burst of as many)."),
                    "parameters": [{
                        "name": "partial", "in": "query", "required": False,
                        "schema": {"type": "boolean", "default": False},
                        "description": "Store the valid events of a batch and list the rejected ones, instead of "
                                       "rejecting the whole batch when any event is invalid.",
                    }],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/StatusEvent"},
                            _batch("A batch of events."),
                            {"type": "object", "required": ["events"], "additionalProperties": False,
                             "properties": {"events": _batch("A batch of events.")}},
                        ]}, "example": [_EXAMPLE]}}},
                    "responses": {
                        "200": {"description": "Stored (duplicates ignored).", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/IngestResult"},
                            "example": {"received": 1, "accepted": 1, "duplicates": 0, "rejected": []}}}},
                        "400": _error("The body is not valid JSON (or not UTF-8).", "malformed_json",
                                      "the body is not valid JSON: Expecting value (line 1, column 1)"),
                        "401": _error("No bearer token, an unknown one or a revoked one.", "unauthorized",
                                      "this token has been revoked"),
                        "403": _error("A facility-bound token posted another facility's event.", "forbidden",
                                      "this token may post only events of facility HUB-0042"),
                        "405": _error("Any method but POST.", "method_not_allowed", "use POST"),
                        "413": _error(f"Too large: {batch_note}.", "too_large",
                                      f"at most {MAX_EVENTS} events per request"),
                        "415": _error("A content type other than JSON.", "unsupported_media_type",
                                      "send Content-Type: application/json"),
                        "422": _error("Well-formed JSON that breaks the schema or the contract (wrong types, "
                                      "unknown facility, time more than 5 minutes in the future...); nothing is "
                                      "stored unless partial=true. `errors` lists every problem.",
                                      "invalid_events", "1 of 1 events is invalid; nothing was stored"),
                        "429": {**_error("The token's rate limit is exhausted; retry after Retry-After seconds.",
                                         "rate_limited", "too many requests; retry in 2 s"),
                                "headers": {"Retry-After": {"schema": {"type": "integer"},
                                                            "description": "Seconds to wait."}}},
                        "503": {**_error("The warehouse stayed busy (or unreachable) beyond the retries; nothing "
                                         "was stored, retry after Retry-After seconds.", "busy",
                                         "the warehouse is busy; retry in 5 s"),
                                "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
                    },
                },
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi", "summary": "This document", "security": [],
                    "responses": {"200": {"description": "The OpenAPI document.",
                                          "content": {"application/json": {"schema": {"type": "object"}}}}},
                },
            },
        },
        "components": {
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A token from `arogya tokens create --name NAME [--facility ID]`."}},
            "schemas": {
                "StatusEvent": event_schema(),
                "IngestResult": {
                    "type": "object", "required": ["received", "accepted", "duplicates", "rejected"],
                    "properties": {
                        "received": {"type": "integer", "description": "Events in the request."},
                        "accepted": {"type": "integer", "description": "Events stored now."},
                        "duplicates": {"type": "integer",
                                       "description": "Events whose event_id was stored before (or repeated "
                                                      "identically in the request): ignored."},
                        "rejected": {"type": "array", "items": {"$ref": "#/components/schemas/EventError"},
                                     "description": "Only with partial=true: the events not stored and why."},
                    },
                },
                "EventError": {
                    "type": "object", "required": ["index", "code", "message"],
                    "properties": {
                        "index": {"type": "integer", "description": "Position in the batch (0-based)."},
                        "event_id": {"type": "string", "nullable": True},
                        "field": {"type": "string", "nullable": True},
                        "code": {"type": "string", "description": "e.g. bad_type, missing_field, unknown_field, "
                                                                  "unknown_facility, time_in_future, bad_value."},
                        "message": {"type": "string"},
                    },
                },
                "Error": {
                    "type": "object", "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"}, "message": {"type": "string"},
                        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/EventError"}},
                    },
                },
            },
        },
    }


# ---------------------------------------------------------------------------- checks with the same schema

_TYPE_WORDS = {"string": "a string", "integer": "a whole number", "object": "a JSON object"}


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    raise ValueError(kind)  # pragma: no cover - the schema uses only these


def check_event(item: Any, schema: dict[str, Any] | None = None) -> list[tuple[str | None, str, str]]:
    """Problems of one event against the schema, as (field, code, message); empty when it conforms."""
    schema = schema or EVENT_SCHEMA
    if not isinstance(item, dict):
        return [(None, "not_an_object", f"an event must be a JSON object, not {_json_type(item)}")]
    problems: list[tuple[str | None, str, str]] = []
    properties: dict[str, Any] = schema["properties"]
    for name in schema["required"]:
        if name not in item or item[name] is None:
            problems.append((name, "missing_field", f"{name} is required"))
    for name in sorted(set(item) - set(properties)):
        problems.append((str(name)[:60], "unknown_field",
                         f"unknown field {str(name)[:60]!r}; accepted: {', '.join(properties)}"))
    for name, prop in properties.items():
        if name not in item or item[name] is None:
            continue
        value = item[name]
        if not _type_ok(value, prop["type"]):
            problems.append((name, "bad_type", f"{name} must be {_TYPE_WORDS[prop['type']]}"
                                               f"{' or null' if prop.get('nullable') else ''}, "
                                               f"not {_json_type(value)}"))
            continue
        if "enum" in prop and value not in prop["enum"]:
            problems.append((name, "bad_value", f"{name} must be one of {', '.join(prop['enum'])}, "
                                                f"not {str(value)[:40]!r}"))
        if prop["type"] == "string":
            if len(value) < prop.get("minLength", 0):
                problems.append((name, "missing_field", f"{name} must not be empty"))
            if len(value) > prop.get("maxLength", math.inf):
                problems.append((name, "too_long", f"{name} must be at most {prop['maxLength']} characters"))
        if prop["type"] == "integer":
            if value < prop.get("minimum", -math.inf):
                problems.append((name, "negative_value", f"{name} must not be negative"))
            elif value > prop.get("maximum", math.inf):
                problems.append((name, "out_of_range", f"{name} must be at most {prop['maximum']:,}"))
    return problems


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number with a fraction" if math.isfinite(value) and value % 1 else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


EVENT_SCHEMA = event_schema()
