"""`arogya tokens create|list|revoke` and `arogya demo --live` (the replayer posting through the real HTTP API)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from arogya_cli import main
from dashboard.api.tokens import hash_token, list_tokens
from etl.demo.live import Replayer, demo_facilities
from etl.warehouse.schema import api_token, fact_status_event
from tests.fixtures.live import auth, event, live_app, serve


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    app, wh = live_app(tmp_path)
    monkeypatch.setenv("AROGYA_DATABASE_URL", wh.settings.database_url)
    monkeypatch.setenv("AROGYA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AROGYA_QUIET", "1")
    return app, wh


def test_live601_tokens_commands(env, capsys):  # type: ignore[no-untyped-def]
    app, wh = env
    client = app.server.test_client()
    assert main(["tokens", "create", "--name", "PHC Bahadurganj software", "--facility", "H1"]) == 0
    out = capsys.readouterr()
    secret = out.out.strip()
    assert secret.startswith("arogya_") and "\n" not in secret and "shown only this once" in out.err
    assert main(["tokens", "create", "--name", "x", "--facility", "NOWHERE"]) == 2
    assert "not in the facility master" in capsys.readouterr().err
    with wh.engine.connect() as conn:
        stored = conn.execute(select(api_token.c.token_hash)).scalars().all()
    assert stored == [hash_token(secret)]  # only the hash is kept
    assert main(["tokens", "list"]) == 0
    listing = capsys.readouterr().out
    assert "PHC Bahadurganj software" in listing and "H1" in listing and "active" in listing
    assert secret not in listing and hash_token(secret) not in listing
    assert main(["tokens", "list", "--json"]) == 0
    assert "token_hash" not in capsys.readouterr().out
    assert client.post("/api/v1/status", json=event("H1"), headers=auth(secret)).status_code == 200
    assert client.post("/api/v1/status", json=event("H2"), headers=auth(secret)).status_code == 403
    assert main(["tokens", "revoke", "PHC Bahadurganj software"]) == 0
    assert "revoked token #1" in capsys.readouterr().out
    assert client.post("/api/v1/status", json=event("H1"), headers=auth(secret)).status_code == 401
    assert main(["tokens", "revoke", "nobody"]) == 1


def test_live602_replayer_posts_heartbeats_and_faults(env):  # type: ignore[no-untyped-def]
    app, wh = env
    from dashboard.api.tokens import create_token

    _, secret = create_token(wh.engine, "replay", rate_limit_per_minute=100_000)
    facilities = demo_facilities(wh.engine)
    with serve(app) as base:
        # 600× speed: the scripted faults (minutes apart) all happen within a couple of seconds.
        replayer = Replayer(base, secret, facilities, heartbeat_s=0.5, tick_s=0.1, speed=600, offline_minutes=1)
        stats = replayer.run(duration_s=2.5)
    assert stats.errors == [] and stats.accepted == stats.posted > len(facilities)
    kinds = {f.kind for f in stats.faults}
    assert kinds == {"outage", "silent", "queue_spike", "no_doctors"}
    with wh.engine.connect() as conn:
        events = conn.execute(select(fact_status_event.c.facility_id, fact_status_event.c.kind,
                                     fact_status_event.c.queue_length)).all()
    by_kind: dict[str, set[str]] = {}
    for fid, kind, _ in events:
        by_kind.setdefault(kind, set()).add(fid)
    assert by_kind["session_start"] and by_kind["heartbeat"]
    outage = next(f for f in stats.faults if f.kind == "outage")
    silent = next(f for f in stats.faults if f.kind == "silent")
    spike = next(f for f in stats.faults if f.kind == "queue_spike")
    assert outage.target in by_kind["outage"] and outage.target in by_kind["recovery"]
    assert silent.target in by_kind.get("recovery", set())
    assert any(fid == spike.target and (queue or 0) > 20 for fid, _, queue in events)


def test_live603_demo_live_command(env, capsys):  # type: ignore[no-untyped-def]
    app, wh = env
    with serve(app) as base:
        code = main(["demo", "--live", "--url", base, "--minutes", "0.05", "--heartbeat", "1"])
    assert code == 0
    with wh.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(fact_status_event)).scalar() >= 13
    tokens = list_tokens(wh.engine)
    assert len(tokens) == 1 and tokens[0]["name"].startswith("demo-live-") and tokens[0]["revoked_at"] is not None
