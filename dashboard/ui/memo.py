"""Memoised callback outputs: a warm call costs one cache lookup plus Dash's own serialisation.

``@memoised`` goes between ``@callback(...)`` and the function. The output is kept in the data layer's result cache
(``DataContext.memoise``: the same flask-caching backend, the same data version, so a finished load invalidates it)
under the callback's name, its arguments (the URL search carries the filter), the caller's scope, language and
today's date (relative periods move with it). Each output is kept as JSON bytes (components, figures and patches
already converted; ``no_update`` as itself) and handed back to Dash as an orjson fragment, which Dash's response writer
copies in unparsed. An output computed while an error was logged (the pages' error states log one) is returned but
not kept.

``@memoised_layout`` keeps a piece of page layout (the filter bar) the same way, but as the component itself: it
runs inside the router callback that renders the page, whose outputs are not its own.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

import orjson
from dash import NoUpdate, callback_context, no_update
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


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _plain_json(value: Any) -> Any:
    """What orjson cannot write itself: Dash components, figures and patches by their own JSON form; anything else
    (pandas values, object arrays) as plotly writes it."""
    to_json = getattr(value, "to_plotly_json", None)
    if callable(to_json):
        return to_json()
    return orjson.loads(to_json_plotly(value))


def to_json_bytes(value: Any) -> bytes:
    """A callback's output as JSON, as ``plotly.io.json.to_json_plotly`` writes it (whose HTML-safe escapes are the
    same text once parsed). orjson writes the plain parts (grid rows, figure data) itself and asks only about the
    components; plotly walks the whole tree in Python first, which costs more than the query behind a large grid."""
    return orjson.dumps(value, default=_plain_json, option=_JSON_OPTIONS)


def _multi_output() -> bool:
    """Whether the callback being answered has several outputs (Dash then expects a list of values)."""
    try:
        return isinstance(callback_context.outputs_list, list)
    except Exception:  # noqa: BLE001 - called outside a Dash request (a test calling the function): one value
        return False


def _watched(make: Callable[[], R]) -> tuple[R, bool]:
    """``make()`` and whether it logged no error meanwhile (an error state is shown but not kept)."""
    token = _error_logged.set(False)
    try:
        value = make()
        return value, not _error_logged.get()
    finally:
        _error_logged.reset(token)


def _view_parts() -> tuple[Any, ...]:
    """What every memoised value depends on besides its arguments: the caller's scope, today's date (relative
    periods move with it) and the remembered language (the search carries the filter and an explicit language)."""
    rt = get_runtime()
    return current_scope(), rt.today().isoformat(), rt.view(None).lang


def memoised_layout(fn: Callable[P, R]) -> Callable[P, R]:
    """Memoise a function that builds part of a page's layout (the filter bar, say) per (arguments, scope, today,
    data version). Unlike ``memoised`` it is not a callback: it runs inside whichever callback renders the page, so
    it keeps and returns the component itself, whatever that callback's outputs are (``memoised`` would split or wrap
    the value by the page callback's outputs, and hand back JSON that no code walking the layout could read)."""
    name = f"layout:{fn.__module__}.{fn.__qualname__}"
    _watch_errors()

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        parts = (*_view_parts(), args, tuple(sorted(kwargs.items())))
        return get_runtime().data.memoise(name, parts, lambda: _watched(lambda: fn(*args, **kwargs)))

    return wrapper


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
        multi = _multi_output()

        def outputs_as_json() -> tuple[bytes | None, ...]:
            value = fn(*args, **kwargs)
            outputs = list(value) if multi and isinstance(value, list | tuple) else [value]
            return tuple(None if NoUpdate.is_no_update(v) else to_json_bytes(v) for v in outputs)

        extra = key(*args, **kwargs) if key is not None else None
        parts = (*_view_parts(), multi, args, tuple(sorted(kwargs.items())), extra)
        # Kept as JSON bytes per output and handed to Dash as orjson fragments: Dash's response writer (orjson)
        # copies them into the response as they are, so a warm call neither parses nor writes the output again.
        kept = rt.data.memoise(name, parts, lambda: _watched(outputs_as_json))
        values = [no_update if b is None else orjson.Fragment(b) for b in kept]
        return values if multi else values[0]  # type: ignore[return-value]

    return wrapper
