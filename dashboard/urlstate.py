"""The view lives in the URL query string: parse it into a typed ``Filter`` and write it back, canonically.

Keys: ``period`` (a preset; ``custom`` with ``from``/``to`` as YYYY-MM-DD), ``state``, ``district``, ``block``,
``facility``, ``ftype``, ``mode``, ``specialty`` (comma-separated lists), ``lang``; pages add their own keys (e.g.
``metric``, ``grain``, ``cmp``). Unknown or malformed values are dropped, never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qsl, urlencode

from dashboard.data.filters import DEFAULT_PERIOD, PERIOD_PRESETS, Filter, resolve_period
from dashboard.i18n import normalise_lang
from etl.warehouse.schema import FACILITY_TYPES, MODES

FILTER_KEYS: tuple[str, ...] = (
    "period", "from", "to", "state", "district", "block", "facility", "ftype", "mode", "specialty",
)
KEY_ORDER: tuple[str, ...] = (*FILTER_KEYS, "lang")
MAX_LIST = 200


@dataclass(frozen=True)
class ViewState:
    period: str
    filter: Filter
    lang: str
    states: tuple[int, ...] = ()
    params: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: str = "") -> str:
        return self.params.get(key, default)


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()][:MAX_LIST]


def _int_list(raw: str | None) -> tuple[int, ...]:
    out = []
    for part in _split(raw):
        try:
            out.append(int(part))
        except ValueError:
            continue
    return tuple(out)


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def parse_params(search: str | None) -> dict[str, str]:
    query = (search or "").lstrip("?")
    return {k: v for k, v in parse_qsl(query, keep_blank_values=False)}


def parse_search(search: str | None, today: date, default_lang: str | None = None) -> ViewState:
    """The view of a query string; ``default_lang`` (the remembered language) applies when it has no ``lang``."""
    params = parse_params(search)
    period = params.get("period", DEFAULT_PERIOD)
    if period not in PERIOD_PRESETS:
        period = DEFAULT_PERIOD
    start, end = resolve_period(period, today, _date(params.get("from")), _date(params.get("to")))
    if period == "custom" and (_date(params.get("from")) is None or _date(params.get("to")) is None):
        period = DEFAULT_PERIOD
    filt = Filter(
        start=start,
        end=end,
        district_lgds=_int_list(params.get("district")),
        block_lgds=_int_list(params.get("block")),
        facility_ids=tuple(_split(params.get("facility"))),
        facility_types=tuple(x for x in _split(params.get("ftype")) if x in FACILITY_TYPES),
        modes=tuple(x for x in _split(params.get("mode")) if x in MODES),
        specialties=tuple(_split(params.get("specialty"))),
    )
    return ViewState(period=period, filter=filt, lang=normalise_lang(params.get("lang") or default_lang),
                     states=_int_list(params.get("state")), params=params)


def _encode(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return ",".join(str(v) for v in value if v is not None and str(v) != "")
    return str(value)


def to_search(params: Mapping[str, object]) -> str:
    """``?k=v&...`` with known keys first in a fixed order and empty values dropped ("" when nothing is left)."""
    encoded = {k: _encode(v) for k, v in params.items()}
    encoded = {k: v for k, v in encoded.items() if v}
    if encoded.get("period", DEFAULT_PERIOD) == DEFAULT_PERIOD:
        encoded.pop("period", None)
    if encoded.get("period") != "custom":
        encoded.pop("from", None)
        encoded.pop("to", None)
    if encoded.get("lang") == "en":
        encoded.pop("lang")
    ordered = [(k, encoded[k]) for k in KEY_ORDER if k in encoded]
    ordered += sorted((k, v) for k, v in encoded.items() if k not in KEY_ORDER)
    return "?" + urlencode(ordered, safe=",") if ordered else ""


def merge_search(search: str | None, updates: Mapping[str, object]) -> str:
    """``search`` with ``updates`` applied (a None or empty value removes the key)."""
    params: dict[str, object] = dict(parse_params(search))
    params.update(updates)
    return to_search(params)


def filter_to_params(view: ViewState) -> dict[str, object]:
    """The filter part of a view as URL params (the inverse of ``parse_search`` for the filter keys)."""
    f = view.filter
    return {
        "period": view.period,
        "from": f.start if view.period == "custom" else None,
        "to": f.end if view.period == "custom" else None,
        "state": view.states,
        "district": f.district_lgds,
        "block": f.block_lgds,
        "facility": f.facility_ids,
        "ftype": f.facility_types,
        "mode": f.modes,
        "specialty": f.specialties,
        "lang": view.lang,
    }
