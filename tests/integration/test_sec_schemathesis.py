"""Property-based requests generated from the status API's own OpenAPI document (schemathesis): whatever is sent,
with a valid token, a bad one or none, the answer is never a server error, and the API stays reachable without a
dashboard session. Skipped when schemathesis or the API is missing."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
tokens = pytest.importorskip("dashboard.api.tokens")

from hypothesis import HealthCheck, settings  # noqa: E402

from dashboard.app_factory import create_app  # noqa: E402
from tests.fixtures.warehouse_factory import build_warehouse, reader_engine  # noqa: E402

OPENAPI = "/api/v1/openapi.json"


@pytest.fixture(scope="module")
def api(tmp_path_factory):  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path_factory.mktemp("sec-schemathesis"))
    app = create_app(wh.settings, engine=reader_engine(wh), auth_engine=wh.engine)
    if not any(rule.rule == OPENAPI for rule in app.server.url_map.iter_rules()):
        pytest.skip("the status API is not part of this app")
    _, token = tokens.create_token(wh.engine, "schemathesis", None, 100_000)
    yield app, token
    wh.drop()


def test_sec701_openapi_document_is_public(api):  # type: ignore[no-untyped-def]
    app, _ = api
    response = app.server.test_client().get(OPENAPI)
    assert response.status_code == 200 and response.get_json()["openapi"].startswith("3.")


def test_sec702_no_server_errors_for_generated_requests(api):  # type: ignore[no-untyped-def]
    app, token = api
    schema = schemathesis.openapi.from_wsgi(OPENAPI, app.server)
    failures: list[str] = []
    calls: list[int] = []

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case) -> None:  # type: ignore[no-untyped-def]
        for headers in ({"Authorization": f"Bearer {token}"}, {"Authorization": "Bearer not-a-token"}, {}):
            response = case.call(headers=headers)
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.path} -> {response.status_code}: {response.text[:200]}")

    for operation in schema.get_all_operations():
        strategy = operation.ok().as_strategy()
        from hypothesis import given

        given(case=strategy)(run)()
    assert failures == []
    # Requests were made, and with the valid token they got past authentication to validation.
    assert len(calls) >= 30 and any(code not in (401, 403) for code in calls)
