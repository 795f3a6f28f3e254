"""The status ingest API through Flask: storing, idempotency, tokens, every bad request's 4xx, rate limits, the
OpenAPI document. On SQLite and, when AROGYA_TEST_DATABASE_URL is set, on PostgreSQL."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dashboard.api import openapi
from dashboard.api.tokens import revoke_token
from etl.transform.context import now_ist
from etl.warehouse.schema import api_token, current_status, data_version, fact_status_event
from tests.fixtures.live import auth, event, iso, live_app, token

PG_URL = os.environ.get("AROGYA_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("AROGYA_TEST_CACHE_URL", "")
BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=[pytest.mark.postgres,
                         pytest.mark.skipif(not PG_URL, reason="AROGYA_TEST_DATABASE_URL not set")])]
URL = "/api/v1/status"


@pytest.fixture(scope="module", params=BACKENDS)
def live(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    app, wh = live_app(tmp_path_factory.mktemp(request.param), PG_URL if request.param == "postgres" else None)
    yield app, wh
    app.server.extensions["arogya_alerts"].wait()
    wh.drop()


@pytest.fixture()
def client(live):  # type: ignore[no-untyped-def]
    return live[0].server.test_client()


@pytest.fixture(scope="module")
def tok(live):  # type: ignore[no-untyped-def]
    return token(live[1])


def stored(wh, *ids: str) -> int:  # type: ignore[no-untyped-def]
    with wh.engine.connect() as conn:
        if not ids:
            return int(conn.execute(select(func.count()).select_from(fact_status_event)).scalar())
        return int(conn.execute(select(func.count()).select_from(fact_status_event).where(
            fact_status_event.c.event_id.in_(ids))).scalar())


def test_live101_one_event_a_batch_and_the_events_form(live, client, tok):  # type: ignore[no-untyped-def]
    app, wh = live
    one = event("H1", doctors=3, queue=4)
    reply = client.post(URL, json=one, headers=auth(tok))
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json() == {"received": 1, "accepted": 1, "duplicates": 0, "rejected": []}
    batch = [event("S1"), event("S2"), event("H2")]
    assert client.post(URL, json=batch, headers=auth(tok)).get_json()["accepted"] == 3
    wrapped = {"events": [event("S3"), event("S4")]}
    assert client.post(URL, json=wrapped, headers=auth(tok)).get_json()["accepted"] == 2
    assert stored(wh, one["event_id"], *(e["event_id"] for e in batch + wrapped["events"])) == 6
    with wh.engine.connect() as conn:
        row = conn.execute(select(current_status).where(current_status.c.facility_id == "H1")).one()
        source = conn.execute(select(fact_status_event.c.source).where(
            fact_status_event.c.event_id == one["event_id"])).scalar()
    assert (row.event_id, row.doctors_online, row.queue_length, row.kind) == (one["event_id"], 3, 4, "heartbeat")
    assert source.startswith("api:") and "integration" in source


def test_live102_duplicates_are_ignored(live, client, tok):  # type: ignore[no-untyped-def]
    _, wh = live
    batch = [event("H1"), event("S1")]
    assert client.post(URL, json=batch, headers=auth(tok)).get_json()["accepted"] == 2
    again = client.post(URL, json=batch + [event("S2")], headers=auth(tok))
    assert again.status_code == 200
    assert again.get_json() == {"received": 3, "accepted": 1, "duplicates": 2, "rejected": []}
    # The same event twice in one request is a duplicate too, not an error; a different event under a used id is.
    twice = event("S3")
    body = client.post(URL, json=[twice, twice], headers=auth(tok)).get_json()
    assert (body["accepted"], body["duplicates"]) == (1, 1)
    clash = client.post(URL, json=[event("S4", event_id="X-1"), event("S4", event_id="X-1", queue=9)],
                        headers=auth(tok))
    assert clash.status_code == 422 and clash.get_json()["errors"][0]["code"] == "duplicate_in_file"
    assert stored(wh, "X-1") == 0


def test_live103_an_older_event_does_not_move_the_current_status(live, client, tok):  # type: ignore[no-untyped-def]
    _, wh = live
    new, old = event("H2", queue=7), event("H2", minutes_ago=30, queue=1)
    assert client.post(URL, json=new, headers=auth(tok)).status_code == 200
    assert client.post(URL, json=old, headers=auth(tok)).status_code == 200
    with wh.engine.connect() as conn:
        assert conn.execute(select(current_status.c.event_id).where(
            current_status.c.facility_id == "H2")).scalar() == new["event_id"]


def _post(client, body, headers, content_type="application/json"):  # type: ignore[no-untyped-def]
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(URL, data=data, headers={**headers, "Content-Type": content_type})


def bad_requests(tok: str, revoked: str, bound: str) -> list[tuple[str, object, dict, str, int, str]]:
    good = auth(tok)
    future = iso(now_ist() + timedelta(minutes=10))
    return [
        ("malformed JSON", b'{"event_id": "x",', good, "application/json", 400, "malformed_json"),
        ("empty body", b"", good, "application/json", 400, "malformed_json"),
        ("not UTF-8", b'{"event_id": "\xff"}', good, "application/json", 400, "malformed_json"),
        ("NaN", b'{"event_id": "x", "queue_length": NaN}', good, "application/json", 400, "malformed_json"),
        ("form body", b"event_id=x", good, "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("a number", b"42", good, "application/json", 422, "invalid_body"),
        ("empty batch", b"[]", good, "application/json", 422, "invalid_body"),
        ("events not a list", {"events": {"a": 1}}, good, "application/json", 422, "invalid_body"),
        ("wrong type", event(queue="3"), good, "application/json", 422, "invalid_events"),
        ("fraction", event(doctors=1.5), good, "application/json", 422, "invalid_events"),
        ("missing field", {k: v for k, v in event().items() if k != "event_time"}, good, "application/json", 422,
         "invalid_events"),
        ("unknown kind", event(kind="party"), good, "application/json", 422, "invalid_events"),
        ("unknown field", event(colour="red"), good, "application/json", 422, "invalid_events"),
        ("unknown facility", event("NOWHERE"), good, "application/json", 422, "invalid_events"),
        ("unreadable time", event(event_time="yesterday-ish"), good, "application/json", 422, "invalid_events"),
        ("time in the future", event(event_time=future), good, "application/json", 422, "invalid_events"),
        ("negative queue", event(queue=-2), good, "application/json", 422, "invalid_events"),
        ("too many events", [event() for _ in range(openapi.MAX_EVENTS + 1)], good, "application/json", 413,
         "too_large"),
        ("body over 1 MB", json.dumps([event(connectivity="x" * 16)] * 900).replace(
            '"connectivity"', ' ' * 1200 + '"connectivity"'), good, "application/json", 413, "too_large"),
        ("no token", event(), {}, "application/json", 401, "unauthorized"),
        ("not a bearer token", event(), {"Authorization": f"Basic {tok}"}, "application/json", 401, "unauthorized"),
        ("unknown token", event(), auth("arogya_not-a-real-token"), "application/json", 401, "unauthorized"),
        ("revoked token", event(), auth(revoked), "application/json", 401, "unauthorized"),
        ("another facility", event("H2"), auth(bound), "application/json", 403, "forbidden"),
    ]


def test_live104_every_bad_request_gets_its_4xx_and_stores_nothing(live, client, tok):  # type: ignore[no-untyped-def]
    _, wh = live
    revoked = token(wh, "old")
    revoke_token(wh.engine, "old")
    bound = token(wh, "hub H1", facility="H1")
    before = stored(wh)
    for name, body, headers, content_type, status, code in bad_requests(tok, revoked, bound):
        reply = _post(client, body, headers, content_type)
        assert reply.status_code == status, (name, reply.status_code, reply.get_data(as_text=True)[:300])
        payload = reply.get_json()
        assert payload["error"] == code and payload["message"], (name, payload)
        if status == 422 and code == "invalid_events":
            assert payload["errors"] and all({"index", "code", "message"} <= set(e) for e in payload["errors"])
        if status == 401:
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert stored(wh) == before
    # The facility's own token works; 4 minutes ahead is within the tolerance.
    ahead = event("H1", event_time=iso(now_ist() + timedelta(minutes=4)))
    assert _post(client, ahead, auth(bound)).status_code == 200
    assert stored(wh) == before + 1


def test_live105_error_messages_say_what_is_wrong(client, tok):  # type: ignore[no-untyped-def]
    body = _post(client, [event(), event(queue="3"), event("NOWHERE")], auth(tok)).get_json()
    assert body["message"] == "2 of 3 events are invalid; nothing was stored"
    first, second = body["errors"]
    assert (first["index"], first["field"], first["code"]) == (1, "queue_length", "bad_type")
    assert "queue_length must be a whole number or null, not a string" in first["message"]
    assert (second["index"], second["code"]) == (2, "unknown_facility") and "NOWHERE" in second["message"]
    future = _post(client, event(event_time=iso(now_ist() + timedelta(hours=1))), auth(tok)).get_json()
    assert future["errors"][0]["code"] == "time_in_future" and "5 minutes" in future["errors"][0]["message"]


def test_live106_partial_stores_the_valid_events(live, client, tok):  # type: ignore[no-untyped-def]
    _, wh = live
    good, bad = event("S1"), event("NOWHERE")
    reply = client.post(URL + "?partial=true", json=[good, bad], headers=auth(tok))
    assert reply.status_code == 200
    body = reply.get_json()
    assert (body["accepted"], len(body["rejected"]), body["rejected"][0]["index"]) == (1, 1, 1)
    assert stored(wh, good["event_id"]) == 1
    assert client.post(URL + "?partial=true", json=[bad], headers=auth(tok)).status_code == 422


def test_live107_other_methods_and_paths_answer_json(client):  # type: ignore[no-untyped-def]
    reply = client.get(URL)
    assert reply.status_code == 405 and reply.get_json()["error"] == "method_not_allowed"
    assert reply.headers["Allow"] == "POST"
    missing = client.post("/api/v1/nothing-here", json={})
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_live108_rate_limit(live, client):  # type: ignore[no-untyped-def]
    _, wh = live
    slow = token(wh, "slow", rate=3)
    codes = [client.post(URL, json=event(), headers=auth(slow)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    reply = client.post(URL, json=event(), headers=auth(slow))
    assert reply.status_code == 429 and int(reply.headers["Retry-After"]) >= 1
    assert reply.get_json()["error"] == "rate_limited"
    # Other tokens have their own buckets.
    assert client.post(URL, json=event(), headers=auth(token(wh, "fast"))).status_code == 200


def test_live109_token_use_is_recorded_and_ingest_leaves_the_cache_alone(live, client):  # type: ignore[no-untyped-def]
    _, wh = live
    fresh = token(wh, "recorded")
    with wh.engine.connect() as conn:
        version = conn.execute(select(data_version.c.version).where(data_version.c.id == 1)).scalar()
    assert client.post(URL, json=event(), headers=auth(fresh)).status_code == 200
    with wh.engine.connect() as conn:
        used = conn.execute(select(api_token.c.last_used_at).where(api_token.c.name == "recorded")).scalar()
        assert conn.execute(select(data_version.c.version).where(data_version.c.id == 1)).scalar() == version
    assert used is not None


def test_live110_openapi_document(client):  # type: ignore[no-untyped-def]
    reply = client.get("/api/v1/openapi.json")
    assert reply.status_code == 200
    doc = reply.get_json()
    assert doc["openapi"].startswith("3.") and "/api/v1/status" in doc["paths"]
    assert doc["components"]["schemas"]["StatusEvent"] == json.loads(json.dumps(openapi.EVENT_SCHEMA))
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # Every $ref resolves.
    text = json.dumps(doc)
    for name in {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}:
        assert name in doc["components"]["schemas"], name


_json = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False)
                     | st.text(max_size=20), lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=20)
_field_values = {
    "event_id": st.text(max_size=70) | st.integers() | st.none(),
    "facility_id": st.sampled_from(["H1", "S1", "NOWHERE", ""]) | st.integers(),
    "event_time": st.sampled_from([iso(now_ist()), "2025-08-30T10:00:00Z", "31-08-2025 10:00", "soon", ""]),
    "kind": st.sampled_from(["heartbeat", "outage", "recovery", "party", 3]),
    "doctors_online": st.none() | st.integers(-3, 10**7) | st.floats(allow_nan=False) | st.text(max_size=3),
    "queue_length": st.none() | st.integers(-3, 10**7) | st.booleans(),
    "connectivity": st.none() | st.text(max_size=20) | st.integers(),
}
_events = st.fixed_dictionaries({}, optional=_field_values)
_bodies = _json | _events | st.lists(_events, max_size=5) | st.fixed_dictionaries({"events": st.lists(_events,
                                                                                                        max_size=3)})
DOCUMENTED = {int(code) for code in openapi.document()["paths"]["/api/v1/status"]["post"]["responses"]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=_bodies)
def test_live111_any_body_gets_a_documented_answer_never_a_5xx(client, tok, body):  # type: ignore[no-untyped-def]
    reply = client.post(URL, data=json.dumps(body), headers={**auth(tok), "Content-Type": "application/json"})
    assert reply.status_code in DOCUMENTED and reply.status_code < 500, (body, reply.get_data(as_text=True)[:300])
    payload = reply.get_json()
    if reply.status_code == 200:
        assert set(payload) == {"received", "accepted", "duplicates", "rejected"}
    else:
        assert {"error", "message"} <= set(payload)
        # The schema and the API agree: a body whose events all pass the schema is never refused for their types.
        items = body if isinstance(body, list) else body.get("events") if isinstance(body, dict) and set(
            body) == {"events"} else [body]
        if isinstance(items, list) and items and all(not openapi.check_event(e) for e in items):
            codes = {e["code"] for e in payload.get("errors", [])}
            assert not codes & {"bad_type", "missing_field", "unknown_field", "too_long"}, payload


@pytest.mark.postgres
@pytest.mark.skipif(not REDIS_URL, reason="AROGYA_TEST_CACHE_URL not set")
def test_live112_rate_limit_in_redis_is_shared_by_workers(tmp_path):  # type: ignore[no-untyped-def]
    first, wh = live_app(tmp_path / "a", cache_url=REDIS_URL)
    from dashboard.app_factory import create_app
    from tests.fixtures.warehouse_factory import reader_engine

    second = create_app(wh.settings, engine=reader_engine(wh), auth_engine=wh.engine)
    second.server.extensions["arogya_status"].engine = wh.engine
    shared = token(wh, "shared", rate=4)
    codes = [app.server.test_client().post(URL, json=event(), headers=auth(shared)).status_code
             for app in (first, second, first, second, first)]
    assert codes == [200, 200, 200, 200, 429]
