"""`arogya users add|list|disable|enable|reset|scope` and `arogya audit purge`.

A new or reset account gets a random password, printed once; ``--password-stdin`` reads one instead (e.g. from a
password manager: ``pass show arogya/cs | arogya users reset cs.kishanganj --password-stdin``). Every change is
written to the audit log as done by ``cli:<operating-system user>``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from etl.settings import Settings
    from etl.warehouse.engine import make_engine
    from etl.warehouse.migrate import upgrade

    engine = make_engine(Settings.from_env())
    upgrade(engine)
    return engine


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:80]
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def _codes(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


def _password_from_stdin() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _audit(engine: Any, action: str, **detail: Any) -> None:
    from dashboard import audit

    audit.record(engine, action, username=_actor(), detail=detail)


def cmd_add(args: argparse.Namespace) -> int:
    from dashboard.auth import users

    engine = _engine(args)
    password = _password_from_stdin() if args.password_stdin else None
    try:
        user, password = users.add_user(engine, args.username, args.role, districts=_codes(args.districts),
                                        states=_codes(args.states), password=password, language=args.language)
    except users.UserError as exc:
        print(f"arogya users add: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _audit(engine, "user_add", user=user.username, role=user.role, scope=user.scope_text)
    print(f"added {user.username} ({user.role}; sees {user.scope_text})")
    if not args.password_stdin:
        print(f"password (shown once): {password}")
    if user.role != "admin" and user.scope_text == "nothing":
        print("note: no districts or states given: this user sees no data until `arogya users scope` gives some",
              file=sys.stderr)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from dashboard.auth import users

    rows = users.list_users(_engine(args))
    if args.json:
        print(json.dumps([{"username": u.username, "role": u.role, "active": u.active, "districts": list(u.districts),
                           "states": list(u.states), "language": u.language, "locked": u.locked(),
                           "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None}
                          for u in rows], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not rows:
        print("no users (add one with `arogya users add NAME --role admin --states '*'`)")
    for u in rows:
        state = "active" if u.active else "DISABLED"
        if u.active and u.locked():
            state = "LOCKED"
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if u.last_login_at else "never"
        print(f"{u.username:<24} {u.role:<9} {state:<8} last sign-in {last:<20}  sees {u.scope_text}")
    return EXIT_OK


def _set_active(args: argparse.Namespace, active: bool) -> int:
    from dashboard.auth import users

    engine = _engine(args)
    try:
        user = users.set_active(engine, args.username, active)
    except users.UserError as exc:
        print(f"arogya users: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    _audit(engine, "user_enable" if active else "user_disable", user=user.username)
    print(f"{user.username} {'enabled' if active else 'disabled'}"
          + ("" if active else " (open sessions stop working within seconds)"))
    return EXIT_OK


def cmd_disable(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def cmd_enable(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def cmd_reset(args: argparse.Namespace) -> int:
    from dashboard.auth import users

    engine = _engine(args)
    password = _password_from_stdin() if args.password_stdin else None
    try:
        user, password = users.reset_password(engine, args.username, password)
    except users.UserError as exc:
        print(f"arogya users reset: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    _audit(engine, "user_reset", user=user.username)
    print(f"new password for {user.username}; the user's open sessions have ended")
    if not args.password_stdin:
        print(f"password (shown once): {password}")
    return EXIT_OK


def cmd_scope(args: argparse.Namespace) -> int:
    from dashboard.auth import users

    engine = _engine(args)
    try:
        user = users.set_scope(engine, args.username, districts=_codes(args.districts), states=_codes(args.states))
    except users.UserError as exc:
        print(f"arogya users scope: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    _audit(engine, "user_scope", user=user.username, scope=user.scope_text)
    print(f"{user.username} now sees {user.scope_text}")
    return EXIT_OK


def cmd_audit_purge(args: argparse.Namespace) -> int:
    from dashboard import audit
    from etl.settings import Settings

    settings = Settings.from_env()
    engine = _engine(args)
    days = max(audit.MIN_RETENTION_DAYS, settings.audit_retention_days)
    removed = audit.purge(engine, days)
    audit.record(engine, "audit_purge", username=_actor(), detail={"retention_days": days, "removed": removed})
    print(f"removed {removed} audit entries older than {days} days")
    return EXIT_OK


def print_demo_users(created: list[tuple[str, str, str]]) -> None:
    if not created:
        return
    print("\nDemo dashboard accounts (passwords are shown only now; `arogya users reset NAME` makes new ones):")
    for username, role, password in created:
        print(f"  {username:<16} {role:<9} {password}")


def add_commands(sub: Any) -> None:
    """Register `users` and `audit` on the `arogya` parser's sub-commands."""
    from dashboard.auth.roles import ROLES

    users_cmd = sub.add_parser("users", help="dashboard accounts: add, list, disable, enable, reset, scope")
    u = users_cmd.add_subparsers(dest="users_command", required=True)
    add = u.add_parser("add", help="add an account; prints a random password once")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--districts", help="district LGD codes, comma-separated (district, analyst)")
    add.add_argument("--states", help="state LGD codes, comma-separated, or '*' for all (state, analyst, admin)")
    add.add_argument("--language", choices=["en", "hi"], default="en")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_add)
    lst = u.add_parser("list", help="list the accounts")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)
    dis = u.add_parser("disable", help="disable an account (its sessions stop working)")
    dis.add_argument("username")
    dis.set_defaults(func=cmd_disable)
    ena = u.add_parser("enable", help="enable a disabled account again")
    ena.add_argument("username")
    ena.set_defaults(func=cmd_enable)
    reset = u.add_parser("reset", help="set a new password (random unless --password-stdin); ends the sessions")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true")
    reset.set_defaults(func=cmd_reset)
    scope = u.add_parser("scope", help="set the districts and states an account may see")
    scope.add_argument("username")
    scope.add_argument("--districts")
    scope.add_argument("--states")
    scope.set_defaults(func=cmd_scope)

    audit_cmd = sub.add_parser("audit", help="the audit log")
    a = audit_cmd.add_subparsers(dest="audit_command", required=True)
    purge = a.add_parser("purge", help="delete entries older than AROGYA_AUDIT_RETENTION_DAYS (at least 365)")
    purge.set_defaults(func=cmd_audit_purge)
