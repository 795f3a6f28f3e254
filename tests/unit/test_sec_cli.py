"""`arogya users add|list|disable|enable|reset|scope` and `arogya audit purge`."""

from __future__ import annotations

import io
import json
import re

import pytest

from arogya_cli import main
from dashboard import audit
from dashboard.auth import users
from dashboard.auth.passwords import verify_password
from etl.settings import Settings
from etl.warehouse.engine import make_engine


@pytest.fixture
def engine(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("AROGYA_DATABASE_URL", url)
    engine = make_engine(Settings(database_url=url))
    yield engine
    engine.dispose()


def test_sec601_add_prints_a_random_password_once(engine, capsys):  # type: ignore[no-untyped-def]
    assert main(["users", "add", "cs.kishanganj", "--role", "district", "--districts", "203"]) == 0
    out = capsys.readouterr().out
    password = re.search(r"password \(shown once\): (\S+)", out).group(1)
    user = users.get_user(engine, username="cs.kishanganj")
    assert user.role == "district" and user.districts == (203,)
    assert verify_password(password, user.password_hash)
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "cs.kishanganj" in listing and password not in listing and "districts 203" in listing
    assert main(["users", "add", "cs.kishanganj", "--role", "district"]) == 2
    entries = audit.read(engine, action="user_add")
    assert entries["detail"].iloc[0]["user"] == "cs.kishanganj" and entries["username"].iloc[0].startswith("cli")


def test_sec602_password_from_stdin_is_never_printed(engine, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-chosen-passphrase\n"))
    assert main(["users", "add", "analyst.one", "--role", "analyst", "--states", "10", "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "a-long-chosen-passphrase" not in out and "password" not in out
    assert verify_password("a-long-chosen-passphrase", users.get_user(engine, username="analyst.one").password_hash)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "analyst.two", "--role", "analyst", "--password-stdin"]) == 2


def test_sec603_disable_enable_reset_scope(engine, capsys):  # type: ignore[no-untyped-def]
    main(["users", "add", "state.bihar", "--role", "state", "--states", "10"])
    first = re.search(r"password \(shown once\): (\S+)", capsys.readouterr().out).group(1)
    assert main(["users", "disable", "state.bihar"]) == 0
    assert not users.get_user(engine, username="state.bihar").active
    assert main(["users", "enable", "state.bihar"]) == 0
    assert users.get_user(engine, username="state.bihar").active
    assert main(["users", "reset", "state.bihar"]) == 0
    second = re.search(r"password \(shown once\): (\S+)", capsys.readouterr().out).group(1)
    stored = users.get_user(engine, username="state.bihar").password_hash
    assert second != first and verify_password(second, stored) and not verify_password(first, stored)
    assert main(["users", "scope", "state.bihar", "--districts", "203,200", "--states", ""]) == 0
    assert users.get_user(engine, username="state.bihar").districts == (200, 203)
    assert main(["users", "disable", "nobody"]) == 1
    actions = set(audit.read(engine)["action"])
    assert {"user_add", "user_disable", "user_enable", "user_reset"} <= actions


def test_sec604_list_as_json(engine, capsys):  # type: ignore[no-untyped-def]
    main(["users", "add", "admin.one", "--role", "admin", "--states", "*"])
    capsys.readouterr()
    assert main(["users", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [{"username": "admin.one", "role": "admin", "active": True, "districts": [], "states": ["*"],
                       "language": "en", "locked": False, "last_login_at": None}]


def test_sec605_audit_purge(engine, capsys):  # type: ignore[no-untyped-def]
    assert main(["audit", "purge"]) == 0
    assert "older than 365 days" in capsys.readouterr().out
    assert set(audit.read(engine)["action"]) == {"audit_purge"}
