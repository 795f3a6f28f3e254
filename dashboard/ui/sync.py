"""App-wide callbacks of the frame: keep URL-bound controls and the query string in step, cascade the geography
options, and keep the navbar links carrying the current filters.

One callback owns ``url.search``: a control change writes the query string (a history entry, so the back button
works); a query-string change (back/forward, a pasted link) sets the controls.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, no_update

from dashboard.data.filters import resolve_period
from dashboard.runtime import get_runtime
from dashboard.ui.frame import NAV_PAGES, block_options, facility_options, lang_href, nav_search, url_id
from dashboard.urlstate import merge_search, parse_params

INT_KEYS = {"state", "district", "block", "cmp"}
LIST_KEYS = {"district", "block", "facility", "ftype", "mode", "specialty", "cmp", "links"}
# Choosing a broader place clears the narrower choices under it.
CHILDREN = {"state": ("district", "block", "facility"), "district": ("block", "facility"), "block": ("facility",)}
DEFAULTS = {"period": "last30", "metric": "consultations", "grain": "day",
            # hubs, CHO and scheme pages (issue 4)
            "idle": "7", "dist": "consultations", "cov": "laptop_pct", "ind": "ABHA_CREATED"}


def decode(key: str, raw: str | None) -> Any:
    """A query-string value as the control holding ``key`` wants it."""
    if key in LIST_KEYS:
        parts = [p for p in (raw or "").split(",") if p]
        if key in INT_KEYS:
            return [int(p) for p in parts if p.lstrip("-").isdigit()]
        return parts
    if key in INT_KEYS:
        return int(raw) if raw and raw.lstrip("-").isdigit() else None
    return raw if raw else DEFAULTS.get(key)


def encode(key: str, value: Any) -> Any:
    if value is None or value == [] or value == "":
        return None
    return value


def sync(search: str | None, values: list[Any], dates: list[Any], value_ids: list[dict], date_ids: list[dict],
         triggered: set[str]) -> tuple[Any, list[Any], list[Any]]:
    """The pure core of the sync callback: (new search or no_update, control values, date values)."""
    rt = get_runtime()
    keys = [i["key"] for i in value_ids]
    date_keys = [i["key"] for i in date_ids]
    if len(triggered) > 1 and "url.search" not in triggered:
        # New controls appearing (a page was rendered from the URL) fire this callback for all of them at once; a
        # person changes one control at a time. The controls already show the URL, so there is nothing to do.
        return no_update, [no_update] * len(keys), [no_update] * len(date_keys)
    if not triggered or "url.search" in triggered:
        params = parse_params(search)
        view = rt.view(search)
        new_values = [decode(k, params.get(k)) for k in keys]
        new_dates = [(view.filter.start if k == "from" else view.filter.end).isoformat() for k in date_keys]
        return no_update, new_values, new_dates
    current = dict(zip(keys, values, strict=True))
    current_dates = dict(zip(date_keys, dates, strict=True))
    updates: dict[str, Any] = {k: encode(k, v) for k, v in current.items()}
    out_values: list[Any] = [no_update] * len(keys)
    out_dates: list[Any] = [no_update] * len(date_keys)
    changed_keys = {_key_of(p) for p in triggered}
    for parent, children in CHILDREN.items():
        if parent in changed_keys:
            for child in children:
                if child in current:
                    updates[child] = None
                    out_values[keys.index(child)] = None if child == "state" else []
    if changed_keys & {"from", "to"}:
        start, end = current_dates.get("from"), current_dates.get("to")
        updates.update({"period": "custom", "from": start, "to": end})
        if "period" in current:
            out_values[keys.index("period")] = "custom"
    elif "period" in changed_keys:
        period = current.get("period") or DEFAULTS["period"]
        view = rt.view(search)
        start, end = resolve_period(period, rt.today(), view.filter.start, view.filter.end)
        updates.update({"period": period, "from": start if period == "custom" else None,
                        "to": end if period == "custom" else None})
        out_dates = [(start if k == "from" else end).isoformat() for k in date_keys]
    new_search = merge_search(search, updates)
    return (new_search if new_search != (search or "") else no_update), out_values, out_dates


def _key_of(prop_id: str) -> str:
    import json

    component = prop_id.rsplit(".", 1)[0]
    if component.startswith("{"):
        return json.loads(component).get("key", "")
    return component


def register(app: dash.Dash) -> None:
    # The phone's folded menu and filter bar open in the browser (assets/a11y.js), without a server round trip.
    for button, panel in (("nav-toggle", "nav-collapse"), ("filter-toggle", "filter-collapse")):
        app.clientside_callback(ClientsideFunction("arogya", "toggle"), Output(panel, "is_open"),
                                Output(button, "aria-expanded"), Input(button, "n_clicks"), State(panel, "is_open"),
                                prevent_initial_call=True)

    @app.callback(
        Output("url", "search"),
        Output({"type": "urlparam", "key": ALL}, "value"),
        Output({"type": "urldate", "key": ALL}, "date"),
        Input("url", "search"),
        Input({"type": "urlparam", "key": ALL}, "value"),
        Input({"type": "urldate", "key": ALL}, "date"),
        prevent_initial_call=True,
    )
    def sync_url(search: str | None, values: list[Any], dates: list[Any]) -> tuple[Any, list[Any], list[Any]]:
        ctx = dash.ctx
        value_ids = [item["id"] for item in ctx.inputs_list[1]]
        date_ids = [item["id"] for item in ctx.inputs_list[2]]
        return sync(search, values, dates, value_ids, date_ids, set(ctx.triggered_prop_ids))

    @app.callback(
        Output(url_id("block"), "options"),
        Output(url_id("facility"), "options"),
        Input(url_id("district"), "value"),
        Input(url_id("block"), "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def cascade(districts: list[int] | None, blocks: list[int] | None, search: str | None) -> tuple[list, list]:
        lang = get_runtime().view(search).lang
        district_lgds = tuple(int(d) for d in districts or ())
        return block_options(lang, district_lgds), facility_options(district_lgds, tuple(int(b) for b in blocks or ()))

    @app.callback(
        *[Output(f"nav-{name}", "href") for name, _, _ in NAV_PAGES],
        Output("nav-lang", "href"),
        Input("url", "search"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    def nav_links(search: str | None, pathname: str | None) -> tuple[str, ...]:
        lang = get_runtime().view(search).lang
        carried = nav_search(search)
        return (*[dash.get_relative_path(path) + carried for _, path, _ in NAV_PAGES],
                lang_href(pathname, search, lang))
