"""The result cache through a running app: Redis when configured, and a Redis outage never breaks a page."""

from __future__ import annotations

import os

import pytest

from dashboard.app_factory import create_app
from tests.auth_helpers import logged_in_client
from tests.fixtures.warehouse_factory import build_warehouse, bump_version, reader_engine
from tests.integration.test_dash_callbacks import AUGUST, call, texts

REDIS_URL = os.environ.get("AROGYA_TEST_CACHE_URL", "")


def test_dash301_dead_redis_is_bypassed(tmp_path, caplog):  # type: ignore[no-untyped-def]
    wh = build_warehouse(tmp_path)
    # Port 1 on loopback: connection refused at once, like a Redis that is down.
    app = create_app(wh.settings.with_(cache_url="redis://127.0.0.1:1/0"), engine=reader_engine(wh),
                     auth_engine=wh.engine)
    client = logged_in_client(app)
    body = call(app, client, "overview-kpis.children", [AUGUST])
    assert "7 of 9 spokes" in texts(body["overview-kpis"]["children"])
    export = client.get("/api/export/overview-districts.csv" + AUGUST)
    export.close()  # a streamed response keeps its request context pushed until closed
    assert export.status_code == 200
    assert "cache unavailable" in caplog.text


@pytest.mark.postgres
@pytest.mark.skipif(not REDIS_URL, reason="AROGYA_TEST_CACHE_URL not set")
def test_dash302_redis_cache_shared_and_invalidated_by_a_load(tmp_path):  # type: ignore[no-untyped-def]
    import redis

    wh = build_warehouse(tmp_path)
    settings = wh.settings.with_(cache_url=REDIS_URL)
    first = create_app(settings, engine=reader_engine(wh), auth_engine=wh.engine)
    second = create_app(settings, engine=reader_engine(wh), auth_engine=wh.engine)
    for app in (first, second):
        app.server.extensions["arogya"].data.version_ttl_s = 0
    first_client, second_client = logged_in_client(first), logged_in_client(second)
    server = redis.Redis.from_url(REDIS_URL)
    server.delete(*server.keys("arogya:*")) if server.keys("arogya:*") else None
    call(first, first_client, "overview-kpis.children", [AUGUST])
    keys = set(server.keys("arogya:*"))
    assert keys, "nothing was cached in Redis"
    # A second web process finds the same entries.
    call(second, second_client, "overview-kpis.children", [AUGUST])
    assert set(server.keys("arogya:*")) == keys
    bump_version(wh.engine)
    call(second, second_client, "overview-kpis.children", [AUGUST])
    assert len(set(server.keys("arogya:*")) - keys) >= 1
    assert any(b":v2:" in k for k in server.keys("arogya:*"))
