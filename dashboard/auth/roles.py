"""Roles, what each may do, and who the signed-in user is (the ``Principal``).

Deny by default: a permission or page not granted here is refused, and a user with no districts or states sees no
data. The data scope comes only from the user's record in the database (``app_user.districts`` / ``states``), never
from a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dashboard.data.filters import Scope

ROLES: tuple[str, ...] = ("admin", "state", "district", "analyst")

# view: the dashboard pages; export: CSV of the aggregate tables; export_linelist: the pseudonymised line list of
# consultations (one row per consultation, so it cannot be small-cell suppressed: analysts only); audit: read and
# export the audit log; users/tokens: manage accounts and status-API tokens.
VIEW, EXPORT, EXPORT_LINELIST, AUDIT, USERS, TOKENS = "view", "export", "export_linelist", "audit", "users", "tokens"
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({VIEW, AUDIT, USERS, TOKENS}),
    "state": frozenset({VIEW}),
    "district": frozenset({VIEW}),
    "analyst": frozenset({VIEW, EXPORT, EXPORT_LINELIST}),
}

# The permission a page needs, by path prefix (first match wins); any other page needs VIEW.
PAGE_PERMISSIONS: tuple[tuple[str, str], ...] = (
    ("/admin/users", USERS),
    ("/admin/tokens", TOKENS),
    ("/admin", AUDIT),
)

ALL_STATES = "*"


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the server knows it (re-read from the database every few seconds)."""

    user_id: int
    username: str
    role: str
    scope: Scope = field(default_factory=Scope)
    language: str = "en"
    password_tag: str = ""

    @property
    def permissions(self) -> frozenset[str]:
        return ROLE_PERMISSIONS.get(self.role, frozenset())

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def may_open(self, path: str | None) -> bool:
        return self.can(page_permission(path))


def page_permission(path: str | None) -> str:
    path = "/" + (path or "").lstrip("/")
    for prefix, permission in PAGE_PERMISSIONS:
        if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
            return permission
    return VIEW


def parse_codes(values: Iterable[object] | None) -> list[int]:
    """LGD codes from a JSON list (ints or digit strings); anything else is dropped."""
    out: set[int] = set()
    for value in values or ():
        text = str(value).strip()
        if text.isdigit():
            out.add(int(text))
    return sorted(out)


def resolve_scope(districts: Iterable[object] | None, states: Iterable[object] | None,
                  districts_of_states: dict[int, list[int]]) -> Scope:
    """The districts a user may see: the listed districts plus every district of the listed states; ``"*"`` among
    the states means all districts. Nothing listed, nothing seen."""
    state_values = [str(s).strip() for s in states or ()]
    if ALL_STATES in state_values:
        return Scope.full()
    lgds = set(parse_codes(districts))
    for state in parse_codes(state_values):
        lgds.update(districts_of_states.get(state, ()))
    return Scope.districts(lgds)
