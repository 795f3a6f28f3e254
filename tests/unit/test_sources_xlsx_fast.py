"""The XLSX reader's own sheet parser against openpyxl's ``iter_rows(values_only=True)``: the same rows, numbers
and values (types included) on workbooks written by openpyxl (shared strings, rich text, dates, times, durations,
booleans, formulas, the 1904 epoch), by the demo's writer (inline strings) and by hand (rows and cells without
references, rows out of order, errors, ISO dates, empty values)."""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from etl.demo import xlsx as demo_xlsx
from etl.sources import xlsx
from etl.sources.files import read_file


def _both(path: Path) -> tuple[list, list]:
    """(rows from the fast parser, rows from openpyxl), each as (number, values) for the rows with cells."""
    wb = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    ws = wb.worksheets[0]
    fast = [(n, list(r)) for n, r in xlsx._sheet_rows(wb, ws)]
    wb.close()
    wb = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    ws = wb.worksheets[0]
    ws.reset_dimensions()
    slow = [(n, list(r)) for n, r in enumerate(ws.iter_rows(values_only=True), start=1) if len(r)]
    wb.close()
    return fast, slow


def _typed(rows: list) -> list:
    return [(n, [(type(v).__name__, v) for v in r]) for n, r in rows]


def test_src060_openpyxl_workbooks_read_the_same(tmp_path):  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    ws.append(["Consultation ID", "Start", "Age", "Rate", "Ok", "Slot", "Wait", "Note"])
    ws.append(["C1", dt.datetime(2025, 8, 1, 10, 30, 5), 34, 0.25, True, dt.time(9, 15), dt.timedelta(hours=30), None])
    ws.append(["C2", dt.date(2024, 1, 31), -0.0, 1e20, False, None, None, "महिला & <x>"])
    ws.append([None, None, "=1+1", 1e-7])  # a formula without a cached value reads as None
    ws["H3"].number_format = "0.00%"
    ws.cell(row=9, column=3, value="after a gap")
    ws.cell(row=10, column=12, value=12.5)
    ws.cell(row=11, column=1, value=CellRichText("plain ", TextBlock(InlineFont(b=True), "bold"), " tail"))
    ws.cell(row=12, column=2, value="  spaced  ")
    ws.cell(row=13, column=1, value=dt.datetime(1900, 1, 1, 0, 0))
    ws.cell(row=13, column=2, value=dt.datetime(2025, 8, 1, 23, 59, 59, 600000))
    path = tmp_path / "o.xlsx"
    wb.save(path)
    fast, slow = _both(path)
    assert _typed(fast) == _typed(slow) and [n for n, _ in fast] == [1, 2, 3, 4, 9, 10, 11, 12, 13]

    wb.epoch = CALENDAR_MAC_1904
    mac = tmp_path / "mac.xlsx"
    wb.save(mac)
    fast, slow = _both(mac)
    assert _typed(fast) == _typed(slow)
    assert fast[1][1][1] == dt.datetime(2025, 8, 1, 10, 30, 5)


def test_src061_random_cells_read_the_same(tmp_path):  # type: ignore[no-untyped-def]
    rng = random.Random(61)
    makers = [
        lambda: rng.choice(["", "x", "आयु", "a,b", "1.5", "TRUE", "  "]) + str(rng.randint(0, 99)),
        lambda: rng.randint(-10**12, 10**12),
        lambda: rng.uniform(-1e6, 1e6),
        lambda: rng.choice([True, False]),
        lambda: None,
        lambda: dt.datetime(2019, 1, 1) + dt.timedelta(seconds=rng.randint(0, 10**8)),
        lambda: dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 3000)),
        lambda: dt.time(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)),
    ]
    wb = Workbook()
    ws = wb.active
    for r in range(1, 301):
        if rng.random() < 0.1:
            continue  # a missing row
        for c in range(1, rng.randint(1, 12)):
            if rng.random() < 0.8:
                ws.cell(row=r, column=c, value=rng.choice(makers)())
    path = tmp_path / "r.xlsx"
    wb.save(path)
    fast, slow = _both(path)
    assert _typed(fast) == _typed(slow) and len(fast) > 200


def test_src062_demo_inline_strings_read_the_same(tmp_path):  # type: ignore[no-untyped-def]
    columns = [demo_xlsx.Column("Consultation ID", ["C1", "C2", "", "C&4"]),
               demo_xlsx.Column("Age", [34, 5.5, None, 0], kind="number"),
               demo_xlsx.Column("Start", [dt.datetime(2025, 8, 1, 9, 30), None, dt.datetime(2025, 8, 2), None],
                                kind="datetime")]
    path = demo_xlsx.write_xlsx(tmp_path / "d.xlsx", columns, sheet="Consultations")
    fast, slow = _both(path)
    assert _typed(fast) == _typed(slow) and fast[0] == (1, ["Consultation ID", "Age", "Start"])


def _workbook_with_sheet(path: Path, sheet_data: str, styles: str | None = None) -> Path:
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"<sheetData>{sheet_data}</sheetData></worksheet>")
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
    parts = {"[Content_Types].xml": demo_xlsx._CONTENT_TYPES, "_rels/.rels": demo_xlsx._ROOT_RELS,
             "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": demo_xlsx._WORKBOOK_RELS,
             "xl/styles.xml": styles or demo_xlsx._STYLES, "xl/worksheets/sheet1.xml": sheet}
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in parts.items():
            zf.writestr(name, text.encode("utf-8"))
    return path


def test_src063_hand_written_sheets_read_the_same(tmp_path):  # type: ignore[no-untyped-def]
    sheet_data = (
        '<row><c t="inlineStr"><is><t>id</t></is></c><c t="inlineStr"><is><t>v</t></is></c></row>'
        '<row><c><v>1</v></c><c t="e"><v>#N/A</v></c><c t="str"><v>formula text</v></c></row>'
        '<row r="5"><c r="C5" t="b"><v>1</v></c><c><v>2.5E3</v></c><c r="A5"><v>7</v></c></row>'
        '<row r="4"><c r="A4"><v>4</v></c></row>'
        '<row r="5"><c r="A5"><v>99</v></c></row>'
        '<row r="7.0"><c r="B7" t="d"><v>2025-08-01T10:30:00</v></c><c r="D7"><v></v></c><c r="E7"/></row>'
        '<row r="8"><c r="A8" t="inlineStr"><is><r><t>a</t></r><r><rPr/><t xml:space="preserve"> b </t></r>'
        '<rPh sb="0" eb="1"><t>phonetic</t></rPh></is></c><c r="B8" t="inlineStr"/>'
        '<c r="C8" s="1"><v>45870.5</v></c><c r="D8" s="1"><v>0.75</v></c><c r="E8" s="1"><v>99999999</v></c></row>'
        '<row r="9"/>'
        '<row r="10"><c r="AA10"><v>-3</v></c></row>'
    )
    path = _workbook_with_sheet(tmp_path / "h.xlsx", sheet_data)
    with pytest.warns(UserWarning):  # openpyxl warns of the date serial out of range; both read "#VALUE!"
        fast, slow = _both(path)
    assert _typed(fast) == _typed(slow)
    assert [n for n, _ in fast] == [1, 2, 5, 7, 8, 10]
    assert fast[4][1][:2] == ["a b ", None] and fast[4][1][4] == "#VALUE!"


def test_src064_a_broken_cell_rejects_the_workbook(tmp_path):  # type: ignore[no-untyped-def]
    path = _workbook_with_sheet(tmp_path / "b.xlsx", '<row><c t="inlineStr"><is><t>id</t></is></c></row>'
                                                     '<row><c><v>twelve</v></c></row>')
    with pytest.raises(Exception) as caught:
        list(read_file(path))
    assert "corrupt" in str(caught.value)
    broken = _workbook_with_sheet(tmp_path / "x.xlsx", '<row><c t="inlineStr"><is><t>id</t></is></c></row><row>')
    with pytest.raises(Exception) as caught:
        list(read_file(broken))
    assert "corrupt" in str(caught.value)
