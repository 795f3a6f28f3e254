"""Per-app state the pages and the API reach through Flask's ``current_app``: settings, data context, scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app

from dashboard.data.context import DataContext
from dashboard.data.filters import Scope, ist_today
from dashboard.urlstate import ViewState, parse_search
from etl.settings import Settings

EXTENSION = "arogya"


@dataclass
class Runtime:
    settings: Settings
    data: DataContext

    def today(self) -> date:
        return ist_today(self.settings.today)

    def view(self, search: str | None) -> ViewState:
        from dashboard.auth.language import remembered_lang

        return parse_search(search, self.today(), remembered_lang())


def get_runtime() -> Runtime:
    return current_app.extensions[EXTENSION]


def current_scope() -> Scope:
    """The districts the signed-in user may see: from the server-side session's user (re-read from the database
    every few seconds), never from callback inputs. Nobody signed in (or outside a request): no districts."""
    from dashboard.auth.session import current_scope as session_scope

    return session_scope()
