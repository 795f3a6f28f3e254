"""Per-app state the pages and the API reach through Flask's ``current_app``: settings, data context, scope."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import date

from flask import Flask, current_app

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


# The collector's thresholds in a serving process. Python's first generation is collected every 700 net new
# container objects: a state-wide callback (10,000 rows read) makes several thousand, so each request paid for 5-8
# young collections, and every ~10th a full one that walks whatever was made since the freeze (lazily built figure
# validators, compiled statements): 7-15 ms in that request. Collected every 10,000, a request pays for at most one
# young collection and a full one is rare. Measured on the state demo, four alternating runs of the four slowest
# callbacks: chos' cold p95 median 66 -> 49 ms, its p50 unchanged. Cyclic garbage waits a little longer: at most
# 10,000 young objects.
SERVING_GC_THRESHOLDS = (10_000, 10, 10)


def settle_process(server: Flask | None = None) -> int:
    """Exempt everything the process holds once the app is built (layouts, boundaries, metadata, compiled
    statements: hundreds of thousands of objects) from Python's cyclic garbage collector. A full collection otherwise
    walks all of them again, tens of milliseconds in the middle of whichever callback allocated the most (a 10,000-row
    table: its p95). Then collect young objects less often (``SERVING_GC_THRESHOLDS``). Call once per serving
    process; with ``server`` (the app's Flask server) it first answers one request, which makes Dash set itself up in
    this thread. Returns the number of objects exempted."""
    if server is not None:
        server.test_client().get("/login")
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLDS)
    return gc.get_freeze_count()
