"""What a browser test does on the dashboard's pages: sign in through the form, wait for Dash to settle, read a
grid and a map as the page shows them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tests.auth_helpers import make_user

if TYPE_CHECKING:  # imported lazily: without Playwright the tests are skipped, not broken
    from playwright.sync_api import Page

IDLE_JS = "() => !document.querySelector('[data-dash-is-loading=\"true\"]')"

GRID_ROWS_JS = """(id) => {
  const rows = {};
  document.querySelectorAll(`#${id} .ag-row`).forEach((row) => {
    const index = Number(row.getAttribute('row-index'));
    rows[index] = rows[index] || {};
    row.querySelectorAll('.ag-cell').forEach((cell) => {
      rows[index][cell.getAttribute('col-id')] = cell.innerText.trim();
    });
  });
  return Object.keys(rows).map(Number).sort((a, b) => a - b).map((i) => rows[i]);
}"""

GRID_HEADER_JS = """(id) => Array.from(document.querySelectorAll(`#${id} .ag-header-row-column .ag-header-cell`))
  .map((cell) => [Number(cell.getAttribute('aria-colindex')), cell.getAttribute('col-id'), cell.innerText.trim()])
  .sort((a, b) => a[0] - b[0]).map((cell) => [cell[1], cell[2]])"""

FIGURE_JS = """(id) => {
  const graph = document.querySelector(`#${id} .js-plotly-plot`);
  return graph && graph.data ? graph.data.map((trace) => ({
    type: trace.type, name: trace.name || null, geojson: typeof trace.geojson === 'string' ? trace.geojson : null,
    locations: trace.locations || null, customdata: trace.customdata || null,
  })) : null;
}"""


def sign_in(page: Page, app: Any, base_url: str, next_path: str, *, role: str) -> str:
    """Create an account with ``role`` (all districts) and sign in through the real form; lands on ``next_path``."""
    account = make_user(app, role=role)
    sign_in_as(page, base_url, next_path, account)
    return account[0]


def sign_in_as(page: Page, base_url: str, next_path: str, account: tuple[str, str]) -> None:
    """Sign in with an existing (username, password) through the real form; lands on ``next_path``."""
    username, password = account
    page.goto(f"{base_url}/login?next={quote(next_path, safe='')}")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.press("#password", "Enter")


def wait_idle(page: Page) -> None:
    """No Dash component loading and no request in flight for half a second."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(IDLE_JS)
    page.wait_for_load_state("networkidle")


def grid_rows(page: Page, grid_id: str) -> list[dict[str, str]]:
    """The grid's rows in display order, each ``{column id: text shown}`` (pinned and scrolled parts merged)."""
    return page.evaluate(GRID_ROWS_JS, grid_id)


def grid_header(page: Page, grid_id: str) -> list[tuple[str, str]]:
    """(column id, header text) of the visible columns, left to right."""
    return [tuple(pair) for pair in page.evaluate(GRID_HEADER_JS, grid_id)]


def figure_traces(page: Page, graph_id: str) -> list[dict[str, Any]] | None:
    """The traces Plotly has drawn in the graph (type, name, geojson URL, locations, customdata)."""
    return page.evaluate(FIGURE_JS, graph_id)


GRID_TABLE_JS = """(id) => {
  const api = dash_ag_grid.getApi(id);
  const columns = api.getAllDisplayedColumns();
  const rows = [];
  api.forEachNodeAfterFilterAndSort((node) => {
    rows.push(columns.map((col) => {
      const text = api.getCellValue({rowNode: node, colKey: col, useFormatter: true});
      return text == null ? '' : String(text);
    }));
  });
  return {header: columns.map((col) => [col.getColId(), col.getColDef().headerName]), rows};
}"""


def grid_table(page: Page, grid_id: str) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """Every row of the grid as the grid formats it, in display order, whether or not it is scrolled into view:
    ((column id, header) of the displayed columns, rows of cell texts)."""
    table = page.evaluate(GRID_TABLE_JS, grid_id)
    return [tuple(pair) for pair in table["header"]], table["rows"]


def as_shown(value: str, kind: str) -> str:
    """A CSV cell as the grid shows a column of ``kind``: Indian digit grouping for counts, a dash for nothing."""
    assert kind in ("int", "code", "text"), f"no rule for a {kind} column yet"
    if value == "":
        return "–" if kind == "int" else ""
    if kind == "int":
        sign, digits = ("-", value[1:]) if value.startswith("-") else ("", value)
        head, tail = digits[:-3], digits[-3:]
        groups = [head[max(0, i - 2):i] for i in range(len(head), 0, -2)][::-1]
        return sign + ",".join([*groups, tail]) if head else sign + tail
    return value
