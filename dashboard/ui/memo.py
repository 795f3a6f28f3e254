"""Memoised callback outputs: a warm call costs one cache lookup plus Dash's own serialisation.

``@memoised`` goes between ``@callback(...)`` and the function. The output is kept in the data layer's result cache
(``DataContext.memoise``: the same flask-caching backend, the same data version, so a finished load invalidates it)
under the callback's name, its arguments (the URL search carries the filter), the caller's scope, language and
today's date (relative periods move with it). It is kept as JSON bytes (components, figures and patches already
converted) and handed back to Dash as plain values, which orjson serialises directly. An output computed while an
error was logged (the pages' error states log one) is returned but not kept.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

import orjson
from plotly.io.json import to_json_plotly

from dashboard.runtime import current_scope, get_runtime

P = ParamSpec("P")
R = TypeVar("R")

_error_logged: ContextVar[bool] = ContextVar("arogya_error_logged", default=False)


class _ErrorMarker(logging.Filter):
    """Notes that an error was logged in the current context (thread or task); filters nothing out. A filter on
    the "dashboard" logger sees what ``dashboard.ui.states.error`` logs, and adds no handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            _error_logged.set(True)
        return True


_MARKER = _ErrorMarker()


def _watch_errors() -> None:
    logger = logging.getLogger("dashboard")
    if _MARKER not in logger.filters:
        logger.addFilter(_MARKER)


def output_json(output: Any) -> bytes:
    """A callback's output as JSON: several outputs (a tuple) one by one, the same bytes as the whole at once. Plotly
    writes a value straight through orjson unless it holds something orjson cannot write (a component); then it
    converts the whole value in Python first, item by item, so a component in one output would make every grid row
    of the others go through that conversion."""
    if isinstance(output, tuple):
        return b"[" + b",".join(to_json_plotly(item).encode() for item in output) + b"]"
    return to_json_plotly(output).encode()


def memoised(fn: Callable[P, R] | None = None, *, key: Callable[..., Any] | None = None) -> Any:
    """Memoise a Dash callback's output per (arguments, scope, today, data version); see the module doc.

    ``key``, called with the callback's arguments, adds what else the output depends on that the data version does
    not cover (an uploaded boundary file, say): ``@memoised(key=lambda search, path: ...)``."""
    if fn is None:
        return functools.partial(memoised, key=key)
    name = f"callback:{fn.__module__}.{fn.__qualname__}"
    _watch_errors()

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        rt = get_runtime()

        def compute() -> tuple[bytes, bool]:
            token = _error_logged.set(False)
            try:
                value = output_json(fn(*args, **kwargs))
                return value, not _error_logged.get()
            finally:
                _error_logged.reset(token)

        # The search carries filter and an explicit language; view(None) adds the remembered language.
        extra = key(*args, **kwargs) if key is not None else None
        parts = (current_scope(), rt.today().isoformat(), rt.view(None).lang, args, tuple(sorted(kwargs.items())),
                 extra)
        # Kept as JSON bytes: the cache stores and returns them as one block (no pickling of a large tree), and
        # orjson parses them back several times faster than pickle would.
        return orjson.loads(rt.data.memoise(name, parts, compute))

    return wrapper
