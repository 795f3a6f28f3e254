"""Passwords, safe redirects, secret keys, roles and scopes, the user store, the audit log's retention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from dashboard import audit
from dashboard.auth import users
from dashboard.auth.passwords import (
    check_strength,
    fingerprint,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from dashboard.auth.roles import ROLE_PERMISSIONS, Principal, page_permission, resolve_scope
from dashboard.data.filters import Scope
from dashboard.security import content_security_policy, safe_next, secret_key, secret_key_problem
from etl.settings import Settings
from etl.warehouse.engine import make_engine
from etl.warehouse.migrate import upgrade
from etl.warehouse.schema import audit_log, dim_district, dim_state

ROOT = Path(__file__).resolve().parents[2]


def test_sec001_password_hashes_are_salted_scrypt():  # type: ignore[no-untyped-def]
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second and first.startswith("scrypt$15$8$1$") and not needs_rehash(first)
    assert verify_password("correct horse battery", first) and verify_password("correct horse battery", second)
    assert not verify_password("correct horse batterY", first)
    assert fingerprint(first) != fingerprint(second)


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$15$8$1$!!$!!", "scrypt$99$8$1$YQ==$YQ==", "md5$x", None])
def test_sec002_malformed_hashes_never_match(stored):  # type: ignore[no-untyped-def]
    assert verify_password("anything", stored) is False


def test_sec003_random_passwords_and_strength():  # type: ignore[no-untyped-def]
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50 and all(len(p) == 16 and check_strength(p) is None for p in passwords)
    assert check_strength("short") and check_strength("aaaaaaaaaaaaaaaa") and check_strength("x" * 2000)


@pytest.mark.parametrize("target", [
    "https://evil.example/", "http://evil.example", "//evil.example", "///evil.example", "/\\evil.example",
    "\\\\evil.example", "javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "evil.example",
    " /x", "/x\r\nSet-Cookie: a=b", "/x\x00", "", None, "http:/evil.example", "/" + "a" * 3000,
])
def test_sec004_unsafe_next_targets_go_home(target):  # type: ignore[no-untyped-def]
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/district/203", "/compare?cmp=203,200&lang=hi", "/admin/audit#x"])
def test_sec005_same_site_paths_are_kept(target):  # type: ignore[no-untyped-def]
    assert safe_next(target) == target


@given(st.text(max_size=60))
def test_sec006_safe_next_only_returns_site_paths(text):  # type: ignore[no-untyped-def]
    out = safe_next(text)
    assert out.startswith("/") and not out.startswith("//") and "\\" not in out
    assert not any(ord(c) < 32 for c in out)


@pytest.mark.parametrize("key", ["", "changeme", "SECRET", "dev", "too-short-1234", "a" * 64, "0" * 32])
def test_sec007_weak_secret_keys(key):  # type: ignore[no-untyped-def]
    assert secret_key_problem(key)
    with pytest.raises(RuntimeError, match="AROGYA_SECRET_KEY"):
        secret_key(Settings(environment="production", secret_key=key))


def test_sec008_strong_and_development_keys():  # type: ignore[no-untyped-def]
    strong = "9f1c2b7e4d8a6f3c0b5e2d9a7c4f1e8b3d6a0c9f2e5b8d1a"
    assert secret_key_problem(strong) is None
    assert secret_key(Settings(environment="production", secret_key=strong)) == strong
    random_one, random_two = secret_key(Settings()), secret_key(Settings())
    assert random_one != random_two and len(random_one) == 64  # development: random per process, never a default


def test_sec009_no_default_secret_or_password_in_the_code():  # type: ignore[no-untyped-def]
    import re

    pattern = re.compile(r"(secret_key|password)\s*=\s*[\"'][^\"']{3,}[\"']", re.I)
    offenders = []
    for path in [*ROOT.glob("dashboard/**/*.py"), *ROOT.glob("etl/**/*.py"), ROOT / "arogya_cli.py",
                 ROOT / "app.py"]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert offenders == []


def test_sec010_no_javascript_urls_in_the_code():  # type: ignore[no-untyped-def]
    for path in [*ROOT.glob("dashboard/**/*.py"), *ROOT.glob("assets/*.js")]:
        text = path.read_text(encoding="utf-8").lower().replace(" ", "")
        allowed = text.count('"javascript:alert(1)"') + text.count("'javascript:")  # (none expected)
        assert text.count("javascript:") == allowed == 0, path


def test_sec011_roles_and_pages_deny_by_default():  # type: ignore[no-untyped-def]
    assert ROLE_PERMISSIONS["analyst"] >= {"view", "export", "export_linelist"}
    assert "export" not in ROLE_PERMISSIONS["district"] and "export" not in ROLE_PERMISSIONS["state"]
    assert "audit" in ROLE_PERMISSIONS["admin"] and "audit" not in ROLE_PERMISSIONS["analyst"]
    nobody = Principal(user_id=1, username="x", role="superuser")
    assert nobody.permissions == frozenset() and not nobody.may_open("/") and not nobody.can("view")
    assert page_permission("/admin/audit") == "audit" and page_permission("/admin") == "audit"
    assert page_permission("/administrator") == "view" and page_permission("/district/203") == "view"
    admin = Principal(user_id=2, username="a", role="admin")
    analyst = Principal(user_id=3, username="b", role="analyst")
    assert admin.may_open("/admin/audit") and not analyst.may_open("/admin/audit") and analyst.may_open("/")


def test_sec012_scopes():  # type: ignore[no-untyped-def]
    mapping = {10: [203, 200, 212], 9: [101]}
    assert resolve_scope([], [], mapping) == Scope()
    assert resolve_scope([], [], mapping).is_empty
    assert resolve_scope([203], [], mapping) == Scope.districts([203])
    assert resolve_scope(["203", "x", None], ["10"], mapping) == Scope.districts([203, 200, 212])
    assert resolve_scope([], ["*"], mapping) == Scope.full()
    assert resolve_scope([], ["11"], mapping) == Scope()


def test_sec013_csp_string():  # type: ignore[no-untyped-def]
    csp = content_security_policy(["'sha256-abc='"], production=True)
    directives = {name: value for name, _, value in (d.strip().partition(" ") for d in csp.split(";"))}
    assert directives["script-src"] == "'self' 'sha256-abc='"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["base-uri"] == "'self'"
    assert "upgrade-insecure-requests" in csp


@pytest.fixture
def store(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'w.sqlite'}"))
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(dim_state), [{"state_lgd": 10, "name_en": "BIHAR", "name_hi": "बिहार"}]) \
            if not conn.execute(dim_state.select()).first() else None
        existing = {r.district_lgd for r in conn.execute(dim_district.select())}
        rows = [{"district_lgd": d, "state_lgd": 10, "name_en": f"D{d}", "name_hi": ""} for d in (203, 200)
                if d not in existing]
        if rows:
            conn.execute(insert(dim_district), rows)
    yield engine
    engine.dispose()


def test_sec014_user_store(store):  # type: ignore[no-untyped-def]
    user, password = users.add_user(store, "CS.Kishanganj", "district", districts=["203"])
    assert user.username == "cs.kishanganj" and user.districts == (203,) and len(password) == 16
    assert verify_password(password, user.password_hash) and password not in user.password_hash
    with pytest.raises(users.UserError, match="already exists"):
        users.add_user(store, "cs.kishanganj", "district")
    for bad in (("x", "district"), ("ok.name", "root"), ("Bad Name!", "admin")):
        with pytest.raises(users.UserError):
            users.add_user(store, *bad)
    with pytest.raises(users.UserError, match="12 characters"):
        users.add_user(store, "weak", "analyst", password="short")
    with pytest.raises(users.UserError, match="LGD"):
        users.add_user(store, "bad.states", "state", states=["Bihar"])
    disabled = users.set_active(store, "cs.kishanganj", False)
    assert not disabled.active
    _, new_password = users.reset_password(store, "cs.kishanganj")
    fresh = users.get_user(store, username="cs.kishanganj")
    assert verify_password(new_password, fresh.password_hash) and not verify_password(password, fresh.password_hash)
    locked = fresh
    for _ in range(3):
        locked = users.record_failure(store, locked, 3, timedelta(minutes=15))
    assert locked.locked() and locked.failed_logins == 0


def test_sec015_demo_users_have_random_passwords(store):  # type: ignore[no-untyped-def]
    created = users.create_demo_users(store)
    assert [(u, r) for u, r, _ in created] == [("admin", "admin"), ("state.bihar", "state"),
                                              ("cs.kishanganj", "district"), ("analyst", "analyst")]
    passwords = [p for _, _, p in created]
    assert len(set(passwords)) == 4 and all(check_strength(p) is None for p in passwords)
    assert users.create_demo_users(store) == []  # existing accounts are left alone
    admin = users.get_user(store, username="admin")
    assert verify_password(passwords[0], admin.password_hash)


def test_sec016_audit_retention_never_below_a_year(store):  # type: ignore[no-untyped-def]
    now = audit.utcnow()
    with store.begin() as conn:
        conn.execute(insert(audit_log), [
            {"at": now - timedelta(days=d), "username": "u", "action": "login", "scope": "all", "detail": {}}
            for d in (1, 200, 364, 366, 800)])
    assert audit.purge(store, retention_days=30) == 2  # 30 is raised to the 365-day minimum
    assert audit.count(store) == 3
    assert audit.purge(store, retention_days=365) == 0
    assert audit.purge(store, retention_days=730, now=now + timedelta(days=500)) == 1
