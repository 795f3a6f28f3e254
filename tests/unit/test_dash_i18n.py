"""Translation catalogue and Indian number and date formats."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from dashboard.i18n import EN, HI, format_date, format_indian, format_pct, format_short, name_of, t


@pytest.mark.parametrize(("value", "expected"), [
    (0, "0"), (999, "999"), (1000, "1,000"), (99999, "99,999"), (100000, "1,00,000"), (12345678, "1,23,45,678"),
    (-1234567, "-12,34,567"), (1234.5, "1,234"), (None, "–"), (float("nan"), "–"),
])
def test_dash001_indian_grouping(value, expected):  # type: ignore[no-untyped-def]
    assert format_indian(value) == expected


def test_dash002_indian_grouping_with_decimals():  # type: ignore[no-untyped-def]
    assert format_indian(1234567.891, 2) == "12,34,567.89"
    assert format_pct(77.7777) == "77.8%"


@pytest.mark.parametrize(("value", "lang", "expected"), [
    (95_000, "en", "95,000"), (1_23_000, "en", "1.23 lakh"), (32_20_000, "en", "32.2 lakh"),
    (4_30_00_00_000, "en", "430 crore"), (43_00_00_000, "en", "43.0 crore"), (1_50_00_000, "hi", "1.50 करोड़"),
    (2_50_000, "hi", "2.50 लाख"),
])
def test_dash003_short_form(value, lang, expected):  # type: ignore[no-untyped-def]
    assert format_short(value, lang) == expected


def test_dash004_dates_are_day_month_year():  # type: ignore[no-untyped-def]
    assert format_date(date(2025, 8, 1)) == "01-08-2025"
    assert format_date(datetime(2025, 8, 31, 22, 5)) == "31-08-2025 22:05"
    assert format_date(None) == "–"


def test_dash005_every_key_has_hindi_and_placeholders_match():  # type: ignore[no-untyped-def]
    assert set(EN) == set(HI)
    for key in EN:
        assert set(re.findall(r"{(\w+)}", EN[key])) == set(re.findall(r"{(\w+)}", HI[key])), key


def test_dash006_lookup_and_fallbacks():  # type: ignore[no-untyped-def]
    assert t("nav.overview", "hi") == "राज्य अवलोकन"
    assert t("nav.overview", "xx") == "State overview"
    assert t("no.such.key", "hi") == "no.such.key"
    assert t("kpi.active_spokes_sub", "en", active="7", total="9") == "7 of 9 spokes"


def test_dash007_names_by_language():  # type: ignore[no-untyped-def]
    row = {"name_en": "KISHANGANJ", "name_hi": "किशनगंज"}
    assert name_of(row, "hi") == "किशनगंज" and name_of(row, "en") == "KISHANGANJ"
    assert name_of({"name_en": "X", "name_hi": ""}, "hi") == "X"


def test_dash008_every_translation_key_used_in_code_exists():  # type: ignore[no-untyped-def]
    root = Path(__file__).resolve().parents[2] / "dashboard"
    used = set()
    for path in root.rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    assert used, "no t() calls found"
    assert sorted(used - set(EN)) == []
