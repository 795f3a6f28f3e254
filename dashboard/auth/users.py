"""Dashboard accounts in ``app_user``: add, list, disable, reset, the login bookkeeping (failed logins, lock-out)
and the demo's users. Passwords are stored only as scrypt hashes; there is no default password anywhere: a new or
reset account gets a random password, shown once to whoever created it.

Times are naive UTC.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, insert, select, update

from dashboard.auth.passwords import check_strength, generate_password, hash_password
from dashboard.auth.roles import ALL_STATES, ROLES, parse_codes
from etl.warehouse.schema import app_user, dim_district

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,79}$")


class UserError(ValueError):
    """A request the user store refuses (unknown user, bad role, weak password, ...)."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    password_hash: str
    role: str
    districts: tuple[int, ...]
    states: tuple[str, ...]
    active: bool
    language: str
    failed_logins: int
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime | None

    def locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    @property
    def scope_text(self) -> str:
        if ALL_STATES in self.states:
            return "all districts"
        parts = []
        if self.states:
            parts.append("states " + ",".join(self.states))
        if self.districts:
            parts.append("districts " + ",".join(str(d) for d in self.districts))
        return "; ".join(parts) or "nothing"


def _user(row) -> User:  # type: ignore[no-untyped-def]
    m = row._mapping
    states = tuple(str(s) for s in (m["states"] or ()))
    return User(user_id=int(m["user_id"]), username=m["username"], password_hash=m["password_hash"], role=m["role"],
                districts=tuple(parse_codes(m["districts"])), states=states, active=bool(m["active"]),
                language=m["language"] or "en", failed_logins=int(m["failed_logins"] or 0),
                locked_until=m["locked_until"], last_login_at=m["last_login_at"], created_at=m["created_at"])


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def get_user(engine: Engine, *, user_id: int | None = None, username: str | None = None) -> User | None:
    if user_id is None and username is None:
        return None
    clause = app_user.c.user_id == user_id if user_id is not None else (
        app_user.c.username == normalise_username(username or ""))
    with engine.connect() as conn:
        row = conn.execute(select(app_user).where(clause)).first()
    return _user(row) if row is not None else None


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_user(r) for r in conn.execute(select(app_user).order_by(app_user.c.username))]


def _states(states: Iterable[object] | None) -> list[str]:
    values = [str(s).strip() for s in states or () if str(s).strip()]
    if ALL_STATES in values:
        return [ALL_STATES]
    bad = [s for s in values if not s.isdigit()]
    if bad:
        raise UserError(f"states must be LGD codes or '*' (all), not {', '.join(bad)}")
    return [str(s) for s in parse_codes(values)]


def _districts(districts: Iterable[object] | None) -> list[int]:
    values = [str(d).strip() for d in districts or () if str(d).strip()]
    bad = [d for d in values if not d.isdigit()]
    if bad:
        raise UserError(f"districts must be LGD codes, not {', '.join(bad)}")
    return parse_codes(values)


def add_user(engine: Engine, username: str, role: str, *, districts: Sequence[object] = (),
             states: Sequence[object] = (), password: str | None = None, language: str = "en") -> tuple[User, str]:
    """Create an account. Without ``password`` a random one is made; returns (user, password)."""
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise UserError("a username has 2-80 characters: lower-case letters, digits and . _ @ -")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if language not in ("en", "hi"):
        raise UserError("language must be en or hi")
    if password is None:
        password = generate_password()
    elif problem := check_strength(password):
        raise UserError(problem)
    row = {"username": name, "password_hash": hash_password(password), "role": role,
           "districts": _districts(districts), "states": _states(states), "active": True, "language": language,
           "created_at": utcnow(), "password_changed_at": utcnow(), "failed_logins": 0}
    with engine.begin() as conn:
        if conn.execute(select(app_user.c.user_id).where(app_user.c.username == name)).first() is not None:
            raise UserError(f"user {name} already exists")
        conn.execute(insert(app_user).values(**row))
    user = get_user(engine, username=name)
    assert user is not None
    return user, password


def _update(engine: Engine, username: str, **values: object) -> User:
    name = normalise_username(username)
    with engine.begin() as conn:
        done = conn.execute(update(app_user).where(app_user.c.username == name).values(**values)).rowcount
    if not done:
        raise UserError(f"no user {name}")
    user = get_user(engine, username=name)
    assert user is not None
    return user


def set_active(engine: Engine, username: str, active: bool) -> User:
    """Disable (or enable again) an account; a disabled user's sessions stop working within seconds."""
    return _update(engine, username, active=active, failed_logins=0, locked_until=None)


def reset_password(engine: Engine, username: str, password: str | None = None) -> tuple[User, str]:
    """A new password (random unless given); ends the user's sessions and clears a lock-out."""
    if password is None:
        password = generate_password()
    elif problem := check_strength(password):
        raise UserError(problem)
    user = _update(engine, username, password_hash=hash_password(password), password_changed_at=utcnow(),
                   failed_logins=0, locked_until=None)
    return user, password


def set_scope(engine: Engine, username: str, *, districts: Sequence[object] = (),
              states: Sequence[object] = ()) -> User:
    return _update(engine, username, districts=_districts(districts), states=_states(states))


def set_language(engine: Engine, username: str, language: str) -> User:
    """The user's language for the dashboard (``en`` or ``hi``), remembered across sign-ins and browsers."""
    if language not in ("en", "hi"):
        raise UserError("language must be en or hi")
    return _update(engine, username, language=language)


def record_failure(engine: Engine, user: User, max_failures: int, lockout: timedelta) -> User:
    """One more failed login; at ``max_failures`` in a row the account is locked for ``lockout``."""
    with engine.begin() as conn:
        conn.execute(update(app_user).where(app_user.c.user_id == user.user_id)
                     .values(failed_logins=app_user.c.failed_logins + 1))
        failed = conn.execute(select(app_user.c.failed_logins).where(app_user.c.user_id == user.user_id)).scalar()
        if int(failed or 0) >= max(1, max_failures):
            conn.execute(update(app_user).where(app_user.c.user_id == user.user_id)
                         .values(locked_until=utcnow() + lockout, failed_logins=0))
    refreshed = get_user(engine, user_id=user.user_id)
    return refreshed or user


def record_success(engine: Engine, user: User, new_hash: str | None = None) -> None:
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None, "last_login_at": utcnow()}
    if new_hash:
        values["password_hash"] = new_hash
    with engine.begin() as conn:
        conn.execute(update(app_user).where(app_user.c.user_id == user.user_id).values(**values))


def districts_of_states(engine: Engine, states: Iterable[object]) -> dict[int, list[int]]:
    codes = parse_codes(states)
    if not codes:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(select(dim_district.c.state_lgd, dim_district.c.district_lgd)
                            .where(dim_district.c.state_lgd.in_(codes))).all()
    out: dict[int, list[int]] = {}
    for state, district in rows:
        out.setdefault(int(state), []).append(int(district))
    return out


def count_users(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(app_user)).scalar() or 0)


# The demo's accounts: one per role, on the demo's Bihar data (state LGD 10; Kishanganj is district 203).
DEMO_USERS: tuple[tuple[str, str, tuple[int, ...], tuple[str, ...]], ...] = (
    ("admin", "admin", (), (ALL_STATES,)),
    ("state.bihar", "state", (), ("10",)),
    ("cs.kishanganj", "district", (203,), ()),
    ("analyst", "analyst", (), ("10",)),
)


def create_demo_users(engine: Engine) -> list[tuple[str, str, str]]:
    """Create the demo's missing accounts with random passwords; returns (username, role, password) of each one
    created, for the demo to print once. Existing accounts are left alone (their passwords are not known)."""
    created = []
    for username, role, districts, states in DEMO_USERS:
        if get_user(engine, username=username) is not None:
            continue
        _, password = add_user(engine, username, role, districts=districts, states=states)
        created.append((username, role, password))
    return created
