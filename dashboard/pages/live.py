"""The live board (`/live/<lgd>`; `/live` lists the districts): hubs and spokes serving / idle / offline, doctors
online, queue, estimated wait, last seen; a map coloured by state; the district's alerts with acknowledge; and the
history of its hubs (state timeline per day, service-hours compliance).

Refresh: a ``dcc.Interval`` (every 10 s) re-reads the current status. The browser keeps what it shows in
``live-snapshot``; the callback compares and sends only the difference — the changed points of the map as a
``dash.Patch`` (colour and hover text), the changed rows of the table as an AG Grid ``rowTransaction``, the KPIs,
banner and alerts only when they changed — and nothing at all (HTTP 204) when nothing changed.

Every officer looking at a district sees the same board, so what a refresh computes (the board, the alerts, the map)
is kept briefly in the shared result cache and computed once for all of them: keyed by the live version (bumped by
every committed status ingest, alert and acknowledgement: a new status shows at the next refresh) and by the current
minute (``SHARED_S``: what changes with time alone, a facility silent for ``offline_minutes`` turning offline or the
service hours starting, shows at most a minute late, like the "as of HH:MM" line), besides the data version, scope
and language. The history (minute resolution) and the state-wide district list likewise.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
import orjson
import pandas as pd
from dash import ALL, Input, Output, Patch, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app
from plotly.io.json import to_json_plotly

from dashboard.alerts.service import get_alerts
from dashboard.alerts.texts import alert_text
from dashboard.data import live as data
from dashboard.data import reference
from dashboard.figures.live import STATE_COLOURS, compliance_grid, live_map, state_timeline
from dashboard.i18n import format_date, format_indian, name_of, t
from dashboard.runtime import current_scope, get_runtime
from dashboard.ui.chart_table import table_view
from dashboard.ui.frame import bare_frame, page_layout, page_title, search_from_kwargs
from dashboard.ui.geo import geojson_url, has_boundaries
from dashboard.ui.states import empty, error, loading
from dashboard.ui.widgets import column, grid, kpi_card, section
from dashboard.urlstate import ViewState, merge_search
from etl.transform.context import now_ist

PAGE = "live"
PATH_RE = re.compile(r"^live/(\d+)$")
HISTORY_REFRESH_MS = 60_000
RECENT_CLEARED = timedelta(hours=2)
SHARED_S = 60  # how long a shared board may be reused while no live change is committed (see the module doc)

dash.register_page(__name__, path_template="/live/<lgd>", name="Live", title=page_title("nav.live"))


def config() -> data.LiveConfig:
    return data.LiveConfig.from_settings(get_runtime().settings)


def live_now() -> datetime:
    """The current time in IST (the live board always runs on the real clock)."""
    return now_ist().replace(microsecond=0)


def _district_row(lgd: int | None) -> dict[str, Any] | None:
    if lgd is None:
        return None
    frame_ = reference.districts(get_runtime().data, current_scope())
    match = frame_[frame_["district_lgd"] == lgd]
    return None if match.empty else match.iloc[0].to_dict()


def _chooser(lang: str, value: int | None = None) -> html.Div:
    options = [{"value": int(r.district_lgd), "label": name_of(r, lang)}
               for r in reference.districts(get_runtime().data, current_scope()).itertuples()]
    return html.Div([dbc.Label(t("live.choose", lang), className="small mb-0"),
                     dcc.Dropdown(id="live-choose", options=options, value=value, clearable=False)],
                    style={"minWidth": "260px"})


def live_frame(view: ViewState, pathname: str, search: str, body: list[Any]) -> html.Div:
    """The app's navbar without the period filter bar: the live board is always "now"."""
    return bare_frame(view, PAGE, pathname, search, body)


def _history_days(today: date) -> list[date]:
    return [today - timedelta(days=n) for n in range(data.HISTORY_DAYS - 1, -1, -1)]


def board_body(view: ViewState, lgd: int | None, search: str) -> list[Any]:
    lang = view.lang
    row = _district_row(lgd)
    if row is None:
        notice = [dbc.Alert(t("district.unknown", lang, lgd=lgd), color="warning")] if lgd is not None else []
        return [*notice, html.H1(t("live.title_state", lang), className="h4"), _chooser(lang),
                section(t("live.districts", lang), loading(html.Div(id="live-districts")), id_="live-districts-card"),
                dcc.Interval(id="live-districts-interval", interval=config().refresh_s * 1000),
                dcc.Store(id="live-districts-key", data=None)]
    cfg = config()
    today = live_now().date()
    days = _history_days(today)
    day_options = [{"value": d.isoformat(), "label": format_date(d)} for d in reversed(days)]
    table_cols = [
        column("name", t("live.col.facility", lang), pinned="left", minWidth=180),
        column("role_label", t("live.col.role", lang), maxWidth=110),
        column("block", t("col.block", lang)),
        column("state_label", t("live.col.state", lang), cellStyle={"styleConditions": [
            {"condition": f"params.data.state == '{s}'",
             "style": {"color": "#fff" if s != "idle" else "#212529", "backgroundColor": STATE_COLOURS[s]}}
            for s in data.STATES]}),
        column("doctors_online", t("live.col.doctors", lang), "int"),
        column("queue_length", t("live.col.queue", lang), "int"),
        column("wait_minutes", t("live.col.wait", lang), "int"),
        column("last_seen", t("live.col.last_seen", lang)),
        column("connectivity", t("live.col.connectivity", lang)),
    ]
    back = dcc.Link(t("live.all_districts", lang), href=dash.get_relative_path("/live") + merge_search(search, {}),
                    className="small")
    return [
        dcc.Store(id="live-ready", data=lgd),
        dcc.Store(id="live-snapshot", data=None),
        dcc.Interval(id="live-interval", interval=cfg.refresh_s * 1000),
        dcc.Interval(id="live-history-interval", interval=HISTORY_REFRESH_MS),
        dcc.Store(id="live-history-key", data=None),
        html.Div([back]),
        html.Div([
            html.H1(t("live.title", lang, name=name_of(row, lang)), className="h4 mb-0 me-3"),
            html.Span(id="live-asof", className="text-muted small me-3"),
            html.Small(t("live.refresh_note", lang, seconds=cfg.refresh_s, minutes=cfg.offline_minutes),
                       className="text-muted"),
        ], className="d-flex align-items-baseline flex-wrap mb-2"),
        html.Div(id="live-banner"),
        loading(html.Div(id="live-kpis", className="mb-3")),
        dbc.Row([
            dbc.Col(section(t("live.map", lang), [
                html.Div([dcc.Graph(id="live-map", config={"displayModeBar": False, "scrollZoom": True}),
                          table_view("live-map", lang)]),
                html.Div(id="live-map-status"),
            ]), lg=8),
            dbc.Col(section(t("live.alerts", lang), html.Div(id="live-alerts", className="live-alerts")), lg=4),
        ], className="g-3"),
        section(t("live.board", lang), grid("live-table", table_cols, lang, row_id="facility_id", height=420)),
        section(t("live.history", lang), [
            html.Div([dbc.Label(t("live.history.day", lang), className="small mb-0"),
                      dcc.Dropdown(id="live-history-day", options=day_options, value=today.isoformat(),
                                   clearable=False, searchable=False)], style={"maxWidth": "220px"}),
            html.H3(t("live.history.timeline", lang), className="h6 mt-3"),
            html.Div([loading(dcc.Graph(id="live-timeline", config={"displayModeBar": False})),
                      table_view("live-timeline", lang)]),
            html.H3(t("live.history.compliance", lang, days=len(days)), className="h6 mt-3"),
            html.Div([loading(dcc.Graph(id="live-compliance", config={"displayModeBar": False})),
                      table_view("live-compliance", lang)]),
            html.Div(id="live-history-status"),
        ]),
    ]


@page_layout
def layout(lgd: str | None = None, **kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    view = get_runtime().view(search)
    district = int(lgd) if lgd and str(lgd).isdigit() else None
    return live_frame(view, f"/live/{lgd}", search, board_body(view, district, search))


@page_layout
def index_layout(**kwargs: Any) -> Any:
    search = search_from_kwargs(kwargs)
    view = get_runtime().view(search)
    district = view.filter.district_lgds[0] if len(view.filter.district_lgds) == 1 else None
    return live_frame(view, "/live", search, board_body(view, district, search))


dash.register_page(f"{__name__}_index", path="/live", name="Live", title=page_title("nav.live"), layout=index_layout)


# ---------------------------------------------------------------------------- rows as shown


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def table_rows(rows: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    out = []
    never = t("never", lang)
    for r in rows.to_dict("records"):
        last = r.get("event_time")
        out.append({
            "facility_id": r["facility_id"], "name": f"{r['name']} ({r['facility_type']})",
            "role_label": t(f"role.{r['role']}", lang),
            "block": name_of(r, lang, "block_en", "block_hi") or "–",
            "state": r["state"], "state_label": t(f"live.state.{r['state']}", lang),
            "doctors_online": _int(r.get("doctors_online")) if r["fresh"] else None,
            "queue_length": _int(r.get("queue_length")) if r["fresh"] else None,
            "wait_minutes": _int(r.get("wait_minutes")),
            "last_seen": format_date(pd.Timestamp(last).to_pydatetime()) if last is not None and not pd.isna(last)
            else never,
            "connectivity": (r.get("connectivity") or "–") if r["fresh"] else "–",
        })
    return out


def _signature(row: dict[str, Any]) -> list[Any]:
    return [row["state"], row["doctors_online"], row["queue_length"], row["wait_minutes"], row["last_seen"],
            row["connectivity"]]


def _digest(value: Any) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def kpi_row(counts: dict[str, int], lang: str) -> dbc.Row:
    def card(role: str) -> dbc.Card:
        sub = t("live.kpi.states", lang, idle=format_indian(counts[f"{role}_idle"]),
                offline=format_indian(counts[f"{role}_offline"]), closed=format_indian(counts[f"{role}_off_hours"]))
        return kpi_card(t(f"live.kpi.{role}s_serving", lang),
                        t("live.kpi.of", lang, n=format_indian(counts[f"{role}_serving"]),
                          total=format_indian(counts[f"{role}_total"])), sub, f"live-kpi-{role}s")

    cards = [card("hub"), card("spoke"),
             kpi_card(t("live.kpi.doctors", lang), format_indian(counts["doctors_online"]), "", "live-kpi-doctors"),
             kpi_card(t("live.kpi.queue", lang), format_indian(counts["queue"]), "", "live-kpi-queue")]
    return dbc.Row([dbc.Col(c, xs=6, xl=3) for c in cards], className="g-2")


def banner(b: data.LiveBoard, lang: str) -> Any:
    if b.rows.empty:
        return empty(lang, "state.empty_facilities")
    if not b.in_service:
        return dbc.Alert(t("live.off_hours", lang, start=b.hours[0], end=b.hours[1]), color="secondary",
                         id="live-off-hours", className="py-2")
    return None


# ---------------------------------------------------------------------------- alerts


def district_alerts(lgd: int, now: datetime) -> pd.DataFrame:
    from sqlalchemy import or_, select

    from dashboard.data.sql import read_df, scope_clause
    from etl.warehouse.schema import alert

    a = alert.c
    stmt = (select(a.alert_id, a.kind, a.facility_id, a.district_lgd, a.raised_at, a.cleared_at, a.acknowledged_at,
                   a.acknowledged_by, a.message, a.details)
            .where(a.district_lgd == lgd, scope_clause(a.district_lgd, current_scope()),
                   or_(a.cleared_at.is_(None), a.cleared_at >= now - RECENT_CLEARED))
            .order_by(a.cleared_at.is_not(None), a.raised_at.desc()).limit(50))
    with get_runtime().data.engine.connect() as conn:
        return read_df(conn, stmt)


def alerts_list(frame: pd.DataFrame, lang: str) -> Any:
    if frame.empty:
        return html.Div(t("live.alerts.none", lang), className="text-muted small", id="live-alerts-none")
    items = []
    for r in frame.to_dict("records"):
        cleared = r["cleared_at"] is not None and not pd.isna(r["cleared_at"])
        acked = r["acknowledged_at"] is not None and not pd.isna(r["acknowledged_at"])
        meta = [t("live.alerts.raised", lang, when=format_date(pd.Timestamp(r["raised_at"]).to_pydatetime()))]
        if cleared:
            meta.append(t("live.alerts.cleared", lang,
                          when=format_date(pd.Timestamp(r["cleared_at"]).to_pydatetime())))
        if acked:
            meta.append(t("live.alerts.acked", lang, who=r["acknowledged_by"] or "–",
                          when=format_date(pd.Timestamp(r["acknowledged_at"]).to_pydatetime())))
        button = None if acked else dbc.Button(t("live.alerts.ack", lang), id={"type": "live-ack",
                                                                                "alert": int(r["alert_id"])},
                                               size="sm", color="secondary", outline=True, className="ms-2")
        colour = "secondary" if cleared else ("warning" if acked else "danger")
        items.append(dbc.ListGroupItem([
            html.Div([html.Span(alert_text(r, lang), className="fw-semibold"), button],
                     className="d-flex justify-content-between align-items-start"),
            html.Small(" · ".join(meta), className="text-muted"),
        ], color=colour, className=f"live-alert live-alert-{r['kind']}", id=f"live-alert-{int(r['alert_id'])}"))
    return dbc.ListGroup(items, flush=True)


def _alerts_signature(frame: pd.DataFrame) -> str:
    return _digest([[r.alert_id, str(r.cleared_at), str(r.acknowledged_at)] for r in frame.itertuples()])


def _username() -> str:
    try:
        from dashboard.auth.session import current_principal

        principal = current_principal()
        return principal.username if principal is not None else "dashboard"
    except Exception:  # noqa: BLE001 - before sign-in exists, or outside a request
        return "dashboard"


# ---------------------------------------------------------------------------- callbacks


def _shared(name: str, parts: tuple[Any, ...], compute: Any) -> Any:
    """``compute()``'s JSON-able value, kept in the result cache under ``parts`` plus the scope, the data version and
    the live version (see the module doc), as JSON bytes; computed once for every viewer of the same key."""
    rt = get_runtime()
    key = (current_scope(), rt.data.live_version(), *parts)
    return orjson.loads(rt.data.memoise(f"live:{name}", key, lambda: (to_json_plotly(compute()).encode(), True)))


def _period(now: datetime) -> int:
    """The number of the current minute: a cached board lives at most until the minute changes."""
    return int(now.timestamp() // SHARED_S)


def board_state(lgd: int, lang: str, now: datetime) -> dict[str, Any]:
    """What a refresh of district ``lgd`` shows, shared by every viewer: rows, their signatures, the full outputs
    and the position of each facility on the map."""

    def compute() -> dict[str, Any]:
        b = data.board(get_runtime().data, current_scope(), lgd, now, config())
        alerts = district_alerts(lgd, now)
        records = table_rows(b.rows, lang)
        counts = b.counts()
        geo = geojson_url() if has_boundaries() else None
        figure, positions = live_map(b.rows, geo, lgd, lang)
        return {"records": records, "signatures": {r["facility_id"]: _signature(r) for r in records},
                "kpis_key": _digest(counts), "kpis": kpi_row(counts, lang),
                "banner_key": _digest([b.in_service, b.hours, b.rows.empty]), "banner": banner(b, lang),
                "alerts_key": _alerts_signature(alerts), "alerts": alerts_list(alerts, lang),
                "asof": t("live.asof", lang, time=now.strftime("%H:%M")), "figure": figure, "positions": positions}

    return _shared("board", (lgd, lang, _period(now)), compute)


@callback(Output("live-map", "figure"), Output("live-table", "rowData"), Output("live-table", "rowTransaction"),
          Output("live-snapshot", "data"), Output("live-kpis", "children"), Output("live-banner", "children"),
          Output("live-alerts", "children"), Output("live-asof", "children"), Output("live-map-status", "children"),
          Input("live-ready", "data"), Input("live-interval", "n_intervals"),
          State("live-snapshot", "data"), State("url", "search"))
def refresh(lgd: int | None, _ticks: int | None, snapshot: dict[str, Any] | None, search: str | None) -> tuple:
    if lgd is None:
        raise PreventUpdate
    rt = get_runtime()
    lang = rt.view(search).lang
    now = live_now()
    service = get_alerts(current_app)
    if service is not None:
        service.maybe_evaluate()
    try:
        state = board_state(int(lgd), lang, now)
    except Exception as exc:  # noqa: BLE001
        return (no_update,) * 8 + (error(lang, exc, "live.board"),)
    records, signatures, asof = state["records"], state["signatures"], state["asof"]
    full = (snapshot is None or ctx.triggered_id != "live-interval" or snapshot.get("lgd") != lgd
            or snapshot.get("lang") != lang or set(snapshot.get("rows", {})) != set(signatures))
    if full:
        new_snapshot = {"lgd": lgd, "lang": lang, "pos": state["positions"], "rows": signatures,
                        "kpis": state["kpis_key"], "banner": state["banner_key"], "alerts": state["alerts_key"],
                        "asof": asof}
        return (state["figure"], records, no_update, new_snapshot, state["kpis"], state["banner"], state["alerts"],
                asof, None)
    changed = [r for r in records if snapshot["rows"].get(r["facility_id"]) != signatures[r["facility_id"]]]
    kpis_changed = snapshot.get("kpis") != state["kpis_key"]
    banner_changed = snapshot.get("banner") != state["banner_key"]
    alerts_changed = snapshot.get("alerts") != state["alerts_key"]
    asof_changed = snapshot.get("asof") != asof
    if not (changed or kpis_changed or banner_changed or alerts_changed or asof_changed):
        raise PreventUpdate  # nothing to send: HTTP 204
    figure_patch: Any = no_update
    transaction: Any = no_update
    store = Patch()
    if changed:
        figure_patch = Patch()
        texts = {fid: state["figure"]["data"][trace]["text"][index]
                 for fid, (trace, index) in state["positions"].items()}
        for r in changed:
            fid = r["facility_id"]
            store["rows"][fid] = signatures[fid]
            position = snapshot["pos"].get(fid)
            if position is None or fid not in texts:  # not on the map (no coordinates)
                continue
            trace, index = position
            figure_patch["data"][trace]["marker"]["color"][index] = STATE_COLOURS[r["state"]]
            figure_patch["data"][trace]["text"][index] = texts[fid]
        transaction = {"update": changed}
    if kpis_changed:
        store["kpis"] = state["kpis_key"]
    if banner_changed:
        store["banner"] = state["banner_key"]
    if alerts_changed:
        store["alerts"] = state["alerts_key"]
    if asof_changed:
        store["asof"] = asof
    return (figure_patch, no_update, transaction, store, state["kpis"] if kpis_changed else no_update,
            state["banner"] if banner_changed else no_update, state["alerts"] if alerts_changed else no_update,
            asof if asof_changed else no_update, no_update)


@callback(Output("live-alerts", "children", allow_duplicate=True), Output("live-snapshot", "data",
                                                                          allow_duplicate=True),
          Input({"type": "live-ack", "alert": ALL}, "n_clicks"), State("live-ready", "data"), State("url", "search"),
          prevent_initial_call=True)
def acknowledge(clicks: list[int | None], lgd: int | None, search: str | None) -> tuple[Any, Any]:
    triggered = ctx.triggered_id
    if lgd is None or not isinstance(triggered, dict) or not any(clicks or []):
        raise PreventUpdate
    lang = get_runtime().view(search).lang
    service = get_alerts(current_app)
    if service is None:
        raise PreventUpdate
    alert_id = int(triggered["alert"])
    # Only an alert of the district on screen, within the user's scope, may be acknowledged from here.
    now = live_now()
    alerts = district_alerts(int(lgd), now)
    if alert_id not in set(alerts["alert_id"].astype(int)):
        raise PreventUpdate
    service.acknowledge(alert_id, _username(), now)
    alerts = district_alerts(int(lgd), now)
    store = Patch()
    store["alerts"] = _alerts_signature(alerts)
    return alerts_list(alerts, lang), store


@callback(Output("live-timeline", "figure"), Output("live-compliance", "figure"),
          Output("live-history-status", "children"), Output("live-history-key", "data"),
          Input("live-ready", "data"), Input("live-history-day", "value"),
          Input("live-history-interval", "n_intervals"), State("url", "search"), State("live-history-key", "data"))
def update_history(lgd: int | None, day: str | None, _ticks: int | None, search: str | None,
                   shown: str | None) -> tuple[Any, Any, Any, Any]:
    if lgd is None:
        raise PreventUpdate
    rt = get_runtime()
    lang = rt.view(search).lang
    now = live_now().replace(second=0)  # minute resolution: today's timeline grows by the minute
    days = _history_days(now.date())
    try:
        chosen = date.fromisoformat(day) if day else now.date()
    except ValueError:
        chosen = now.date()

    def compute() -> list[Any]:
        segments, table = data.history(rt.data, current_scope(), int(lgd), days, now, config())
        key = _digest([lgd, lang, chosen.isoformat(), [d.isoformat() for d in days],
                       segments.astype(str).to_numpy().tolist()])
        status = empty(lang, "live.history.empty") if segments.empty else None
        return [state_timeline(segments, chosen, lang), compliance_grid(table, days, lang), status, key]

    try:
        timeline_, grid_, status, key = _shared("history", (int(lgd), lang, chosen.isoformat(), now.isoformat()),
                                                compute)
    except Exception as exc:  # noqa: BLE001
        return no_update, no_update, error(lang, exc, "live.history"), None
    if key == shown and ctx.triggered_id == "live-history-interval":
        raise PreventUpdate  # the same history as on screen: send nothing
    return timeline_, grid_, status, key


@callback(Output("live-districts", "children"), Output("live-districts-key", "data"),
          Input("live-districts-interval", "n_intervals"), State("url", "search"), State("live-districts-key", "data"))
def update_districts(_ticks: int | None, search: str | None, shown: str | None) -> tuple[Any, Any]:
    rt = get_runtime()
    lang = rt.view(search).lang
    now = live_now()
    try:
        table, key = _shared("districts", (lang, search or "", _period(now)),
                             lambda: list(district_table(data.district_summary(rt.data, current_scope(), now,
                                                                               config()), lang, search)))
    except Exception as exc:  # noqa: BLE001
        return error(lang, exc, "live.districts"), None
    if key == shown:
        raise PreventUpdate  # unchanged since the last tick
    return table, key


def district_table(frame_: pd.DataFrame, lang: str, search: str | None) -> tuple[Any, str]:
    """(the state view's table of districts, its signature)."""
    key = _digest([lang, frame_.astype(str).to_numpy().tolist()])
    if frame_.empty:
        return empty(lang, "state.empty_facilities"), key
    header = html.Thead(html.Tr([html.Th(t(k, lang)) for k in (
        "filter.district", "live.kpi.hubs_serving", "live.col.hubs_offline", "live.kpi.spokes_serving",
        "live.kpi.doctors", "live.kpi.queue")]))
    body = []
    for r in frame_.itertuples():
        link = dcc.Link(name_of(r, lang), href=dash.get_relative_path(f"/live/{int(r.district_lgd)}")
                        + merge_search(search, {}))
        body.append(html.Tr([
            html.Td(link),
            html.Td(t("live.kpi.of", lang, n=format_indian(r.hubs_serving), total=format_indian(r.hubs))),
            html.Td(format_indian(r.hubs_offline), className="text-danger fw-semibold" if r.hubs_offline else ""),
            html.Td(t("live.kpi.of", lang, n=format_indian(r.spokes_serving), total=format_indian(r.spokes))),
            html.Td(format_indian(r.doctors_online)), html.Td(format_indian(r.queue)),
        ]))
    return dbc.Table([header, html.Tbody(body)], size="sm", hover=True, responsive=True, className="mb-0"), key


@callback(Output("url", "pathname", allow_duplicate=True), Input("live-choose", "value"), State("url", "search"),
          prevent_initial_call=True)
def choose(lgd: int | None, search: str | None) -> Any:
    if lgd is None:
        raise PreventUpdate
    return dash.get_relative_path(f"/live/{int(lgd)}")
