"""Who may upload or remove block boundaries (administrators only, checked on the server for the API and for the
district page's upload, never from a request's claims), and the audit entry each change leaves."""

from __future__ import annotations

from typing import Any

from dashboard import audit
from dashboard.auth.session import current_principal, get_auth
from dashboard.data.filters import Scope

UPLOAD_ROLES: frozenset[str] = frozenset({"admin"})


def may_manage_boundaries() -> bool:
    principal = current_principal()
    return principal is not None and principal.role in UPLOAD_ROLES


def audit_change(action: str, district_lgd: int, **detail: Any) -> None:
    """``blocks_upload`` or ``blocks_remove`` in the audit log, by the signed-in user, for the district."""
    principal = current_principal()
    audit.record(get_auth().engine, action, username=principal.username if principal else None,
                 scope=Scope.districts([district_lgd]), detail={"district": int(district_lgd), **detail})
