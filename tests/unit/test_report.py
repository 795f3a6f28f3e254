"""The district review report without a browser: its month, the numbers it assembles from the data layer (the small
warehouse of ``tests.fixtures.pages4``, every figure worked out by hand there), and its HTML in both languages."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard.data.context import DataContext
from dashboard.data.filters import Filter, Scope
from dashboard.report.chromium import (
    ChromiumMissing,
    RenderBusy,
    Renderer,
    RenderTimeout,
    StaticFiles,
    footer_template,
    kill_marked,
)
from dashboard.report.content import DistrictNotFound, assemble
from dashboard.report.month import MonthError, ReportMonth, default_month, month_options, parse_month
from dashboard.report.page import HERE, cell_text, figures_json, render_html
from tests.fixtures.pages4 import build_pages4_warehouse
from tests.fixtures.warehouse_factory import KAIMUR, KISHANGANJ, TODAY, reader_engine

AUGUST = ReportMonth(2025, 8)
GENERATED = date(2025, 9, 2)


@pytest.fixture(scope="module")
def wh(tmp_path_factory):  # type: ignore[no-untyped-def]
    warehouse = build_pages4_warehouse(tmp_path_factory.mktemp("report"))
    yield warehouse
    warehouse.drop()


@pytest.fixture(scope="module")
def ctx(wh):  # type: ignore[no-untyped-def]
    return DataContext(reader_engine(wh))


def report(ctx, wh, lang: str = "en", scope: Scope | None = None, lgd: int = KISHANGANJ):  # type: ignore[no-untyped-def]
    return assemble(ctx, scope or Scope.districts([KISHANGANJ]), lgd, AUGUST, lang, today=TODAY,
                    geo_dir=wh.settings.geo_dir)


# ---------------------------------------------------------------- the month

@pytest.mark.parametrize("raw", ["2025-8", "2025-13", "2025-00", "25-08", "2025/08", "August", "", None,
                                 "2025-08-01", "1999-12", "२०२५-०८"])
def test_rep001_malformed_months_are_refused(raw):  # type: ignore[no-untyped-def]
    with pytest.raises(MonthError) as info:
        parse_month(raw, TODAY)
    assert info.value.key == "report.error.month"
    assert "YYYY-MM" in info.value.message("en")


def test_rep002_month_bounds_and_future():  # type: ignore[no-untyped-def]
    month = parse_month(" 2025-02 ", TODAY)
    assert (month.first, month.last, month.code) == (date(2025, 2, 1), date(2025, 2, 28), "2025-02")
    assert parse_month("2024-02", TODAY).last == date(2024, 2, 29)
    running = parse_month("2025-08", TODAY)
    assert running.end(date(2025, 8, 20)) == date(2025, 8, 20) and running.is_partial(date(2025, 8, 20))
    f = running.filter(KISHANGANJ, date(2025, 8, 20))
    assert (f.start, f.end, f.district_lgds, f.modes, f.block_lgds) == (date(2025, 8, 1), date(2025, 8, 20),
                                                                        (KISHANGANJ,), (), ())
    with pytest.raises(MonthError) as info:
        parse_month("2025-09", TODAY)
    assert info.value.key == "report.error.future" and "2025-09" in info.value.message("hi")


@pytest.mark.parametrize(("start", "end", "today", "expected"), [
    (date(2025, 8, 2), date(2025, 8, 31), date(2025, 8, 31), "2025-07"),  # August is still running
    (date(2025, 7, 1), date(2025, 7, 31), date(2025, 8, 31), "2025-07"),  # "last month"
    (date(2025, 6, 1), date(2025, 8, 15), date(2025, 9, 10), "2025-07"),  # the period ends mid-August
    (date(2025, 8, 2), date(2025, 8, 31), date(2025, 9, 1), "2025-08"),  # August has ended
    (date(2025, 1, 1), date(2025, 1, 1), date(2025, 1, 1), "2024-12"),
])
def test_rep003_default_month_is_the_last_complete_month_of_the_period(start, end, today, expected):  # type: ignore[no-untyped-def]
    assert default_month(Filter(start, end), today).code == expected


def test_rep004_month_picker_options():  # type: ignore[no-untyped-def]
    options = month_options(TODAY, "en")
    assert len(options) == 24
    assert options[0] == {"value": "2025-08", "label": "August 2025 (so far)"}
    assert options[1] == {"value": "2025-07", "label": "July 2025"}
    assert options[-1]["value"] == "2023-09"
    hindi = month_options(TODAY, "hi", 2)
    assert [o["label"] for o in hindi] == ["अगस्त 2025 (अब तक)", "जुलाई 2025"]


# ---------------------------------------------------------------- the numbers

def test_rep010_kpis_are_the_district_pages(ctx, wh):  # type: ignore[no-untyped-def]
    r = report(ctx, wh)
    assert r.district_name == "KISHANGANJ" and (r.filter.start, r.filter.end) == (date(2025, 8, 1), TODAY)
    row = r.kpi_row
    # K1, K2, K3, K4, K5; spokes S1-S3 of S1-S4 active; hubs H1, H2; CHOs C1-C3 of C1-C4.
    assert (row["consultations"], row["spokes_active"], row["spokes_total"], row["hubs_serving"],
            row["chos_active"], row["chos_total"]) == (5, 3, 4, 2, 3, 4)
    kpis = {k.key: k for k in r.kpis}
    assert kpis["consultations"].value == "5"
    assert kpis["spokes"].value == "75.0%" and kpis["spokes"].sub == "3 of 4 spokes"
    assert kpis["blocks"].value == "2" and kpis["blocks"].sub == "2 of 3 blocks have fewer than two spokes."
    assert r.facilities == 6


def test_rep011_tables_blocks_idle_silent_schemes(ctx, wh):  # type: ignore[no-untyped-def]
    r = report(ctx, wh)
    blocks = r.section("blocks").rows
    assert dict(zip(blocks["block_lgd"], blocks["rule"], strict=True)) == {20301: "met", 20302: "BREACH",
                                                                          20303: "BREACH"}
    assert list(r.section("idle").rows["facility_id"]) == ["S4"]
    assert list(r.section("silent").rows["cho_id"]) == ["C4"]
    schemes = r.section("schemes").rows.set_index("indicator")
    # ABHA in August: S1 29 + S2 12 + S3 60 = 101 of 3 × 60; hypertension screening: S1 100 of 120.
    assert schemes.loc["ABHA numbers created", ["centres", "value", "target"]].tolist() == [3, 101.0, 180.0]
    assert round(schemes.loc["ABHA numbers created", "achieved_pct"], 1) == 56.1
    assert round(schemes.loc["Hypertension screenings (30+)", "achieved_pct"], 1) == 83.3
    assert len(schemes) == 2  # package flags are not targets; indicators nobody reported are left out


def test_rep012_scope_and_unknown_district(ctx, wh):  # type: ignore[no-untyped-def]
    with pytest.raises(DistrictNotFound):
        report(ctx, wh, lgd=KAIMUR)  # exists, but outside the scope
    with pytest.raises(DistrictNotFound):
        report(ctx, wh, scope=Scope.full(), lgd=999)
    with pytest.raises(DistrictNotFound):
        report(ctx, wh, scope=Scope(), lgd=KISHANGANJ)
    kaimur = report(ctx, wh, scope=Scope.full(), lgd=KAIMUR)
    assert kaimur.kpi_row["consultations"] == 4  # A1, A2, A3 and pages4's X1 (A4 is in July)


def test_rep013_map_is_the_district_pages_figure(ctx, wh):  # type: ignore[no-untyped-def]
    figure = report(ctx, wh).map_figure
    outline = figure["data"][0]
    assert outline["geojson"] == "/geo/bihar_districts.geojson" and outline["locations"] == [str(KISHANGANJ)]
    ids = sorted(i for trace in figure["data"] for i in trace.get("customdata", []))
    assert ids == ["H1", "H1", "H2", "H2", "S1", "S2", "S3", "S4"]  # hubs drawn twice (ring and fill)


# ---------------------------------------------------------------- the page

def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('<script type="application/json"')[0]))


def test_rep020_html_in_english(ctx, wh):  # type: ignore[no-untyped-def]
    html = render_html(report(ctx, wh), "/report/static/", GENERATED)
    text = _text(html)
    assert '<html lang="en">' in html
    assert "KISHANGANJ district · August 2025 (so far)" in text
    assert "Period: 01-08-2025 to 31-08-2025 (31 days)" in text and "Generated on 02-09-2025" in text
    assert "Data last loaded: consultations 31-08-2025 22:05" in text
    for expected in ("Consultations 5", "Active spokes 75.0% 3 of 4 spokes", "Hubs serving 2",
                     "20302 Thakurganj 1 1 2 1 BREACH", "S4 HSC Kochadhaman Kochadhaman H2 – –",
                     "C4 Sunita Kumari HSC Kochadhaman Kochadhaman – –",
                     "ABHA numbers created 3 101 180 56.1%", "Hypertension screenings (30+) 1 100 120 83.3%"):
        assert expected in text, expected
    assert html.count('class="breach"') == 2
    assert 'src="/report/static/plotly.min.js"' in html and "cdn" not in html.lower()
    assert "<script>" not in html  # the app's CSP allows no inline script
    figures = json.loads(html.split('id="report-figures">')[1].split("</script>")[0])
    assert figures["map"]["data"][0]["locations"] == [str(KISHANGANJ)]


def test_rep021_html_in_hindi(ctx, wh):  # type: ignore[no-untyped-def]
    html = render_html(report(ctx, wh, "hi"), "/x/report/static/", GENERATED)
    text = _text(html)
    assert '<html lang="hi">' in html
    assert "जिला किशनगंज · अगस्त 2025 (अब तक)" in text
    assert "अवधि: 01-08-2025 से 31-08-2025 (31 दिन)" in text and "02-09-2025 को तैयार" in text
    for expected in ("परामर्श 5", "सक्रिय स्पोक 75.0% 4 में से 3 स्पोक", "20302 ठाकुरगंज 1 1 2 1 उल्लंघन",
                     "योजनाओं की उपलब्धि", "56.1%", "निष्क्रिय सीएचओ"):
        assert expected in text, expected
    assert 'href="/x/report/static/report.css"' in html


def test_rep022_names_are_escaped_and_figures_cannot_end_their_script():  # type: ignore[no-untyped-def]
    evil = "</script><script>alert(1)</script>&"
    out = str(figures_json({"map": {"data": [{"text": [evil]}]}}))
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out)["map"]["data"][0]["text"] == [evil]
    assert cell_text(1234567, "int") == "12,34,567" and cell_text(None, "int") == "–"
    assert cell_text(float("nan"), "pct") == "–" and cell_text(56.111, "pct") == "56.1%"
    assert cell_text(101.0, "float") == "101" and cell_text(2.25, "float") == "2.2"
    assert cell_text(date(2025, 8, 3), "date") == "03-08-2025" and cell_text(pd.NaT, "date") == "–"


def test_rep023_the_fonts_the_stylesheet_names_ship_in_assets():  # type: ignore[no-untyped-def]
    css = (HERE / "static" / "report.css").read_text(encoding="utf-8")
    fonts = re.findall(r"url\(\.\./\.\./assets/fonts/([^)]+)\)", css)
    assert len(fonts) == 6
    root = Path(__file__).resolve().parents[2]
    for name in fonts:
        assert (root / "assets" / "fonts" / name).is_file(), name
    assert "Noto Sans Devanagari" in css and "size: A4" in css


# ---------------------------------------------------------------- the renderer's guards

def test_rep030_static_files_refuse_anything_else(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "geo").mkdir()
    (tmp_path / "geo" / "a.geojson").write_text("{}")
    (tmp_path / "secret.txt").write_text("no")
    (tmp_path / "page.css").write_text("")
    static = StaticFiles(files={"/report/static/page.css": tmp_path / "page.css"}, folders={"/geo/": tmp_path / "geo"})
    assert static.resolve("/report/static/page.css") == tmp_path / "page.css"
    assert static.resolve("/geo/a.geojson") == (tmp_path / "geo" / "a.geojson").resolve()
    for path in ("/geo/../secret.txt", "/geo/%2e%2e/secret.txt", "/geo/", "/report/static/other.css", "/secret.txt",
                 "/geo/missing.geojson"):
        assert static.resolve(path) is None, path


def test_rep031_missing_chromium_is_reported_not_crashed(tmp_path):  # type: ignore[no-untyped-def]
    renderer = Renderer(str(tmp_path / "no-chromium"), timeout_s=5)
    assert "no Chromium executable" in (renderer.missing() or "")
    with pytest.raises(ChromiumMissing) as info:
        renderer.render("<html></html>", "pdf", StaticFiles(files={}))
    assert info.value.status == 503 and info.value.params == {"path": str(tmp_path / "no-chromium")}
    with pytest.raises(ValueError):
        renderer.render("", "gif", StaticFiles(files={}))  # type: ignore[arg-type]
    assert "<b>" not in footer_template("<b>x</b>") and 'class="pageNumber"' in footer_template("x")


def test_rep032_render_slots_are_bounded(tmp_path):  # type: ignore[no-untyped-def]
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    renderer = Renderer(str(fake), timeout_s=1, max_renders=1)
    assert renderer._slots.acquire(timeout=1)  # another render holds the only slot
    try:
        with pytest.raises(RenderBusy) as info:
            renderer.render("<html></html>", "png", StaticFiles(files={}))
        assert info.value.key == "report.error.busy" and info.value.status == 503
    finally:
        renderer._slots.release()


@pytest.mark.skipif(not Path("/usr/bin/chromium").is_file(), reason="/usr/bin/chromium is missing")
def test_rep033_a_page_that_never_gets_ready_times_out(tmp_path):  # type: ignore[no-untyped-def]
    renderer = Renderer("/usr/bin/chromium", timeout_s=3)
    with pytest.raises(RenderTimeout) as info:
        renderer.render("<!DOCTYPE html><html><body>never ready</body></html>", "pdf", StaticFiles(files={}))
    assert info.value.params == {"seconds": 3} and info.value.status == 503
    assert renderer._slots.acquire(timeout=30)  # the slot comes back once the abandoned render has stopped
    renderer._slots.release()


# A "browser" that never answers Playwright and leaves a process of its own (in another session, so the launcher's
# cleanup does not reach it) writing into its profile folder: what a real Chromium does when a loaded machine makes
# the launch itself outlast the deadline.
NEVER_STARTS = """import os, subprocess, sys, time
profile = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--user-data-dir="))
with open(os.path.join(os.path.dirname(sys.argv[0]), "profile.txt"), "w") as out:
    out.write(profile)
writer = ("import os, sys, time\\n"
          "folder, end = os.path.join(sys.argv[1], 'Default'), time.monotonic() + 60\\n"
          "while time.monotonic() < end:\\n"
          "    try:\\n"
          "        os.makedirs(folder, exist_ok=True)\\n"
          "        for n in range(50): open(os.path.join(folder, str(n)), 'w').close()\\n"
          "    except OSError:\\n"
          "        pass\\n")
subprocess.Popen([sys.executable, "-S", "-c", writer, profile, "--user-data-dir=" + profile], start_new_session=True)
time.sleep(60)
"""


def test_rep035_a_launch_cut_short_by_the_deadline_is_a_timeout(tmp_path):  # type: ignore[no-untyped-def]
    """Deterministic: the launch always runs out of time, and the profile folder is still being written as the
    render gives up. That is a timeout (503), never "rendering failed" (the folder's removal raising instead), and
    nothing the launch started is left running."""
    import sys

    fake = tmp_path / "chromium"
    fake.write_text(f"#!{sys.executable} -S\n{NEVER_STARTS}")
    fake.chmod(0o755)
    renderer = Renderer(str(fake), timeout_s=3)
    with pytest.raises(RenderTimeout) as info:
        renderer.render("<html></html>", "pdf", StaticFiles(files={}))
    assert info.value.params == {"seconds": 3} and info.value.status == 503
    assert renderer._slots.acquire(timeout=30)
    renderer._slots.release()
    if not (tmp_path / "profile.txt").exists():  # so loaded a machine that the launch ran out of time first
        return
    profile = (tmp_path / "profile.txt").read_text()
    assert kill_marked(profile) == 0  # the render killed what its launch left behind
    assert not Path(profile).exists()


def test_rep034_watchdog_kills_only_the_marked_processes(tmp_path):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    profile = str(tmp_path / "arogya-report-1")
    marked = subprocess.Popen([*sleeper, f"--user-data-dir={profile}"])
    other = subprocess.Popen([*sleeper, f"--user-data-dir={profile}0"])  # another render's profile
    try:
        assert kill_marked(profile) == 1
        assert marked.wait(timeout=10) == -9
        assert other.poll() is None
    finally:
        for proc in (marked, other):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
