"""The Civil Surgeon's path in a real browser: the state overview, a click on Kishanganj in the ranking table, its
district page (241 facilities: 11 hubs, 230 spokes in the demo), and the block table's CSV export, whose rows are
the rows on screen. Then an administrator uploads block polygons on the district page and the map draws them. Each
step: a screenshot, no console error, no request to any host but 127.0.0.1."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from dashboard.data.tables import BLOCK_COLUMNS
from tests.browser.conftest import END_DATE, LiveApp, Watched
from tests.browser.pages import as_shown, figure_traces, grid_header, grid_rows, sign_in, wait_idle
from tests.fixtures.block_geojson import district_outline, strips

pytestmark = pytest.mark.browser

KISHANGANJ = 203
SUMMARY = re.compile(r"^([\d,]+) facilities: ([\d,]+) hubs, ([\d,]+) spokes$")
PERIOD = "?period=last7"


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_br001_overview_to_kishanganj_and_its_block_csv(live_app: LiveApp, watched: Watched,
                                                         artifacts: Path) -> None:
    page = watched.page
    sign_in(page, live_app.app, live_app.url, "/" + PERIOD, role="analyst")
    page.wait_for_selector("#overview-grid .ag-row")
    wait_idle(page)
    assert page.locator("#overview-period").inner_text().endswith(f"to {END_DATE[8:]}-{END_DATE[5:7]}-{END_DATE[:4]} "
                                                                   "(7 days)")
    page.screenshot(path=str(artifacts / "01-overview.png"), full_page=True)
    watched.check_clean("the overview")

    # Kishanganj in the ranking table: scroll its row into view as a person would, then click its name.
    page.evaluate("(id) => { const api = dash_ag_grid.getApi('overview-grid'); "
                  "api.ensureNodeVisible(api.getRowNode(id), 'middle'); }", str(KISHANGANJ))
    cell = page.locator(f'#overview-grid [row-id="{KISHANGANJ}"] [col-id="district"]')
    assert cell.inner_text() == "KISHANGANJ"
    cell.click()
    page.wait_for_url(f"**/district/{KISHANGANJ}?**")
    page.wait_for_selector("#district-summary-text")
    page.wait_for_selector("#district-blocks .ag-row")
    wait_idle(page)
    assert page.locator("h1").first.inner_text() == "KISHANGANJ district"
    match = SUMMARY.match(page.locator("#district-summary-text").inner_text())
    assert match, page.locator("#district-summary-text").inner_text()
    assert [_number(g) for g in match.groups()] == [241, 11, 230]
    traces = figure_traces(page, "district-map") or []
    drawn = {fid for trace in traces if trace["type"] == "scattermap" for fid in trace["customdata"] or []}
    assert len(drawn) == 241  # every facility is a point on the map
    page.screenshot(path=str(artifacts / "02-district-kishanganj.png"), full_page=True)
    watched.check_clean("the district page")

    # The block table's CSV export has exactly the rows and columns the grid shows.
    header = grid_header(page, "district-blocks")
    shown = grid_rows(page, "district-blocks")
    assert len(shown) >= 5 and all(row.get("block_lgd") for row in shown)
    with page.expect_download() as download_info:
        page.locator("#district-blocks-export").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename.startswith(f"arogya_district-blocks_d{KISHANGANJ}_")
    saved = artifacts / download.suggested_filename
    download.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [label for _, label in header]
    kinds = [next(c.kind for c in BLOCK_COLUMNS if c.key == col) for col, _ in header]
    assert [[as_shown(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows[1:]] == \
        [[row[col] for col, _ in header] for row in shown]
    page.locator("#district-blocks").screenshot(path=str(artifacts / "03-district-blocks-exported.png"))
    watched.check_clean("the export")


def test_br002_admin_uploads_block_polygons(live_app: LiveApp, watched: Watched, artifacts: Path,
                                            tmp_path: Path) -> None:
    page = watched.page
    sign_in(page, live_app.app, live_app.url, f"/district/{KISHANGANJ}{PERIOD}", role="admin")
    page.wait_for_selector("#district-blocks .ag-row")
    wait_idle(page)
    codes = [int(row["block_lgd"]) for row in grid_rows(page, "district-blocks")]
    outline = district_outline(live_app.geo_dir / "bihar_districts.geojson", KISHANGANJ)
    upload = tmp_path / "kishanganj_blocks.geojson"
    upload.write_text(json.dumps(strips(outline, sorted(codes), prop="BLOCK_LGD", densify=0.002)), encoding="utf-8")

    page.locator("#district-boundary summary").click()
    page.locator("#district-boundary-upload input[type=file]").set_input_files(str(upload))
    status = page.locator("#district-boundary-status .alert")
    status.wait_for()
    assert status.inner_text() == f"Saved kishanganj_blocks.geojson: {len(codes)} blocks are now drawn on the map."
    page.wait_for_function("() => { const g = document.querySelector('#district-map .js-plotly-plot'); "
                           "return g && g.data && g.data.some((t) => t.name === 'Block boundaries'); }")
    wait_idle(page)
    (blocks,) = [t for t in figure_traces(page, "district-map") or [] if t["name"] == "Block boundaries"]
    assert blocks["type"] == "choroplethmap" and sorted(int(c) for c in blocks["locations"]) == sorted(codes)
    assert blocks["geojson"].startswith(f"/geo/blocks_{KISHANGANJ}.geojson?v=")
    assert any(f"/geo/blocks_{KISHANGANJ}.geojson?v=" in url for url in watched.requests)  # fetched by the map
    assert (live_app.geo_dir / f"blocks_{KISHANGANJ}.geojson").is_file()
    page.locator("#district-map").screenshot(path=str(artifacts / "04-district-block-boundaries.png"))
    watched.check_clean("the block upload")
