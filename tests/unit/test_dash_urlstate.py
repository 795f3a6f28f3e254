"""Filters in the URL: presets, round trips, hostile input."""

from __future__ import annotations

from datetime import date

from dashboard.data.filters import Filter, Scope, financial_year_start, resolve_period
from dashboard.ui.sync import decode
from dashboard.urlstate import filter_to_params, merge_search, parse_search, to_search

TODAY = date(2025, 8, 31)


def test_dash011_presets():  # type: ignore[no-untyped-def]
    assert resolve_period("today", TODAY) == (TODAY, TODAY)
    assert resolve_period("last7", TODAY) == (date(2025, 8, 25), TODAY)
    assert resolve_period("last30", TODAY) == (date(2025, 8, 2), TODAY)
    assert resolve_period("last90", TODAY) == (date(2025, 6, 3), TODAY)
    assert resolve_period("this_month", TODAY) == (date(2025, 8, 1), TODAY)
    assert resolve_period("last_month", date(2025, 3, 15)) == (date(2025, 2, 1), date(2025, 2, 28))
    assert resolve_period("fy", TODAY) == (date(2025, 4, 1), TODAY)
    assert financial_year_start(date(2026, 2, 1)) == date(2025, 4, 1)
    assert resolve_period("custom", TODAY, date(2025, 8, 10), date(2025, 8, 1)) == (date(2025, 8, 1),
                                                                                       date(2025, 8, 10))


def test_dash012_filter_url_round_trip():  # type: ignore[no-untyped-def]
    search = ("?period=custom&from=2025-08-01&to=2025-08-15&district=203,200&block=20301&facility=S1,H1"
              "&ftype=SC&mode=OPD&specialty=GEN,PED&lang=hi")
    view = parse_search(search, TODAY)
    f = view.filter
    assert f == Filter(date(2025, 8, 1), date(2025, 8, 15), (200, 203), (20301,), ("H1", "S1"), ("SC",), ("OPD",),
                       ("GEN", "PED"))
    assert view.lang == "hi"
    again = parse_search(to_search(filter_to_params(view)), TODAY)
    assert again.filter == f and again.lang == "hi" and again.period == "custom"


def test_dash013_defaults_and_canonical_form():  # type: ignore[no-untyped-def]
    view = parse_search("", TODAY)
    assert view.period == "last30" and view.lang == "en" and view.filter.start == date(2025, 8, 2)
    assert to_search(filter_to_params(view)) == ""
    assert merge_search("?district=203&metric=median_wait", {"district": None}) == "?metric=median_wait"
    assert to_search({"period": "last7", "from": "2025-01-01", "district": [203]}) == "?period=last7&district=203"


def test_dash014_hostile_values_are_dropped():  # type: ignore[no-untyped-def]
    view = parse_search("?period=evil&district=203,x,;drop&mode=OPD,SQL&ftype=<script>&from=2025-99-01", TODAY)
    assert view.period == "last30"
    assert view.filter.district_lgds == (203,)
    assert view.filter.modes == ("OPD",) and view.filter.facility_types == ()
    custom_without_dates = parse_search("?period=custom", TODAY)
    assert custom_without_dates.period == "last30"


def test_dash015_previous_period_has_equal_length():  # type: ignore[no-untyped-def]
    f = Filter(date(2025, 8, 2), date(2025, 8, 31))
    prev = f.previous()
    assert (prev.start, prev.end) == (date(2025, 7, 3), date(2025, 8, 1)) and prev.days == f.days == 30


def test_dash016_scope_is_deny_by_default():  # type: ignore[no-untyped-def]
    assert Scope().is_empty and not Scope().allows(203)
    assert Scope.full().allows(203)
    assert Scope.districts([200]).allows(200) and not Scope.districts([200]).allows(203)


def test_dash017_control_values_from_url():  # type: ignore[no-untyped-def]
    assert decode("district", "203,200") == [203, 200]
    assert decode("mode", "OPD") == ["OPD"]
    assert decode("period", None) == "last30"
    assert decode("state", "10") == 10
    assert decode("links", "1") == ["1"]
